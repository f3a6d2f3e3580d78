// Adaptive compute on the GPU (../adaptive.ts): per tile, the mask passes write each pixel's
// distance to the nearest heavy pixel into a texture (for the output pass's blend weight) and
// into the stencil buffer; each conv layer then runs under a stencil test that passes only
// within that layer's reach. llvmpipe skips the shading of a block whose pixels all fail the
// test (measured: a heavy shader over 10% of 1080p in clustered blocks took about a fifth of
// its full-screen time), so the skipped pixels cost almost nothing.
import type { GL, GLRenderbuffer } from 'node-drm-gbm-egl';
import { adaptivePlan, type AdaptivePlan } from '../adaptive.js';
import type { SrModel } from '../model.js';
import { generateMaskDetailPass, generateMaskDistancePass, generateMaskStencilPass } from '../glsl/adaptive-shaders.js';
import type { PassRunner, Program, Texture } from './gl-passes.js';

export class GpuAdaptiveMask {
  readonly plan: AdaptivePlan;
  /** Distance to the nearest heavy pixel (capped at plan.cap), per pixel of the tile, in R. */
  readonly distance: Texture;
  private readonly seed: Texture;
  private readonly across: Texture;
  private readonly detail: Program;
  private readonly distanceX: Program;
  private readonly distanceY: Program;
  private readonly stencilWriter: Program;
  private readonly stencil: GLRenderbuffer;
  private stencilSize = { width: 0, height: 0 };

  constructor(private readonly gl: GL, private readonly runner: PassRunner, model: SrModel) {
    this.plan = adaptivePlan(model);
    this.detail = runner.program(generateMaskDetailPass(model, this.plan));
    this.distanceX = runner.program(generateMaskDistancePass(this.plan, 'x'));
    this.distanceY = runner.program(generateMaskDistancePass(this.plan, 'y'));
    this.stencilWriter = runner.program(generateMaskStencilPass());
    this.seed = runner.createTexture();
    this.across = runner.createTexture();
    this.distance = runner.createTexture();
    this.stencil = gl.createRenderbuffer();
  }

  /**
   * Computes the mask of a w x h tile from its packed luma, writes the distance (at most the
   * cap) into the stencil, attaches it and turns the stencil test on (for layers only: call
   * `endLayers` before drawing to a target of another size).
   */
  beginLayers(packed: Texture, w: number, h: number, threshold: number): void {
    const { gl, runner } = this;
    const texel: [number, number] = [1 / w, 1 / h];
    for (const texture of [this.seed, this.across, this.distance]) runner.resize(texture, w, h);
    runner.draw(this.detail, this.seed, { u_packed: packed },
      { u_packedTexel: [1 / packed.width, 1 / packed.height], u_threshold: threshold });
    runner.draw(this.distanceX, this.across, { u_input: this.seed }, { u_texel: texel });
    runner.draw(this.distanceY, this.distance, { u_input: this.across }, { u_texel: texel });
    if (this.stencilSize.width !== w || this.stencilSize.height !== h) {
      gl.bindRenderbuffer(gl.RENDERBUFFER!, this.stencil);
      gl.renderbufferStorage(gl.RENDERBUFFER!, gl.STENCIL_INDEX8!, w, h);
      this.stencilSize = { width: w, height: h };
    }
    runner.attachStencil(this.stencil); // the distance texture (w x h) is the colour attachment now
    if (gl.checkFramebufferStatus(gl.FRAMEBUFFER!) !== gl.FRAMEBUFFER_COMPLETE) {
      runner.attachStencil(null);
      throw new Error('this GPU cannot render to an RGBA8 texture with a STENCIL_INDEX8 stencil buffer, ' +
        'which adaptive compute needs: use effort 1');
    }
    gl.clearStencil(0);
    gl.stencilMask(0xff);
    gl.clear(gl.STENCIL_BUFFER_BIT!);
    gl.enable(gl.STENCIL_TEST!);
    // The distance's bits, one draw each: it writes bit b (REPLACE through write mask 1 << b)
    // where the distance has it and discards elsewhere.
    gl.colorMask(false, false, false, false);
    gl.stencilFunc(gl.ALWAYS!, 0xff, 0xff);
    gl.stencilOp(gl.KEEP!, gl.KEEP!, gl.REPLACE!);
    for (let bit = 1; bit <= this.plan.cap; bit *= 2) {
      gl.stencilMask(bit);
      runner.draw(this.stencilWriter, this.seed, { u_distance: this.distance }, { u_texel: texel, u_bit: bit });
    }
    gl.stencilMask(0xff);
    gl.colorMask(true, true, true, true);
    gl.stencilOp(gl.KEEP!, gl.KEEP!, gl.KEEP!);
  }

  /** Layer `index` draws only where the distance is within its reach. */
  layer(index: number): void {
    this.gl.stencilFunc(this.gl.GEQUAL!, this.plan.layerReach[index]!, 0xff); // passes where reach >= stencil
  }

  endLayers(): void {
    this.gl.stencilFunc(this.gl.ALWAYS!, 0, 0xff);
    this.gl.disable(this.gl.STENCIL_TEST!);
    this.runner.attachStencil(null);
  }

  close(): void {
    this.gl.deleteRenderbuffer(this.stencil); // textures and programs belong to the runner
  }
}
