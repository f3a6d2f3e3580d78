// Types of node-drm-gbm-egl. The GL binding is shaped like WebGL 1 so it reads
// familiar; GL object handles are plain numbers with a brand, for type safety.

/** A GL object name (texture, buffer, ...) as returned by the create* calls. */
export type GLHandle<Kind extends string> = number & { readonly __glKind: Kind };
export type GLShader = GLHandle<'shader'>;
export type GLProgram = GLHandle<'program'>;
export type GLTexture = GLHandle<'texture'>;
export type GLFramebuffer = GLHandle<'framebuffer'>;
export type GLRenderbuffer = GLHandle<'renderbuffer'>;
export type GLBuffer = GLHandle<'buffer'>;
export type GLUniformLocation = GLHandle<'uniform'>;

/** Raised for a GL error flag after a call: `name` is e.g. `GL_INVALID_ENUM`. */
export class GLError extends Error {
  readonly name: 'GLError';
  readonly code: number;
  readonly glName: string;
  readonly call: string;
}

/** Raised when a shader does not compile or a program does not link; carries the driver's info log. */
export class GLShaderError extends Error {
  readonly name: 'GLShaderError';
  readonly infoLog: string;
}

export interface ProgramBinary {
  format: number;
  binary: Buffer;
}

/** The names of the GL constants (TEXTURE_2D, RGBA, ...), for looking one up by name: `gl[name]`. */
export type GLConstantName = {
  [K in keyof GL]: K extends Uppercase<K> ? (GL[K] extends number ? K : never) : never;
}[keyof GL];

/** Range and precision of a shader precision qualifier (log2 values, as GL reports them). */
export interface ShaderPrecisionFormat {
  rangeMin: number;
  rangeMax: number;
  precision: number;
}

/**
 * The OpenGL ES 2.0 binding. Every call acts on the context of the display it
 * came from (the context that is current on the calling thread). GL errors are
 * checked after each call and raised as GLError. Arguments of the wrong type
 * raise TypeError; pixel arrays too short for the image raise Error (GL never
 * reads or writes past the end of a JS array).
 */
export interface GL {
  // ---- constants: every GLES2 constant (GLES2/gl2.h, no GL_ prefix), then extension ones ----
  readonly DEPTH_BUFFER_BIT: number;
  readonly STENCIL_BUFFER_BIT: number;
  readonly COLOR_BUFFER_BIT: number;
  readonly FALSE: number;
  readonly TRUE: number;
  readonly POINTS: number;
  readonly LINES: number;
  readonly LINE_LOOP: number;
  readonly LINE_STRIP: number;
  readonly TRIANGLES: number;
  readonly TRIANGLE_STRIP: number;
  readonly TRIANGLE_FAN: number;
  readonly ZERO: number;
  readonly ONE: number;
  readonly SRC_COLOR: number;
  readonly ONE_MINUS_SRC_COLOR: number;
  readonly SRC_ALPHA: number;
  readonly ONE_MINUS_SRC_ALPHA: number;
  readonly DST_ALPHA: number;
  readonly ONE_MINUS_DST_ALPHA: number;
  readonly DST_COLOR: number;
  readonly ONE_MINUS_DST_COLOR: number;
  readonly SRC_ALPHA_SATURATE: number;
  readonly FUNC_ADD: number;
  readonly BLEND_EQUATION: number;
  readonly BLEND_EQUATION_RGB: number;
  readonly BLEND_EQUATION_ALPHA: number;
  readonly FUNC_SUBTRACT: number;
  readonly FUNC_REVERSE_SUBTRACT: number;
  readonly BLEND_DST_RGB: number;
  readonly BLEND_SRC_RGB: number;
  readonly BLEND_DST_ALPHA: number;
  readonly BLEND_SRC_ALPHA: number;
  readonly CONSTANT_COLOR: number;
  readonly ONE_MINUS_CONSTANT_COLOR: number;
  readonly CONSTANT_ALPHA: number;
  readonly ONE_MINUS_CONSTANT_ALPHA: number;
  readonly BLEND_COLOR: number;
  readonly ARRAY_BUFFER: number;
  readonly ELEMENT_ARRAY_BUFFER: number;
  readonly ARRAY_BUFFER_BINDING: number;
  readonly ELEMENT_ARRAY_BUFFER_BINDING: number;
  readonly STREAM_DRAW: number;
  readonly STATIC_DRAW: number;
  readonly DYNAMIC_DRAW: number;
  readonly BUFFER_SIZE: number;
  readonly BUFFER_USAGE: number;
  readonly CURRENT_VERTEX_ATTRIB: number;
  readonly FRONT: number;
  readonly BACK: number;
  readonly FRONT_AND_BACK: number;
  readonly TEXTURE_2D: number;
  readonly CULL_FACE: number;
  readonly BLEND: number;
  readonly DITHER: number;
  readonly STENCIL_TEST: number;
  readonly DEPTH_TEST: number;
  readonly SCISSOR_TEST: number;
  readonly POLYGON_OFFSET_FILL: number;
  readonly SAMPLE_ALPHA_TO_COVERAGE: number;
  readonly SAMPLE_COVERAGE: number;
  readonly NO_ERROR: number;
  readonly INVALID_ENUM: number;
  readonly INVALID_VALUE: number;
  readonly INVALID_OPERATION: number;
  readonly OUT_OF_MEMORY: number;
  readonly CW: number;
  readonly CCW: number;
  readonly LINE_WIDTH: number;
  readonly ALIASED_POINT_SIZE_RANGE: number;
  readonly ALIASED_LINE_WIDTH_RANGE: number;
  readonly CULL_FACE_MODE: number;
  readonly FRONT_FACE: number;
  readonly DEPTH_RANGE: number;
  readonly DEPTH_WRITEMASK: number;
  readonly DEPTH_CLEAR_VALUE: number;
  readonly DEPTH_FUNC: number;
  readonly STENCIL_CLEAR_VALUE: number;
  readonly STENCIL_FUNC: number;
  readonly STENCIL_FAIL: number;
  readonly STENCIL_PASS_DEPTH_FAIL: number;
  readonly STENCIL_PASS_DEPTH_PASS: number;
  readonly STENCIL_REF: number;
  readonly STENCIL_VALUE_MASK: number;
  readonly STENCIL_WRITEMASK: number;
  readonly STENCIL_BACK_FUNC: number;
  readonly STENCIL_BACK_FAIL: number;
  readonly STENCIL_BACK_PASS_DEPTH_FAIL: number;
  readonly STENCIL_BACK_PASS_DEPTH_PASS: number;
  readonly STENCIL_BACK_REF: number;
  readonly STENCIL_BACK_VALUE_MASK: number;
  readonly STENCIL_BACK_WRITEMASK: number;
  readonly VIEWPORT: number;
  readonly SCISSOR_BOX: number;
  readonly COLOR_CLEAR_VALUE: number;
  readonly COLOR_WRITEMASK: number;
  readonly UNPACK_ALIGNMENT: number;
  readonly PACK_ALIGNMENT: number;
  readonly MAX_TEXTURE_SIZE: number;
  readonly MAX_VIEWPORT_DIMS: number;
  readonly SUBPIXEL_BITS: number;
  readonly RED_BITS: number;
  readonly GREEN_BITS: number;
  readonly BLUE_BITS: number;
  readonly ALPHA_BITS: number;
  readonly DEPTH_BITS: number;
  readonly STENCIL_BITS: number;
  readonly POLYGON_OFFSET_UNITS: number;
  readonly POLYGON_OFFSET_FACTOR: number;
  readonly TEXTURE_BINDING_2D: number;
  readonly SAMPLE_BUFFERS: number;
  readonly SAMPLES: number;
  readonly SAMPLE_COVERAGE_VALUE: number;
  readonly SAMPLE_COVERAGE_INVERT: number;
  readonly NUM_COMPRESSED_TEXTURE_FORMATS: number;
  readonly COMPRESSED_TEXTURE_FORMATS: number;
  readonly DONT_CARE: number;
  readonly FASTEST: number;
  readonly NICEST: number;
  readonly GENERATE_MIPMAP_HINT: number;
  readonly BYTE: number;
  readonly UNSIGNED_BYTE: number;
  readonly SHORT: number;
  readonly UNSIGNED_SHORT: number;
  readonly INT: number;
  readonly UNSIGNED_INT: number;
  readonly FLOAT: number;
  readonly FIXED: number;
  readonly DEPTH_COMPONENT: number;
  readonly ALPHA: number;
  readonly RGB: number;
  readonly RGBA: number;
  readonly LUMINANCE: number;
  readonly LUMINANCE_ALPHA: number;
  readonly UNSIGNED_SHORT_4_4_4_4: number;
  readonly UNSIGNED_SHORT_5_5_5_1: number;
  readonly UNSIGNED_SHORT_5_6_5: number;
  readonly FRAGMENT_SHADER: number;
  readonly VERTEX_SHADER: number;
  readonly MAX_VERTEX_ATTRIBS: number;
  readonly MAX_VERTEX_UNIFORM_VECTORS: number;
  readonly MAX_VARYING_VECTORS: number;
  readonly MAX_COMBINED_TEXTURE_IMAGE_UNITS: number;
  readonly MAX_VERTEX_TEXTURE_IMAGE_UNITS: number;
  readonly MAX_TEXTURE_IMAGE_UNITS: number;
  readonly MAX_FRAGMENT_UNIFORM_VECTORS: number;
  readonly SHADER_TYPE: number;
  readonly DELETE_STATUS: number;
  readonly LINK_STATUS: number;
  readonly VALIDATE_STATUS: number;
  readonly ATTACHED_SHADERS: number;
  readonly ACTIVE_UNIFORMS: number;
  readonly ACTIVE_UNIFORM_MAX_LENGTH: number;
  readonly ACTIVE_ATTRIBUTES: number;
  readonly ACTIVE_ATTRIBUTE_MAX_LENGTH: number;
  readonly SHADING_LANGUAGE_VERSION: number;
  readonly CURRENT_PROGRAM: number;
  readonly NEVER: number;
  readonly LESS: number;
  readonly EQUAL: number;
  readonly LEQUAL: number;
  readonly GREATER: number;
  readonly NOTEQUAL: number;
  readonly GEQUAL: number;
  readonly ALWAYS: number;
  readonly KEEP: number;
  readonly REPLACE: number;
  readonly INCR: number;
  readonly DECR: number;
  readonly INVERT: number;
  readonly INCR_WRAP: number;
  readonly DECR_WRAP: number;
  readonly VENDOR: number;
  readonly RENDERER: number;
  readonly VERSION: number;
  readonly EXTENSIONS: number;
  readonly NEAREST: number;
  readonly LINEAR: number;
  readonly NEAREST_MIPMAP_NEAREST: number;
  readonly LINEAR_MIPMAP_NEAREST: number;
  readonly NEAREST_MIPMAP_LINEAR: number;
  readonly LINEAR_MIPMAP_LINEAR: number;
  readonly TEXTURE_MAG_FILTER: number;
  readonly TEXTURE_MIN_FILTER: number;
  readonly TEXTURE_WRAP_S: number;
  readonly TEXTURE_WRAP_T: number;
  readonly TEXTURE: number;
  readonly TEXTURE_CUBE_MAP: number;
  readonly TEXTURE_BINDING_CUBE_MAP: number;
  readonly TEXTURE_CUBE_MAP_POSITIVE_X: number;
  readonly TEXTURE_CUBE_MAP_NEGATIVE_X: number;
  readonly TEXTURE_CUBE_MAP_POSITIVE_Y: number;
  readonly TEXTURE_CUBE_MAP_NEGATIVE_Y: number;
  readonly TEXTURE_CUBE_MAP_POSITIVE_Z: number;
  readonly TEXTURE_CUBE_MAP_NEGATIVE_Z: number;
  readonly MAX_CUBE_MAP_TEXTURE_SIZE: number;
  readonly TEXTURE0: number;
  readonly TEXTURE1: number;
  readonly TEXTURE2: number;
  readonly TEXTURE3: number;
  readonly TEXTURE4: number;
  readonly TEXTURE5: number;
  readonly TEXTURE6: number;
  readonly TEXTURE7: number;
  readonly TEXTURE8: number;
  readonly TEXTURE9: number;
  readonly TEXTURE10: number;
  readonly TEXTURE11: number;
  readonly TEXTURE12: number;
  readonly TEXTURE13: number;
  readonly TEXTURE14: number;
  readonly TEXTURE15: number;
  readonly TEXTURE16: number;
  readonly TEXTURE17: number;
  readonly TEXTURE18: number;
  readonly TEXTURE19: number;
  readonly TEXTURE20: number;
  readonly TEXTURE21: number;
  readonly TEXTURE22: number;
  readonly TEXTURE23: number;
  readonly TEXTURE24: number;
  readonly TEXTURE25: number;
  readonly TEXTURE26: number;
  readonly TEXTURE27: number;
  readonly TEXTURE28: number;
  readonly TEXTURE29: number;
  readonly TEXTURE30: number;
  readonly TEXTURE31: number;
  readonly ACTIVE_TEXTURE: number;
  readonly REPEAT: number;
  readonly CLAMP_TO_EDGE: number;
  readonly MIRRORED_REPEAT: number;
  readonly FLOAT_VEC2: number;
  readonly FLOAT_VEC3: number;
  readonly FLOAT_VEC4: number;
  readonly INT_VEC2: number;
  readonly INT_VEC3: number;
  readonly INT_VEC4: number;
  readonly BOOL: number;
  readonly BOOL_VEC2: number;
  readonly BOOL_VEC3: number;
  readonly BOOL_VEC4: number;
  readonly FLOAT_MAT2: number;
  readonly FLOAT_MAT3: number;
  readonly FLOAT_MAT4: number;
  readonly SAMPLER_2D: number;
  readonly SAMPLER_CUBE: number;
  readonly VERTEX_ATTRIB_ARRAY_ENABLED: number;
  readonly VERTEX_ATTRIB_ARRAY_SIZE: number;
  readonly VERTEX_ATTRIB_ARRAY_STRIDE: number;
  readonly VERTEX_ATTRIB_ARRAY_TYPE: number;
  readonly VERTEX_ATTRIB_ARRAY_NORMALIZED: number;
  readonly VERTEX_ATTRIB_ARRAY_POINTER: number;
  readonly VERTEX_ATTRIB_ARRAY_BUFFER_BINDING: number;
  readonly IMPLEMENTATION_COLOR_READ_TYPE: number;
  readonly IMPLEMENTATION_COLOR_READ_FORMAT: number;
  readonly COMPILE_STATUS: number;
  readonly INFO_LOG_LENGTH: number;
  readonly SHADER_SOURCE_LENGTH: number;
  readonly SHADER_COMPILER: number;
  readonly SHADER_BINARY_FORMATS: number;
  readonly NUM_SHADER_BINARY_FORMATS: number;
  readonly LOW_FLOAT: number;
  readonly MEDIUM_FLOAT: number;
  readonly HIGH_FLOAT: number;
  readonly LOW_INT: number;
  readonly MEDIUM_INT: number;
  readonly HIGH_INT: number;
  readonly FRAMEBUFFER: number;
  readonly RENDERBUFFER: number;
  readonly RGBA4: number;
  readonly RGB5_A1: number;
  readonly RGB565: number;
  readonly DEPTH_COMPONENT16: number;
  readonly STENCIL_INDEX8: number;
  readonly RENDERBUFFER_WIDTH: number;
  readonly RENDERBUFFER_HEIGHT: number;
  readonly RENDERBUFFER_INTERNAL_FORMAT: number;
  readonly RENDERBUFFER_RED_SIZE: number;
  readonly RENDERBUFFER_GREEN_SIZE: number;
  readonly RENDERBUFFER_BLUE_SIZE: number;
  readonly RENDERBUFFER_ALPHA_SIZE: number;
  readonly RENDERBUFFER_DEPTH_SIZE: number;
  readonly RENDERBUFFER_STENCIL_SIZE: number;
  readonly FRAMEBUFFER_ATTACHMENT_OBJECT_TYPE: number;
  readonly FRAMEBUFFER_ATTACHMENT_OBJECT_NAME: number;
  readonly FRAMEBUFFER_ATTACHMENT_TEXTURE_LEVEL: number;
  readonly FRAMEBUFFER_ATTACHMENT_TEXTURE_CUBE_MAP_FACE: number;
  readonly COLOR_ATTACHMENT0: number;
  readonly DEPTH_ATTACHMENT: number;
  readonly STENCIL_ATTACHMENT: number;
  readonly NONE: number;
  readonly FRAMEBUFFER_COMPLETE: number;
  readonly FRAMEBUFFER_INCOMPLETE_ATTACHMENT: number;
  readonly FRAMEBUFFER_INCOMPLETE_MISSING_ATTACHMENT: number;
  readonly FRAMEBUFFER_INCOMPLETE_DIMENSIONS: number;
  readonly FRAMEBUFFER_UNSUPPORTED: number;
  readonly FRAMEBUFFER_BINDING: number;
  readonly RENDERBUFFER_BINDING: number;
  readonly MAX_RENDERBUFFER_SIZE: number;
  readonly INVALID_FRAMEBUFFER_OPERATION: number;
  // OES_rgb8_rgba8
  readonly RGB8_OES: number;
  readonly RGBA8_OES: number;
  // OES_packed_depth_stencil
  readonly DEPTH24_STENCIL8_OES: number;
  // OES_texture_half_float
  readonly HALF_FLOAT_OES: number;
  // EXT_texture_format_BGRA8888
  readonly BGRA_EXT: number;
  // OES_get_program_binary
  readonly PROGRAM_BINARY_LENGTH_OES: number;
  readonly NUM_PROGRAM_BINARY_FORMATS_OES: number;
  readonly PROGRAM_BINARY_FORMATS_OES: number;
  // EXT_draw_buffers
  readonly MAX_DRAW_BUFFERS_EXT: number;
  readonly MAX_COLOR_ATTACHMENTS_EXT: number;
  readonly DRAW_BUFFER0_EXT: number;
  readonly DRAW_BUFFER1_EXT: number;
  readonly DRAW_BUFFER2_EXT: number;
  readonly DRAW_BUFFER3_EXT: number;
  readonly DRAW_BUFFER4_EXT: number;
  readonly DRAW_BUFFER5_EXT: number;
  readonly DRAW_BUFFER6_EXT: number;
  readonly DRAW_BUFFER7_EXT: number;
  readonly COLOR_ATTACHMENT0_EXT: number;
  readonly COLOR_ATTACHMENT1_EXT: number;
  readonly COLOR_ATTACHMENT2_EXT: number;
  readonly COLOR_ATTACHMENT3_EXT: number;
  readonly COLOR_ATTACHMENT4_EXT: number;
  readonly COLOR_ATTACHMENT5_EXT: number;
  readonly COLOR_ATTACHMENT6_EXT: number;
  readonly COLOR_ATTACHMENT7_EXT: number;

  /** The framebuffer that `bindFramebuffer(FRAMEBUFFER, null)` binds: the screen (headless: the current back buffer). */
  readonly defaultFramebuffer: number;

  getError(): number;
  /**
   * Strings for VENDOR, RENDERER, VERSION, SHADING_LANGUAGE_VERSION; number[] for MAX_VIEWPORT_DIMS,
   * VIEWPORT, SCISSOR_BOX, COLOR_CLEAR_VALUE, BLEND_COLOR, DEPTH_RANGE, ALIASED_*_RANGE; boolean[]
   * for COLOR_WRITEMASK; boolean for capabilities (BLEND, STENCIL_TEST, ...); else a number
   * (limits such as MAX_TEXTURE_SIZE, bindings, enums).
   */
  getParameter(pname: number): number | number[] | boolean[] | string | boolean;
  /** shaderType VERTEX_SHADER / FRAGMENT_SHADER; precisionType LOW_FLOAT ... HIGH_INT. */
  getShaderPrecisionFormat(shaderType: number, precisionType: number): ShaderPrecisionFormat;
  /** The GL extension names, e.g. GL_OES_texture_float. */
  getSupportedExtensions(): string[];
  isEnabled(cap: number): boolean;
  finish(): void;
  flush(): void;

  createShader(type: number): GLShader;
  shaderSource(shader: GLShader, source: string): void;
  /** Throws GLShaderError with the info log when compilation fails. */
  compileShader(shader: GLShader): void;
  getShaderInfoLog(shader: GLShader): string;
  /** COMPILE_STATUS / DELETE_STATUS as booleans, SHADER_TYPE / INFO_LOG_LENGTH / SHADER_SOURCE_LENGTH as numbers. */
  getShaderParameter(shader: GLShader, pname: number): number | boolean;
  deleteShader(shader: GLShader): void;

  createProgram(): GLProgram;
  attachShader(program: GLProgram, shader: GLShader): void;
  bindAttribLocation(program: GLProgram, index: number, name: string): void;
  /** Throws GLShaderError with the info log when linking fails. */
  linkProgram(program: GLProgram): void;
  getProgramInfoLog(program: GLProgram): string;
  /** LINK_STATUS / DELETE_STATUS / VALIDATE_STATUS as booleans, counts (ACTIVE_UNIFORMS ...) as numbers. */
  getProgramParameter(program: GLProgram, pname: number): number | boolean;
  useProgram(program: GLProgram | null): void;
  deleteProgram(program: GLProgram): void;
  getAttribLocation(program: GLProgram, name: string): number;
  getUniformLocation(program: GLProgram, name: string): GLUniformLocation | null;

  /** OES_get_program_binary: formats the driver offers (empty when none). */
  getProgramBinaryFormats(): number[];
  /** The linked program's binary, or null when the driver has no program binaries. */
  getProgramBinary(program: GLProgram): ProgramBinary | null;
  /** Loads a binary into `program`; false when the driver rejects it (recompile from source then). */
  programBinary(program: GLProgram, format: number, binary: Uint8Array): boolean;

  uniform1i(location: GLUniformLocation | null, x: number): void;
  uniform2i(location: GLUniformLocation | null, x: number, y: number): void;
  uniform1f(location: GLUniformLocation | null, x: number): void;
  uniform2f(location: GLUniformLocation | null, x: number, y: number): void;
  uniform3f(location: GLUniformLocation | null, x: number, y: number, z: number): void;
  uniform4f(location: GLUniformLocation | null, x: number, y: number, z: number, w: number): void;
  uniform1fv(location: GLUniformLocation | null, v: Float32Array | number[]): void;
  uniform2fv(location: GLUniformLocation | null, v: Float32Array | number[]): void;
  uniform3fv(location: GLUniformLocation | null, v: Float32Array | number[]): void;
  uniform4fv(location: GLUniformLocation | null, v: Float32Array | number[]): void;
  uniformMatrix2fv(location: GLUniformLocation | null, transpose: false, v: Float32Array | number[]): void;
  uniformMatrix3fv(location: GLUniformLocation | null, transpose: false, v: Float32Array | number[]): void;
  uniformMatrix4fv(location: GLUniformLocation | null, transpose: false, v: Float32Array | number[]): void;

  createTexture(): GLTexture;
  bindTexture(target: number, texture: GLTexture | null): void;
  activeTexture(unit: number): void;
  texParameteri(target: number, pname: number, param: number): void;
  pixelStorei(pname: number, param: number): void;
  /**
   * `pixels` null allocates storage without data. Rows are bottom-up in GL terms (row 0 = y 0),
   * each padded to UNPACK_ALIGNMENT (default 4: use pixelStorei(UNPACK_ALIGNMENT, 1) for tightly
   * packed LUMINANCE or RGB rows). Formats RGBA, RGB, LUMINANCE, LUMINANCE_ALPHA, ALPHA with
   * UNSIGNED_BYTE (also the packed 16-bit types, HALF_FLOAT_OES and FLOAT where the driver has them).
   */
  texImage2D(target: number, level: number, internalFormat: number, width: number, height: number,
    border: number, format: number, type: number, pixels: ArrayBufferView | null): void;
  texSubImage2D(target: number, level: number, x: number, y: number, width: number, height: number,
    format: number, type: number, pixels: ArrayBufferView): void;
  copyTexSubImage2D(target: number, level: number, xoffset: number, yoffset: number,
    x: number, y: number, width: number, height: number): void;
  generateMipmap(target: number): void;
  deleteTexture(texture: GLTexture): void;

  createFramebuffer(): GLFramebuffer;
  /** null binds `defaultFramebuffer` (the screen, or the headless display's offscreen buffer). */
  bindFramebuffer(target: number, framebuffer: GLFramebuffer | null): void;
  framebufferTexture2D(target: number, attachment: number, texTarget: number, texture: GLTexture | null, level: number): void;
  framebufferRenderbuffer(target: number, attachment: number, rbTarget: number, renderbuffer: GLRenderbuffer | null): void;
  checkFramebufferStatus(target: number): number;
  deleteFramebuffer(framebuffer: GLFramebuffer): void;

  createRenderbuffer(): GLRenderbuffer;
  bindRenderbuffer(target: number, renderbuffer: GLRenderbuffer | null): void;
  renderbufferStorage(target: number, internalFormat: number, width: number, height: number): void;
  deleteRenderbuffer(renderbuffer: GLRenderbuffer): void;

  createBuffer(): GLBuffer;
  bindBuffer(target: number, buffer: GLBuffer | null): void;
  bufferData(target: number, dataOrSize: ArrayBufferView | number, usage: number): void;
  bufferSubData(target: number, offset: number, data: ArrayBufferView): void;
  deleteBuffer(buffer: GLBuffer): void;
  enableVertexAttribArray(index: number): void;
  disableVertexAttribArray(index: number): void;
  /** Needs an ARRAY_BUFFER bound (client-side arrays are refused, as in WebGL). */
  vertexAttribPointer(index: number, size: number, type: number, normalized: boolean, stride: number, offset: number): void;
  vertexAttrib4f(index: number, x: number, y: number, z: number, w: number): void;

  /** Refuses (Error) to draw when an enabled attribute array has no buffer, instead of reading client memory. */
  drawArrays(mode: number, first: number, count: number): void;
  /** Needs an ELEMENT_ARRAY_BUFFER bound. */
  drawElements(mode: number, count: number, type: number, offset: number): void;
  /**
   * EXT_draw_buffers (glDrawBuffersEXT): buffers[i] (COLOR_ATTACHMENTi_EXT or NONE) receives
   * gl_FragData[i] of the bound framebuffer; at most MAX_DRAW_BUFFERS_EXT entries. Throws an
   * Error when the GL lacks GL_EXT_draw_buffers (vc4, Pi 0-3): check getSupportedExtensions().
   */
  drawBuffers(buffers: number[]): void;

  viewport(x: number, y: number, width: number, height: number): void;
  scissor(x: number, y: number, width: number, height: number): void;
  enable(cap: number): void;
  disable(cap: number): void;
  blendFunc(sfactor: number, dfactor: number): void;
  blendFuncSeparate(srcRGB: number, dstRGB: number, srcAlpha: number, dstAlpha: number): void;
  blendEquation(mode: number): void;
  blendEquationSeparate(modeRGB: number, modeAlpha: number): void;
  blendColor(r: number, g: number, b: number, a: number): void;
  colorMask(r: boolean, g: boolean, b: boolean, a: boolean): void;
  depthFunc(func: number): void;
  depthMask(flag: boolean): void;
  clearDepth(depth: number): void;
  cullFace(mode: number): void;
  frontFace(mode: number): void;
  stencilFunc(func: number, ref: number, mask: number): void;
  stencilFuncSeparate(face: number, func: number, ref: number, mask: number): void;
  stencilOp(fail: number, zfail: number, zpass: number): void;
  stencilOpSeparate(face: number, fail: number, zfail: number, zpass: number): void;
  stencilMask(mask: number): void;
  stencilMaskSeparate(face: number, mask: number): void;
  clearStencil(s: number): void;
  clearColor(r: number, g: number, b: number, a: number): void;
  clear(mask: number): void;

  /**
   * Reads pixels (GL order: bottom row first, rows padded to PACK_ALIGNMENT) into `out` when
   * given (returned as a Buffer over the same memory), else into a new Buffer.
   */
  readPixels(x: number, y: number, width: number, height: number, format: number, type: number, out?: ArrayBufferView): Buffer;
}

export interface DisplayInfo {
  /** 'kms' on a real screen, 'headless' on the surfaceless platform. */
  backend: 'kms' | 'headless';
  /** e.g. /dev/dri/card1 (KMS only). */
  card?: string;
  /** Kernel driver of the KMS card, e.g. vc4, virtio_gpu (KMS only). */
  driver?: string;
  /** e.g. HDMI-A-1 (KMS only). */
  connector?: string;
  /** e.g. 3840x2160@60 */
  mode: string;
  glRenderer: string;
  glVersion: string;
  glVendor: string;
  eglVersion: string;
}

export interface Display {
  readonly width: number;
  readonly height: number;
  readonly refreshHz: number;
  readonly info: DisplayInfo;
  readonly gl: GL;
  /**
   * Shows what was drawn into the default framebuffer. KMS: swap + page flip, resolved on the
   * page-flip event (the DRM fd is polled by libuv). Headless: the frame becomes the one
   * `readPixels` returns.
   */
  present(): Promise<void>;
  /** RGBA bytes of the last presented frame, top row first (headless only; KMS throws). */
  readPixels(): Buffer;
  /** Releases everything; KMS restores the CRTC that was there before. Idempotent. */
  close(): void;
  /**
   * KMS only: whether the screen is connected now and the modes it offers, as the kernel last
   * probed them (no re-probe: HDMI hot-plug, the kernel's connector poll or a status forced in
   * /sys/class/drm keep the status current; the mode list may still be an earlier screen's, which
   * is why setMode probes). Cheap enough to call every second or two.
   */
  connectorState?(): { connected: boolean; modes: ModeInfo[] };
  /**
   * KMS only: how many frames ago the buffer drawn next was last presented (EGL_EXT_buffer_age):
   * 1 = it holds the previous frame; 0 = its content is unknown (or the driver cannot say).
   * A frame that has not changed for that many frames need not be drawn again.
   */
  bufferAge?(): number;
  /** KMS only: the screen went away; the CRTC stops scanning out and the next present() sets the mode again. */
  suspend?(): void;
  /**
   * KMS only, while suspended: the next present() sets this mode ('WxH' or 'WxH@Hz' as openDisplay
   * takes it; '' the preferred one), chosen from the connector's modes probed again (the screen may be
   * another one). A new size gets new buffers, and `width`, `height`, `info` change;
   * the GL context and its objects stay. Throws DisplayError 'mode-not-available' with the modes offered.
   */
  setMode?(mode: string): void;
}

export interface ModeInfo {
  width: number;
  height: number;
  refreshHz: number;
  preferred: boolean;
  interlaced: boolean;
  /** e.g. 1920x1080@60, 1920x1080@59.94, 1920x1080i@50 (refresh rounded to 2 decimals) */
  name: string;
}

/** What a connector shows right now. */
export interface CrtcState {
  /** The CRTC driving the connector. */
  id: number;
  /** The framebuffer it scans out (0 when none), e.g. the text console's. */
  fbId: number;
  /** e.g. 1920x1080@60, null when the CRTC is off. */
  mode: string | null;
}

export interface ConnectorInfo {
  id: number;
  /** e.g. HDMI-A-1, Virtual-1 */
  name: string;
  connected: boolean;
  /** Modes the screen offers, in the kernel's order (preferred first). */
  modes: ModeInfo[];
  /** The CRTC it is shown on now; null when it is off. */
  crtc: CrtcState | null;
}

export interface CardInfo {
  /** e.g. /dev/dri/card0 */
  path: string;
  driver: string;
  /** true when the card has KMS resources (CRTCs, connectors): it can drive a screen. */
  canModeset: boolean;
  connectors: ConnectorInfo[];
  /** Why the card could not be inspected, when it could not. */
  error?: string;
}

export interface OpenDisplayOptions {
  /** '/dev/dri/card1' or 'card1'; default: probe every primary node. */
  card?: string;
  /** e.g. 'HDMI-A-1'; default: the first connected connector. */
  connector?: string;
  /**
   * 'WxH' (the preferred, else the fastest mode of that size) or 'WxH@Hz' (the closest refresh
   * within 0.5 Hz, so '@60' also finds 59.94); default: the preferred mode.
   */
  mode?: string;
}

export interface OpenHeadlessOptions {
  width: number;
  height: number;
}

/** Describes every DRM primary node (/dev/dri/card*). Never throws for one bad card. */
export function listCards(): CardInfo[];
/**
 * Opens a screen through DRM/KMS + GBM + EGL + GLES2 and makes its GL context current on the
 * calling thread (main or worker). Throws DisplayError with advice.
 */
export function openDisplay(options?: OpenDisplayOptions): Display;
/** Opens an offscreen display on Mesa's surfaceless EGL platform. */
export function openHeadless(options: OpenHeadlessOptions): Display;

/** Raised when a display cannot be opened; `message` says what to do. */
export class DisplayError extends Error {
  readonly name: 'DisplayError';
  /**
   * KMS: 'no-kms-card' | 'permission' | 'no-connected-connector' | 'drm-master-busy' | 'mode-not-available'
   * | 'no-crtc' | 'open-failed' | 'egl' | 'gbm' | 'framebuffer' | 'modeset' | 'page-flip' | 'present-pending'
   * | 'closed' | 'not-supported' | ...
   */
  readonly code: string;
}

/**
 * Sends `state` (e.g. 'READY=1', 'WATCHDOG=1', 'STATUS=...') to $NOTIFY_SOCKET
 * (path or abstract name). Returns false, doing nothing, when the variable is unset.
 */
export function sdNotify(state: string): boolean;

/** Bytes the live GL contexts of this process (every thread's) hold through the binding. */
export interface GpuMemory {
  /** Texture images (texImage2D), every level and face; not mipmaps made by generateMipmap. */
  textureBytes: number;
  /** Renderbuffer storage (renderbufferStorage). */
  renderbufferBytes: number;
  /** Buffer data (bufferData). */
  bufferBytes: number;
  /** Contexts holding any of it. */
  contexts: number;
}
/**
 * What the GL contexts of this process hold through the binding: not the window system's own
 * buffers (the headless display's presentation framebuffers, a KMS display's scanout buffers),
 * nor the driver's overhead. On llvmpipe this memory is part of the process's RSS.
 */
export function gpuMemory(): GpuMemory;
