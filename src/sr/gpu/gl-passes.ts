// The GL plumbing every SR pass shares: RGBA8 textures with NEAREST + CLAMP_TO_EDGE (so a
// read past the edge replicates it), one framebuffer re-targeted per pass (several colour
// attachments when a pass writes several textures, EXT_draw_buffers), a full-viewport
// quad, programs with their uniform locations, and uploads/readbacks of image rectangles.
import type { GL, GLBuffer, GLFramebuffer, GLProgram, GLRenderbuffer, GLTexture, GLUniformLocation } from 'node-drm-gbm-egl';
import { POSITION_ATTRIBUTE, type ProgramCache } from '../glsl/program-cache.js';

/** A texture with the size its storage was last given. */
export interface Texture {
  handle: GLTexture;
  width: number;
  height: number;
}

export interface Program {
  handle: GLProgram;
  uniforms: Map<string, GLUniformLocation | null>;
}

export type UniformValue = number | [number, number];

/** Adding and subtracting 1.5 * 2^23 rounds a float32 to an integer (shaders/rounding.glsl). */
const ROUNDING_MAGIC = 12582912;

export class PassRunner {
  private readonly quad: GLBuffer;
  private readonly framebuffer: GLFramebuffer;
  private readonly textures = new Set<Texture>();
  private readonly programs = new Map<string, Program>();
  /** Colour attachments on the framebuffer now (more than 1 only where EXT_draw_buffers is used). */
  private attachments = 1;

  constructor(readonly gl: GL, private readonly cache: ProgramCache, private readonly vertexSource: string) {
    this.quad = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER!, this.quad);
    gl.bufferData(gl.ARRAY_BUFFER!, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW!);
    this.framebuffer = gl.createFramebuffer();
  }

  /**
   * Puts the GL state the passes rely on in place (the context may be shared with a renderer
   * that blends, scissors or dithers): call before a batch of passes.
   */
  prepareState(): void {
    const { gl } = this;
    for (const cap of [gl.BLEND, gl.SCISSOR_TEST, gl.DEPTH_TEST, gl.STENCIL_TEST, gl.CULL_FACE, gl.DITHER]) gl.disable(cap!);
    gl.colorMask(true, true, true, true);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT!, 1);
    gl.pixelStorei(gl.PACK_ALIGNMENT!, 1);
  }

  /** Leaves the default framebuffer bound, as a renderer sharing the context expects. */
  finishWork(): void {
    this.gl.bindFramebuffer(this.gl.FRAMEBUFFER!, null);
  }

  /** The program for this fragment source (compiled once per runner, cached on disk). */
  program(fragment: string): Program {
    let program = this.programs.get(fragment);
    if (!program) {
      program = { handle: this.cache.program(this.vertexSource, fragment), uniforms: new Map() };
      this.programs.set(fragment, program);
    }
    return program;
  }

  createTexture(): Texture {
    const { gl } = this;
    const handle = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D!, handle);
    gl.texParameteri(gl.TEXTURE_2D!, gl.TEXTURE_MIN_FILTER!, gl.NEAREST!);
    gl.texParameteri(gl.TEXTURE_2D!, gl.TEXTURE_MAG_FILTER!, gl.NEAREST!);
    gl.texParameteri(gl.TEXTURE_2D!, gl.TEXTURE_WRAP_S!, gl.CLAMP_TO_EDGE!);
    gl.texParameteri(gl.TEXTURE_2D!, gl.TEXTURE_WRAP_T!, gl.CLAMP_TO_EDGE!);
    const texture = { handle, width: 0, height: 0 };
    this.textures.add(texture);
    return texture;
  }

  deleteTexture(texture: Texture): void {
    this.gl.deleteTexture(texture.handle);
    this.textures.delete(texture);
  }

  /** Gives the texture storage of exactly this size (its edge must be the data's edge: clamping pads). */
  resize(texture: Texture, width: number, height: number): void {
    if (texture.width === width && texture.height === height) return;
    const { gl } = this;
    gl.bindTexture(gl.TEXTURE_2D!, texture.handle);
    gl.texImage2D(gl.TEXTURE_2D!, 0, gl.RGBA!, width, height, 0, gl.RGBA!, gl.UNSIGNED_BYTE!, null);
    texture.width = width;
    texture.height = height;
  }

  /** Uploads RGBA bytes (rows top to bottom = GL rows 0, 1, ...), resizing the texture to fit. */
  upload(texture: Texture, width: number, height: number, rgba: Uint8Array): void {
    const { gl } = this;
    gl.bindTexture(gl.TEXTURE_2D!, texture.handle);
    if (texture.width === width && texture.height === height) {
      gl.texSubImage2D(gl.TEXTURE_2D!, 0, 0, 0, width, height, gl.RGBA!, gl.UNSIGNED_BYTE!, rgba);
    } else {
      gl.texImage2D(gl.TEXTURE_2D!, 0, gl.RGBA!, width, height, 0, gl.RGBA!, gl.UNSIGNED_BYTE!, rgba);
      texture.width = width;
      texture.height = height;
    }
  }

  /**
   * Draws `program` over all of `target` with `inputs` bound to its samplers. Several targets
   * (one size) receive gl_FragData[0], [1], ... and need EXT_draw_buffers.
   */
  draw(program: Program, target: Texture | Texture[], inputs: Record<string, Texture>, uniforms: Record<string, UniformValue> = {}): void {
    const { gl } = this;
    const targets = Array.isArray(target) ? target : [target];
    this.bindTargets(targets);
    gl.viewport(0, 0, targets[0]!.width, targets[0]!.height);
    gl.useProgram(program.handle);
    let unit = 0;
    for (const [name, texture] of Object.entries(inputs)) {
      gl.activeTexture(gl.TEXTURE0! + unit);
      gl.bindTexture(gl.TEXTURE_2D!, texture.handle);
      gl.uniform1i(this.location(program, name), unit);
      unit++;
    }
    // rounding.glsl: two copies of 1.5 * 2^23, 1 and 255 (see there). quad.vert: the target's size.
    gl.uniform4f(this.location(program, 'u_round'), ROUNDING_MAGIC, ROUNDING_MAGIC, 1, 255);
    gl.uniform2f(this.location(program, 'u_viewport'), targets[0]!.width, targets[0]!.height);
    for (const [name, value] of Object.entries(uniforms)) {
      const location = this.location(program, name);
      if (typeof value === 'number') gl.uniform1f(location, value);
      else gl.uniform2f(location, value[0], value[1]);
    }
    gl.bindBuffer(gl.ARRAY_BUFFER!, this.quad);
    gl.enableVertexAttribArray(POSITION_ATTRIBUTE);
    gl.vertexAttribPointer(POSITION_ATTRIBUTE, 2, gl.FLOAT!, false, 0, 0);
    gl.drawArrays(gl.TRIANGLE_STRIP!, 0, 4);
  }

  /**
   * Attaches a stencil renderbuffer to the framebuffer (adaptive compute: every target drawn
   * while it is attached must have its size), or detaches it with null.
   */
  attachStencil(stencil: GLRenderbuffer | null): void {
    const { gl } = this;
    gl.bindFramebuffer(gl.FRAMEBUFFER!, this.framebuffer);
    gl.framebufferRenderbuffer(gl.FRAMEBUFFER!, gl.STENCIL_ATTACHMENT!, gl.RENDERBUFFER!, stencil);
  }

  /** RGBA bytes of the texture, rows in upload order. */
  read(texture: Texture, out?: Uint8Array): Uint8Array {
    const { gl } = this;
    this.bindTargets([texture]);
    return gl.readPixels(0, 0, texture.width, texture.height, gl.RGBA!, gl.UNSIGNED_BYTE!, out);
  }

  /** Attaches `targets` as colour attachments 0, 1, ... of the framebuffer and binds it. */
  private bindTargets(targets: Texture[]): void {
    const { gl } = this;
    gl.bindFramebuffer(gl.FRAMEBUFFER!, this.framebuffer);
    targets.forEach((texture, i) => {
      gl.framebufferTexture2D(gl.FRAMEBUFFER!, gl.COLOR_ATTACHMENT0! + i, gl.TEXTURE_2D!, texture.handle, 0);
    });
    if (targets.length === this.attachments) return;
    // Detach what an earlier pass left: attachments must agree in size, and a texture still
    // attached must not be sampled by the next pass. drawBuffers only runs where a pass
    // wrote several targets, so a GPU without EXT_draw_buffers never meets it.
    for (let i = targets.length; i < this.attachments; i++) {
      gl.framebufferTexture2D(gl.FRAMEBUFFER!, gl.COLOR_ATTACHMENT0! + i, gl.TEXTURE_2D!, null, 0);
    }
    gl.drawBuffers(targets.map((_, i) => gl.COLOR_ATTACHMENT0_EXT + i));
    this.attachments = targets.length;
  }

  private location(program: Program, name: string): GLUniformLocation | null {
    if (!program.uniforms.has(name)) program.uniforms.set(name, this.gl.getUniformLocation(program.handle, name));
    return program.uniforms.get(name)!;
  }

  close(): void {
    const { gl } = this;
    for (const texture of this.textures) gl.deleteTexture(texture.handle);
    for (const program of this.programs.values()) gl.deleteProgram(program.handle);
    this.textures.clear();
    this.programs.clear();
    gl.deleteFramebuffer(this.framebuffer);
    gl.deleteBuffer(this.quad);
  }
}
