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

/**
 * The OpenGL ES 2.0 binding. Every call acts on the context of the display it
 * came from (the context that is current on the calling thread). GL errors are
 * checked after each call and raised as GLError.
 */
export interface GL {
  // Constants, with their WebGL / GLES2 names (a subset; see lib/gl-constants.js for all).
  readonly [constant: Uppercase<string>]: number;

  /** The framebuffer that `bindFramebuffer(FRAMEBUFFER, null)` binds: the screen. */
  readonly defaultFramebuffer: number;

  getError(): number;
  getParameter(pname: number): number | number[] | string | boolean;
  getSupportedExtensions(): string[];
  finish(): void;
  flush(): void;

  createShader(type: number): GLShader;
  shaderSource(shader: GLShader, source: string): void;
  /** Throws GLShaderError with the info log when compilation fails. */
  compileShader(shader: GLShader): void;
  getShaderInfoLog(shader: GLShader): string;
  deleteShader(shader: GLShader): void;

  createProgram(): GLProgram;
  attachShader(program: GLProgram, shader: GLShader): void;
  bindAttribLocation(program: GLProgram, index: number, name: string): void;
  /** Throws GLShaderError with the info log when linking fails. */
  linkProgram(program: GLProgram): void;
  getProgramInfoLog(program: GLProgram): string;
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
  uniform1f(location: GLUniformLocation | null, x: number): void;
  uniform2f(location: GLUniformLocation | null, x: number, y: number): void;
  uniform3f(location: GLUniformLocation | null, x: number, y: number, z: number): void;
  uniform4f(location: GLUniformLocation | null, x: number, y: number, z: number, w: number): void;
  uniform1fv(location: GLUniformLocation | null, v: Float32Array | number[]): void;
  uniform2fv(location: GLUniformLocation | null, v: Float32Array | number[]): void;
  uniform3fv(location: GLUniformLocation | null, v: Float32Array | number[]): void;
  uniform4fv(location: GLUniformLocation | null, v: Float32Array | number[]): void;
  uniformMatrix3fv(location: GLUniformLocation | null, transpose: false, v: Float32Array | number[]): void;
  uniformMatrix4fv(location: GLUniformLocation | null, transpose: false, v: Float32Array | number[]): void;

  createTexture(): GLTexture;
  bindTexture(target: number, texture: GLTexture | null): void;
  activeTexture(unit: number): void;
  texParameteri(target: number, pname: number, param: number): void;
  pixelStorei(pname: number, param: number): void;
  /** `pixels` null allocates storage without data. Rows are bottom-up in GL terms (row 0 = y 0). */
  texImage2D(target: number, level: number, internalFormat: number, width: number, height: number,
    border: number, format: number, type: number, pixels: Uint8Array | null): void;
  texSubImage2D(target: number, level: number, x: number, y: number, width: number, height: number,
    format: number, type: number, pixels: Uint8Array): void;
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
  vertexAttribPointer(index: number, size: number, type: number, normalized: boolean, stride: number, offset: number): void;

  drawArrays(mode: number, first: number, count: number): void;
  drawElements(mode: number, count: number, type: number, offset: number): void;

  viewport(x: number, y: number, width: number, height: number): void;
  scissor(x: number, y: number, width: number, height: number): void;
  enable(cap: number): void;
  disable(cap: number): void;
  blendFunc(sfactor: number, dfactor: number): void;
  blendFuncSeparate(srcRGB: number, dstRGB: number, srcAlpha: number, dstAlpha: number): void;
  blendEquation(mode: number): void;
  blendColor(r: number, g: number, b: number, a: number): void;
  colorMask(r: boolean, g: boolean, b: boolean, a: boolean): void;
  stencilFunc(func: number, ref: number, mask: number): void;
  stencilOp(fail: number, zfail: number, zpass: number): void;
  stencilMask(mask: number): void;
  clearStencil(s: number): void;
  clearColor(r: number, g: number, b: number, a: number): void;
  clear(mask: number): void;

  /** Reads pixels (GL order: bottom row first) into `out` when given, else a new Buffer. */
  readPixels(x: number, y: number, width: number, height: number, format: number, type: number, out?: Uint8Array): Buffer;
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
