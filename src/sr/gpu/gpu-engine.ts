// The GPU SR engine: runs a model as GLES2 fragment-shader passes, exactly as ../SEMANTICS.md
// says (the CPU reference computes the same, within 1/255).
//
//   const upscaler = createGpuUpscaler(gl, model, { maxTileSize, cacheDir });  // compiles once
//   const out = upscaler.upscale(image, { steps: 1 | 2 | 0, size?: { width, height } });
//   upscaler.close();
//
// `steps` x2 SR steps (1 = x2, 2 = x4: the second step starts again from the RGB bytes the first
// produced), then, when `size` is given, a Catmull-Rom resample to exactly that size.
// Reuse one upscaler for a batch: programs are compiled (or loaded from the program-binary
// cache) when it is created. The GL context must stay current on the calling thread.
//
// One x2 step, per tile (tiles.ts) of the low-resolution image:
//   upload RGBA -> luma pack (2x2 luma per texel, with a margin) -> chroma (Cb, Cr, alpha)
//   -> conv layers (one pass per 4 output channels, or per up to 4 such blocks sharing their
//      inputs where the GPU has EXT_draw_buffers; ping-pong texture sets)
//   -> output pass at 2x: depth-to-space + residual base + bilinear chroma -> RGB(A) -> readback.
// With an effort below 1 (../adaptive.ts, adaptive-mask.ts), mask passes follow the luma pack
// and the conv layers run under a stencil test, only on the pixels with detail and around them.
import type { GL } from 'node-drm-gbm-egl';
import { checkRasterImage, type LumaImage, type RasterImage, type SrModel, type UpscaleOptions, type Upscaler } from '../model.js';
import { PassRunner, type Program, type Texture } from './gl-passes.js';
import { queryGpuLimits, type GpuLimits } from './gpu-limits.js';
import { defaultProgramCacheDir, ProgramCache, type ProgramCacheStats } from '../glsl/program-cache.js';
import { resampleGpu } from './resample-gpu.js';
import {
  generateChromaPass, generateConvPasses, generateLumaPackPass, generateOutputPass, packedMargin, vertexShader,
  type ConvPass,
} from '../glsl/shader-gen.js';
import { cropToRgba, pasteFromRgba, planTiles, type Rect } from './tiles.js';
import { checkEffort, effortThreshold, type AdaptiveMask } from '../adaptive.js';
import { GpuAdaptiveMask } from './adaptive-mask.js';
import { sharedPixels } from '../shared-pixels.js';

export interface GpuUpscalerOptions {
  /** Largest texture side to use (default: the GPU's limits, at most 4096). Tests force 64, or 2048 like a Pi 3. */
  maxTileSize?: number;
  /** Texture fetches allowed per pass (default DEFAULT_MAX_FETCHES_PER_PASS). */
  maxFetchesPerPass?: number;
  /** Samplers allowed per pass (default: MAX_TEXTURE_IMAGE_UNITS). */
  maxTextureUnits?: number;
  /** Draw buffers to use at most (default: the GPU's, 1 without EXT_draw_buffers); 1 turns multiple render targets off. */
  maxDrawBuffers?: number;
  /** Output textures one conv pass may write with draw buffers (default DEFAULT_MAX_OUTPUTS_PER_PASS). */
  maxOutputsPerPass?: number;
  /** Where program binaries are kept; default ~/.cache/uprez/programs ($XDG_CACHE_HOME); null: none. */
  cacheDir?: string | null;
  /** Finish the GL work after every stage and record its time (benchmarks; slows things a little). */
  profile?: boolean;
  /** Keep each adaptive step's mask for `lastMasks()` (tests, benchmarks; reads it back per tile). */
  keepMasks?: boolean;
}

export interface GpuUpscaler extends Upscaler {
  /** The network alone on a luma plane: what a model's test vector holds (at `effort`, default 1). */
  upscaleLuma(luma: LumaImage, effort?: number): LumaImage;
  /** With `keepMasks`: the masks of the last call's adaptive steps (none at effort 1). */
  lastMasks(): AdaptiveMask[];
  readonly limits: GpuLimits;
  /** Programs compiled vs loaded from the cache, and the time that took. */
  readonly programStats: ProgramCacheStats;
  /** Milliseconds per stage since the last reset (only with `profile`). */
  stageTimes(): Map<string, number>;
  resetStageTimes(): void;
}

export function createGpuUpscaler(gl: GL, model: SrModel, options: GpuUpscalerOptions = {}): GpuUpscaler {
  return new GpuEngine(gl, model, options);
}

interface LayerPrograms {
  name: string;
  passes: Array<{ pass: ConvPass; program: Program }>;
}

class GpuEngine implements GpuUpscaler {
  readonly limits: GpuLimits;
  private readonly runner: PassRunner;
  private readonly cache: ProgramCache;
  private readonly margin: number;
  private readonly halo: number;
  private readonly maxCore: number;
  private readonly layers: LayerPrograms[];
  private readonly lumaPack: Program;
  private readonly chroma: Program;
  private readonly outputColour: Program;
  private outputLuma: Program | null = null;
  // Textures, resized per tile.
  private readonly input: Texture;
  private readonly packed: Texture;
  private readonly chromaTexture: Texture;
  private readonly output: Texture;
  private readonly activations: [Texture[], Texture[]];
  private readonly times = new Map<string, number>();
  private closed = false;
  // Adaptive compute: made at the first effort below 1.
  private adaptive: { mask: GpuAdaptiveMask; halo: number; maxCore: number; output: Map<string, Program> } | null = null;
  private masks: AdaptiveMask[] = [];

  constructor(readonly gl: GL, private readonly model: SrModel, private readonly options: GpuUpscalerOptions) {
    this.limits = queryGpuLimits(gl, options);
    // Generating checks every pass against the limits: a model that cannot run fails here, by name.
    const passes = generateConvPasses(model, this.limits);
    this.margin = packedMargin(model);
    const receptive = model.layers.reduce((sum, layer) => sum + (layer.kernel - 1) / 2, 0);
    this.halo = Math.max(receptive, 2); // 2: the bicubic base and bilinear chroma reach 2 pixels
    // Region (core + 2 halo) plus the packed margin, and the 2x output, must fit a texture.
    this.maxCore = this.maxCoreFor(this.halo);
    this.cache = new ProgramCache(gl, options.cacheDir === undefined ? defaultProgramCacheDir() : options.cacheDir);
    this.runner = new PassRunner(gl, this.cache, vertexShader());
    try {
      this.lumaPack = this.runner.program(generateLumaPackPass(model));
      this.chroma = this.runner.program(generateChromaPass());
      this.outputColour = this.runner.program(generateOutputPass(model, 'colour'));
      this.layers = passes.map((layerPasses, index) => {
        const layer = model.layers[index]!;
        const groups = layer.groups > 1 ? ` g${layer.groups}` : '';
        return {
          name: `layer ${index + 1} ${layer.kernel}x${layer.kernel} ${layer.in}->${layer.out}${groups}`,
          passes: layerPasses.map((pass) => ({ pass, program: this.runner.program(pass.fragment) })),
        };
      });
    } catch (error) {
      this.runner.close(); // a shader this GPU cannot compile: free what was made, report the driver's log
      throw error;
    }
    this.input = this.runner.createTexture();
    this.packed = this.runner.createTexture();
    this.chromaTexture = this.runner.createTexture();
    this.output = this.runner.createTexture();
    const texturesFor = (parity: number): Texture[] => {
      const count = Math.max(0, ...model.layers.filter((_, i) => i % 2 === parity).map((l) => Math.ceil(l.out / 4)));
      return Array.from({ length: count }, () => this.runner.createTexture());
    };
    this.activations = [texturesFor(0), texturesFor(1)];
  }

  /** Region (core + 2 halo) plus the packed margin, and the 2x output, must fit a texture. */
  private maxCoreFor(halo: number): number {
    const maxCore = Math.min(Math.floor(this.limits.maxTileSize / 2), this.limits.maxTileSize - 2 * halo - 2 * this.margin);
    if (maxCore < 1) {
      throw new RangeError(`a tile of at most ${this.limits.maxTileSize} pixels cannot hold this model's halo ` +
        `(${halo} pixels each side): raise maxTileSize`);
    }
    return maxCore;
  }

  get programStats(): ProgramCacheStats {
    return { ...this.cache.stats };
  }

  stageTimes(): Map<string, number> {
    return new Map(this.times);
  }

  resetStageTimes(): void {
    this.times.clear();
  }

  lastMasks(): AdaptiveMask[] {
    return [...this.masks];
  }

  upscale(image: RasterImage, options: UpscaleOptions): RasterImage {
    this.checkOpen();
    checkRasterImage(image);
    if (![0, 1, 2].includes(options.steps)) throw new RangeError(`steps must be 0, 1 or 2, got ${String(options.steps)}`);
    const effort = options.effort ?? 1;
    checkEffort(effort);
    this.masks = [];
    this.runner.prepareState();
    try {
      let result = image;
      for (let step = 0; step < options.steps; step++) result = this.srStep(result, 'colour', effort);
      if (options.size && (options.size.width !== result.width || options.size.height !== result.height)) {
        result = resampleGpu(this.runner, result, options.size.width, options.size.height, this.limits.maxTileSize,
          (name) => this.stage(name));
      } else if (result === image) {
        result = { ...image, data: image.data.slice() };
      }
      return result;
    } finally {
      this.runner.finishWork();
    }
  }

  upscaleLuma(luma: LumaImage, effort = 1): LumaImage {
    this.checkOpen();
    checkEffort(effort);
    this.masks = [];
    const { width, height, data } = luma;
    if (data.length !== width * height) throw new RangeError(`luma data has ${data.length} bytes, expected ${width * height}`);
    const grey = new Uint8Array(width * height * 3);
    for (let i = 0; i < data.length; i++) grey[i * 3] = grey[i * 3 + 1] = grey[i * 3 + 2] = data[i]!;
    // Grey in: the luma formula gives the byte back exactly (its coefficients sum to 1).
    this.runner.prepareState();
    let out: RasterImage;
    try {
      out = this.srStep({ width, height, channels: 3, data: grey }, 'luma', effort);
    } finally {
      this.runner.finishWork();
    }
    const result = new Uint8Array(out.width * out.height);
    for (let i = 0; i < result.length; i++) result[i] = out.data[i * 3]!;
    return { width: out.width, height: out.height, data: result };
  }

  private srStep(image: RasterImage, output: 'colour' | 'luma', effort: number): RasterImage {
    const { width, height, channels } = image;
    const result = sharedPixels(width * height * 4 * channels); // shown and cached by other threads
    // Effort 1 is exactly the full engine: the adaptive path is not entered.
    const adaptive = effort < 1 ? this.adaptivePath() : null;
    const outputProgram = adaptive ? this.adaptiveOutputProgram(output) : output === 'colour' ? this.outputColour : this.outputLumaProgram();
    const mask = adaptive && this.options.keepMasks ? { width, height, distance: new Uint8Array(width * height) } : null;
    const tiles = adaptive ? planTiles(width, height, adaptive.maxCore, adaptive.halo) : planTiles(width, height, this.maxCore, this.halo);
    for (const tile of tiles) {
      this.stage(null);
      this.runner.upload(this.input, tile.region.width, tile.region.height, cropToRgba(image.data, width, channels, tile.region));
      this.stage('upload');
      this.runTile(tile.region, tile.core, output, outputProgram, adaptive ? effortThreshold(effort) : null);
      if (mask) this.keepMask(mask, tile.region, tile.core);
      const core2: Rect = { x: tile.core.x * 2, y: tile.core.y * 2, width: tile.core.width * 2, height: tile.core.height * 2 };
      pasteFromRgba(this.runner.read(this.output), result, width * 2, channels, core2);
      this.stage('readback');
    }
    if (mask) this.masks.push(mask);
    return { width: width * 2, height: height * 2, channels, data: result };
  }

  /** The adaptive pieces, made once: the mask passes, and tiles whose halo also holds the mask's reach. */
  private adaptivePath(): NonNullable<GpuEngine['adaptive']> {
    if (!this.adaptive) {
      const mask = new GpuAdaptiveMask(this.gl, this.runner, this.model);
      // A core pixel's distance looks cap - 1 pixels out, at detail read 1 further.
      const halo = Math.max(this.halo, mask.plan.cap);
      this.adaptive = { mask, halo, maxCore: this.maxCoreFor(halo), output: new Map() };
    }
    return this.adaptive;
  }

  private adaptiveOutputProgram(output: 'colour' | 'luma'): Program {
    const { output: programs } = this.adaptivePath();
    let program = programs.get(output);
    if (!program) {
      program = this.runner.program(generateOutputPass(this.model, output, true));
      programs.set(output, program);
    }
    return program;
  }

  /** Copies the core of the tile's distance texture into the step's mask. */
  private keepMask(mask: AdaptiveMask, region: Rect, core: Rect): void {
    const rgba = this.runner.read(this.adaptive!.mask.distance);
    for (let y = 0; y < core.height; y++) {
      for (let x = 0; x < core.width; x++) {
        const from = ((core.y - region.y + y) * region.width + core.x - region.x + x) * 4;
        mask.distance[(core.y + y) * mask.width + core.x + x] = rgba[from]!;
      }
    }
  }

  private runTile(region: Rect, core: Rect, output: 'colour' | 'luma', outputProgram: Program, threshold: number | null): void {
    const { runner } = this;
    const w = region.width;
    const h = region.height;
    const texel: [number, number] = [1 / w, 1 / h];
    runner.resize(this.packed, w + 2 * this.margin, h + 2 * this.margin);
    const packedTexel: [number, number] = [1 / this.packed.width, 1 / this.packed.height];
    runner.draw(this.lumaPack, this.packed, { u_image: this.input }, { u_imageTexel: texel });
    this.stage('luma pack');
    if (output === 'colour') {
      runner.resize(this.chromaTexture, w, h);
      runner.draw(this.chroma, this.chromaTexture, { u_image: this.input }, { u_imageTexel: texel });
      this.stage('chroma');
    }
    const mask = threshold === null ? null : this.adaptive!.mask;
    if (mask) {
      mask.beginLayers(this.packed, w, h, threshold!);
      this.stage('mask');
    }
    this.layers.forEach((layer, index) => {
      mask?.layer(index);
      const targets = this.activations[index % 2]!;
      const sources = this.activations[(index + 1) % 2]!;
      for (const { pass, program } of layer.passes) {
        const target = pass.outputTextures.map((t) => targets[t]!);
        for (const texture of target) runner.resize(texture, w, h);
        if (pass.packedInput) {
          runner.draw(program, target, { u_packed: this.packed }, { u_packedTexel: packedTexel });
        } else {
          const inputs: Record<string, Texture> = {};
          pass.inputTextures.forEach((t, sampler) => { inputs[`u_in${sampler}`] = sources[t]!; });
          runner.draw(program, target, inputs, { u_texel: texel });
        }
      }
      this.stage(layer.name);
    });
    mask?.endLayers();
    const last = this.activations[(this.layers.length - 1) % 2]![0]!;
    runner.resize(this.output, core.width * 2, core.height * 2);
    const inputs: Record<string, Texture> = output === 'colour'
      ? { u_last: last, u_packed: this.packed, u_chroma: this.chromaTexture }
      : { u_last: last, u_packed: this.packed };
    if (mask) inputs.u_distance = mask.distance;
    runner.draw(outputProgram, this.output, inputs,
      { u_texel: texel, u_packedTexel: packedTexel, u_core: [core.x - region.x, core.y - region.y] });
    this.stage('output');
  }

  private outputLumaProgram(): Program {
    this.outputLuma ??= this.runner.program(generateOutputPass(this.model, 'luma'));
    return this.outputLuma;
  }

  private lastStageEnd = 0;
  /** With `profile`: finishes the GL work and adds the time since the previous stage to `name`. */
  private stage(name: string | null): void {
    if (!this.options.profile) return;
    this.gl.finish();
    const now = performance.now();
    if (name !== null) this.times.set(name, (this.times.get(name) ?? 0) + now - this.lastStageEnd);
    this.lastStageEnd = now;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('this GPU upscaler was closed');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.adaptive?.mask.close();
    this.runner.close();
  }
}
