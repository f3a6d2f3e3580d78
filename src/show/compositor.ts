// The compositor: turns pictures into frames on the screen, with GLES2.
//
// A picture is composed once into a canvas texture (the upright picture the viewer sees:
// background, then the image in its target rectangle), and every frame then draws one canvas,
// or two mixed during a crossfade, over the whole screen, turned by the screen rotation. So a
// frame costs one full-screen pass whatever the picture was made of, and a crossfade never
// waits for an image to be resampled.
//
// Conventions: every texture holds rows top to bottom (row 0 = the top), as images arrive.
// Drawing into a canvas framebuffer puts pixel row 0 at NDC y = -1, so canvases keep that order.
import type { GL, GLBuffer, GLFramebuffer, GLProgram, GLTexture, GLUniformLocation } from 'node-drm-gbm-egl';
import type { Rect, Rotation, Size } from '../plan/placement.js';
import { sharedSeen } from '../sr/shared-pixels.js';

/** 8-bit sRGB pixels, rows top to bottom: RGB or RGBA. */
export interface Pixels {
  width: number;
  height: number;
  channels: 3 | 4;
  data: Uint8Array;
}

export type Background = { kind: 'colour'; rgb: [number, number, number] } | { kind: 'image'; image: Pixels };

/** What one picture on screen is made of. */
export interface PictureSpec {
  canvas: Size;
  background: Background;
  /** The image: at the target's size it is drawn 1:1, smaller it is resampled (Catmull-Rom) to it. */
  image: Pixels;
  target: Rect;
}

export interface Canvas {
  texture: GLTexture;
  framebuffer: GLFramebuffer;
  width: number;
  height: number;
}

const vertexSource = `
attribute vec4 a_vertex; // xy: position in NDC, zw: texture coordinate
varying highp vec2 v_uv;
void main() {
  v_uv = a_vertex.zw;
  gl_Position = vec4(a_vertex.xy, 0.0, 1.0);
}`;

const precision = `
#ifdef GL_FRAGMENT_PRECISION_HIGH
precision highp float;
#else
precision mediump float;
#endif
`;

const copySource = `${precision}
uniform sampler2D u_image;
varying highp vec2 v_uv;
void main() {
  gl_FragColor = texture2D(u_image, v_uv);
}`;

// Catmull-Rom (a = -0.5), 4x4 taps, centre-aligned as the SR engine's resample is; the source
// is never larger than the target here (the CPU shrinks large images first), so no antialiasing.
const bicubicSource = `${precision}
uniform sampler2D u_image;
uniform vec2 u_size; // source size in pixels
varying highp vec2 v_uv;
vec4 weights(float f) {
  float f2 = f * f;
  float f3 = f2 * f;
  return vec4(-0.5 * f + f2 - 0.5 * f3, 1.0 - 2.5 * f2 + 1.5 * f3, 0.5 * f + 2.0 * f2 - 1.5 * f3, -0.5 * f2 + 0.5 * f3);
}
void main() {
  vec2 position = v_uv * u_size - 0.5;
  vec2 base = floor(position);
  vec2 f = position - base;
  vec4 wx = weights(f.x);
  vec4 wy = weights(f.y);
  vec4 sum = vec4(0.0);
  for (int j = 0; j < 4; j++) {
    float y = (base.y + float(j) - 0.5) / u_size.y;
    vec4 row = wx.x * texture2D(u_image, vec2((base.x - 0.5) / u_size.x, y))
      + wx.y * texture2D(u_image, vec2((base.x + 0.5) / u_size.x, y))
      + wx.z * texture2D(u_image, vec2((base.x + 1.5) / u_size.x, y))
      + wx.w * texture2D(u_image, vec2((base.x + 2.5) / u_size.x, y));
    sum += (j == 0 ? wy.x : j == 1 ? wy.y : j == 2 ? wy.z : wy.w) * row;
  }
  gl_FragColor = clamp(sum, 0.0, 1.0);
}`;

const mixSource = `${precision}
uniform sampler2D u_from;
uniform sampler2D u_to;
uniform float u_mix;
varying highp vec2 v_uv;
void main() {
  gl_FragColor = vec4(mix(texture2D(u_from, v_uv).rgb, texture2D(u_to, v_uv).rgb, u_mix), 1.0);
}`;

interface ProgramInfo {
  handle: GLProgram;
  uniforms: Record<string, GLUniformLocation | null>;
}

export class Compositor {
  private readonly vertices: GLBuffer;
  private readonly copy: ProgramInfo;
  private readonly bicubic: ProgramInfo;
  private readonly mixer: ProgramInfo;
  private readonly scratch: GLTexture;
  private readonly scratchBackground: GLTexture;
  private capture: Canvas | null = null;

  constructor(private readonly gl: GL, private screenSize: Size, readonly rotate: Rotation) {
    this.vertices = gl.createBuffer();
    this.copy = this.link(copySource, ['u_image']);
    this.bicubic = this.link(bicubicSource, ['u_image', 'u_size']);
    this.mixer = this.link(mixSource, ['u_from', 'u_to', 'u_mix']);
    this.scratch = this.newTexture(gl.NEAREST);
    this.scratchBackground = this.newTexture(gl.NEAREST);
  }

  get screen(): Size {
    return this.screenSize;
  }

  /** The screen's size changed (another mode): canvases already composed are scaled to it. */
  resize(size: Size): void {
    if (size.width === this.screenSize.width && size.height === this.screenSize.height) return;
    this.screenSize = { ...size };
    this.release(this.capture);
    this.capture = null;
  }

  /** Composes a picture into a new canvas texture (free it with `release`). */
  compose(spec: PictureSpec): Canvas {
    const { gl } = this;
    const canvas = this.newCanvas(spec.canvas.width, spec.canvas.height);
    gl.bindFramebuffer(gl.FRAMEBUFFER, canvas.framebuffer);
    gl.viewport(0, 0, canvas.width, canvas.height);
    gl.disable(gl.BLEND);
    const full = { x: 0, y: 0, width: canvas.width, height: canvas.height };
    if (spec.background.kind === 'colour') {
      const [r, g, b] = spec.background.rgb;
      gl.clearColor(r / 255, g / 255, b / 255, 1);
      gl.clear(gl.COLOR_BUFFER_BIT);
    } else {
      // Stretched with the Catmull-Rom pass, not LINEAR filtering: llvmpipe crashed (SIGSEGV in
      // its JIT code, in the VM's KMS test) on a LINEAR texture; every texture here is NEAREST.
      const background = spec.background.image;
      this.upload(this.scratchBackground, background);
      this.drawRect(this.bicubic, this.scratchBackground, full, canvas, { u_size: [background.width, background.height] });
    }
    const { image, target } = spec;
    this.upload(this.scratch, image);
    // Straight alpha over the background; opaque images are unaffected.
    if (image.channels === 4) {
      gl.enable(gl.BLEND);
      gl.blendFuncSeparate(gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA, gl.ZERO, gl.ONE);
    }
    if (image.width === target.width && image.height === target.height) {
      this.drawRect(this.copy, this.scratch, target, canvas, {});
    } else {
      this.drawRect(this.bicubic, this.scratch, target, canvas, { u_size: [image.width, image.height] });
    }
    gl.disable(gl.BLEND);
    // Free the upload's memory: the canvas holds the result.
    this.upload(this.scratch, null);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    // The pixels are in the canvas now: this thread's handles on shared ones go at a collection.
    sharedSeen(image.data, ...(spec.background.kind === 'image' ? [spec.background.image.data] : []));
    return canvas;
  }

  /** Draws a frame: `from`, or `from` mixed towards `to` by `amount` (0..1), over the whole screen. */
  drawFrame(from: Canvas | null, to: Canvas | null = null, amount = 0): void {
    this.drawScreen(null, from, to, amount);
  }

  /** Renders what `drawFrame` would show into an offscreen buffer and reads it: RGBA, rows top to bottom. */
  readFrame(from: Canvas | null, to: Canvas | null = null, amount = 0): Uint8Array {
    const { gl } = this;
    const { width, height } = this.screen;
    this.capture ??= this.newCanvas(width, height);
    this.drawScreen(this.capture.framebuffer, from, to, amount);
    gl.pixelStorei(gl.PACK_ALIGNMENT, 1);
    const bottomUp = gl.readPixels(0, 0, width, height, gl.RGBA, gl.UNSIGNED_BYTE);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    // The capture was drawn as the screen is (row 0 = the bottom): flip to rows top to bottom.
    const rows = new Uint8Array(width * height * 4);
    const stride = width * 4;
    for (let y = 0; y < height; y++) rows.set(bottomUp.subarray((height - 1 - y) * stride, (height - y) * stride), y * stride);
    return rows;
  }

  release(canvas: Canvas | null): void {
    if (!canvas) return;
    this.gl.deleteFramebuffer(canvas.framebuffer);
    this.gl.deleteTexture(canvas.texture);
  }

  dispose(): void {
    const { gl } = this;
    this.release(this.capture);
    for (const program of [this.copy, this.bicubic, this.mixer]) gl.deleteProgram(program.handle);
    gl.deleteTexture(this.scratch);
    gl.deleteTexture(this.scratchBackground);
    gl.deleteBuffer(this.vertices);
  }

  private drawScreen(framebuffer: GLFramebuffer | null, from: Canvas | null, to: Canvas | null, amount: number): void {
    const { gl } = this;
    const { width, height } = this.screen;
    gl.bindFramebuffer(gl.FRAMEBUFFER, framebuffer);
    gl.viewport(0, 0, width, height);
    gl.disable(gl.BLEND);
    if (!from) {
      gl.clearColor(0, 0, 0, 1);
      gl.clear(gl.COLOR_BUFFER_BIT);
      return;
    }
    const other = to ?? from;
    gl.useProgram(this.mixer.handle);
    this.bind(0, from.texture, this.mixer.uniforms.u_from!);
    this.bind(1, other.texture, this.mixer.uniforms.u_to!);
    gl.uniform1f(this.mixer.uniforms.u_mix!, to ? Math.min(1, Math.max(0, amount)) : 0);
    // Screen corners (NDC, row 0 of the screen at the top) and where each reads the canvas.
    const corners: Array<[number, number, number, number]> = [[-1, 1, 0, 0], [1, 1, 1, 0], [-1, -1, 0, 1], [1, -1, 1, 1]];
    const data = new Float32Array(16);
    corners.forEach(([x, y, s, t], i) => {
      const [u, v] = rotateUv(s, t, this.rotate);
      data.set([x, y, u, v], i * 4);
    });
    this.drawVertices(data);
  }

  /** Draws `texture` (all of it) into `rect` of a canvas (pixels, row 0 at the top). */
  private drawRect(program: ProgramInfo, texture: GLTexture, rect: Rect, canvas: Size, uniforms: Record<string, [number, number]>): void {
    const { gl } = this;
    gl.useProgram(program.handle);
    this.bind(0, texture, program.uniforms.u_image!);
    for (const [name, [a, b]] of Object.entries(uniforms)) gl.uniform2f(program.uniforms[name]!, a, b);
    const x0 = (rect.x / canvas.width) * 2 - 1;
    const x1 = ((rect.x + rect.width) / canvas.width) * 2 - 1;
    const top = (rect.y / canvas.height) * 2 - 1;
    const bottom = ((rect.y + rect.height) / canvas.height) * 2 - 1;
    this.drawVertices(new Float32Array([x0, top, 0, 0, x1, top, 1, 0, x0, bottom, 0, 1, x1, bottom, 1, 1]));
  }

  private drawVertices(data: Float32Array): void {
    const { gl } = this;
    gl.bindBuffer(gl.ARRAY_BUFFER, this.vertices);
    gl.bufferData(gl.ARRAY_BUFFER, data, gl.STREAM_DRAW);
    gl.enableVertexAttribArray(0);
    gl.vertexAttribPointer(0, 4, gl.FLOAT, false, 0, 0);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
  }

  private bind(unit: number, texture: GLTexture, location: GLUniformLocation): void {
    const { gl } = this;
    gl.activeTexture(gl.TEXTURE0 + unit);
    gl.bindTexture(gl.TEXTURE_2D, texture);
    gl.uniform1i(location, unit);
  }

  private upload(texture: GLTexture, image: Pixels | null): void {
    const { gl } = this;
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, texture);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    if (!image) {
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, 1, 1, 0, gl.RGBA, gl.UNSIGNED_BYTE, null);
      return;
    }
    const format = image.channels === 4 ? gl.RGBA : gl.RGB;
    gl.texImage2D(gl.TEXTURE_2D, 0, format, image.width, image.height, 0, format, gl.UNSIGNED_BYTE, image.data);
  }

  private newTexture(filter: number): GLTexture {
    const { gl } = this;
    const texture = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, texture);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, filter);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, filter);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    return texture;
  }

  private newCanvas(width: number, height: number): Canvas {
    const { gl } = this;
    const texture = this.newTexture(gl.NEAREST);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, width, height, 0, gl.RGBA, gl.UNSIGNED_BYTE, null);
    const framebuffer = gl.createFramebuffer();
    gl.bindFramebuffer(gl.FRAMEBUFFER, framebuffer);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, texture, 0);
    const status = gl.checkFramebufferStatus(gl.FRAMEBUFFER);
    if (status !== gl.FRAMEBUFFER_COMPLETE) {
      gl.deleteFramebuffer(framebuffer);
      gl.deleteTexture(texture);
      throw new Error(`the GPU cannot render into a ${width}x${height} picture (framebuffer status 0x${status.toString(16)})`);
    }
    return { texture, framebuffer, width, height };
  }

  private link(fragmentSource: string, uniformNames: string[]): ProgramInfo {
    const { gl } = this;
    const vertex = gl.createShader(gl.VERTEX_SHADER);
    gl.shaderSource(vertex, vertexSource);
    gl.compileShader(vertex);
    const fragment = gl.createShader(gl.FRAGMENT_SHADER);
    gl.shaderSource(fragment, fragmentSource);
    gl.compileShader(fragment);
    const handle = gl.createProgram();
    gl.attachShader(handle, vertex);
    gl.attachShader(handle, fragment);
    gl.bindAttribLocation(handle, 0, 'a_vertex');
    gl.linkProgram(handle);
    gl.deleteShader(vertex);
    gl.deleteShader(fragment);
    const uniforms: Record<string, GLUniformLocation | null> = {};
    for (const name of uniformNames) uniforms[name] = gl.getUniformLocation(handle, name);
    return { handle, uniforms };
  }
}

/**
 * Where screen point (s, t) (0..1, t down) reads the canvas (u, v) when the picture is turned
 * `rotate` degrees clockwise on the panel (for a screen mounted turned the other way).
 */
export function rotateUv(s: number, t: number, rotate: Rotation): [number, number] {
  switch (rotate) {
    case 0: return [s, t];
    case 90: return [t, 1 - s];
    case 180: return [1 - s, 1 - t];
    case 270: return [1 - t, s];
  }
}
