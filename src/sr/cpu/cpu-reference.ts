// The CPU reference engine: exactly ../SEMANTICS.md in plain TypeScript, 8-bit rounding between
// layers included. Tests compare the GPU engine with it; `uprez upscale --backend cpu` uses it.
//
// Activations are planar bytes (what the GPU keeps in RGBA8 textures). Each output row is
// computed from a small float window of the input rows it needs, with the weights hoisted
// into a Float32Array (the GPU's float32 constants), so the inner loop is a plain
// multiply-add over a row.
import { checkRasterImage, type ConvLayer, type LumaImage, type RasterImage, type SrModel, type Upscaler } from '../model.js';
import { resampleCpu, roundByte, toByte, upsample2 } from './cpu-filters.js';
import { checkEffort } from '../adaptive.js';
import { adaptiveMaskCpu, runNetworkAdaptiveCpu } from './adaptive-cpu.js';

/** Activations of one layer: `channels` planes of width x height bytes. */
export interface Activations {
  width: number;
  height: number;
  planes: Uint8Array[];
}

const UNIT = new Float32Array(256).map((_, i) => i / 255);

/**
 * How a layer's multiply-adds are scheduled: output channels in blocks of 4 (each input value
 * is loaded once for 4 outputs) and the taps (input channel, ky, kx) of their group in runs of 3
 * (3 input values per load and store of the accumulators). A block's missing outputs and a last
 * run's missing taps get weight 0.
 */
interface LayerPlan {
  blocks: Array<{ outputs: number[]; runs: Int32Array; weights: Float32Array }>;
  bias: Float32Array;
}

const RUN = 3;

function planLayer(layer: ConvLayer, paddedWidth: number): LayerPlan {
  const { kernel, groups } = layer;
  const inPerGroup = layer.in / groups;
  const outPerGroup = layer.out / groups;
  const taps = inPerGroup * kernel * kernel;
  const blocks: LayerPlan['blocks'] = [];
  for (let g = 0; g < groups; g++) {
    // Window offsets of this group's taps, in the weights' order [in/groups][ky][kx].
    const offsets: number[] = [];
    for (let i = 0; i < inPerGroup; i++) {
      for (let ky = 0; ky < kernel; ky++) {
        for (let kx = 0; kx < kernel; kx++) offsets.push(((g * inPerGroup + i) * kernel + ky) * paddedWidth + kx);
      }
    }
    const runCount = Math.ceil(taps / RUN);
    const runs = Int32Array.from({ length: runCount * RUN }, (_, t) => offsets[Math.min(t, taps - 1)]!);
    for (let first = g * outPerGroup; first < (g + 1) * outPerGroup; first += 4) {
      const outputs: number[] = [];
      for (let o = first; o < Math.min(first + 4, (g + 1) * outPerGroup); o++) outputs.push(o);
      // weights[(run * 4 + slot) * RUN + t]: output `slot` of the block, tap t of the run.
      const weights = new Float32Array(runCount * 4 * RUN);
      outputs.forEach((o, slot) => {
        for (let tap = 0; tap < taps; tap++) {
          weights[(Math.floor(tap / RUN) * 4 + slot) * RUN + (tap % RUN)] = layer.weights[o * taps + tap]!;
        }
      });
      blocks.push({ outputs, runs, weights });
    }
  }
  return { blocks, bias: Float32Array.from(layer.bias) };
}

/** One layer: "same" conv, edge-replicate padding, bias, brelu, round8. */
export function convLayerCpu(layer: ConvLayer, input: Activations): Activations {
  const { width, height } = input;
  const { kernel } = layer;
  if (input.planes.length !== layer.in) {
    throw new Error(`conv layer expects ${layer.in} input channels, got ${input.planes.length}`);
  }
  const radius = (kernel - 1) / 2;
  const paddedWidth = width + 2 * radius;
  const plan = planLayer(layer, paddedWidth);

  // window[(c * kernel + ky) * paddedWidth + px]: input row y + ky - radius of channel c,
  // padded left and right by replicating the edge pixel, as unit floats (what a shader reads).
  const window = new Float32Array(layer.in * kernel * paddedWidth);
  const acc = [0, 1, 2, 3].map(() => new Float64Array(width));
  const [a0, a1, a2, a3] = acc as [Float64Array, Float64Array, Float64Array, Float64Array];
  const planes = Array.from({ length: layer.out }, () => new Uint8Array(width * height));

  for (let y = 0; y < height; y++) {
    for (let c = 0; c < layer.in; c++) {
      const plane = input.planes[c]!;
      for (let ky = 0; ky < kernel; ky++) {
        const sy = Math.min(Math.max(y + ky - radius, 0), height - 1) * width;
        const base = (c * kernel + ky) * paddedWidth;
        for (let px = 0; px < paddedWidth; px++) {
          const sx = Math.min(Math.max(px - radius, 0), width - 1);
          window[base + px] = UNIT[plane[sy + sx]!]!;
        }
      }
    }
    for (const { outputs, runs, weights: w } of plan.blocks) {
      outputs.forEach((o, slot) => acc[slot]!.fill(plan.bias[o]!));
      for (let r = 0, p = 0; r < runs.length; r += RUN, p += 4 * RUN) {
        const s0 = runs[r]!, s1 = runs[r + 1]!, s2 = runs[r + 2]!;
        const w00 = w[p]!, w01 = w[p + 1]!, w02 = w[p + 2]!, w10 = w[p + 3]!, w11 = w[p + 4]!, w12 = w[p + 5]!;
        const w20 = w[p + 6]!, w21 = w[p + 7]!, w22 = w[p + 8]!, w30 = w[p + 9]!, w31 = w[p + 10]!, w32 = w[p + 11]!;
        for (let x = 0; x < width; x++) {
          const v0 = window[s0 + x]!, v1 = window[s1 + x]!, v2 = window[s2 + x]!;
          a0[x]! += w00 * v0 + w01 * v1 + w02 * v2;
          a1[x]! += w10 * v0 + w11 * v1 + w12 * v2;
          a2[x]! += w20 * v0 + w21 * v1 + w22 * v2;
          a3[x]! += w30 * v0 + w31 * v1 + w32 * v2;
        }
      }
      const rowStart = y * width;
      outputs.forEach((o, slot) => {
        const out = planes[o]!;
        const sums = acc[slot]!;
        for (let x = 0; x < width; x++) out[rowStart + x] = toByte(sums[x]!);
      });
    }
  }
  return { width, height, planes };
}

/** Runs the layers on an 8-bit luma plane; returns the last layer's stored activations. */
export function runLayersCpu(layers: readonly ConvLayer[], luma: LumaImage): Activations {
  let activations: Activations = { width: luma.width, height: luma.height, planes: [luma.data] };
  for (const layer of layers) activations = convLayerCpu(layer, activations);
  return activations;
}

/** Luma super-resolution x2: network, depth-to-space (PixelShuffle order), optional residual. */
export function runNetworkCpu(model: SrModel, luma: LumaImage): LumaImage {
  const { width, height } = luma;
  const last = runLayersCpu(model.layers, luma);
  // The residual in byte units: with dyadic gain and offset (0.5, 1) it is exact, so a value that
  // is exactly k + 0.5 rounds up as round8 says instead of wherever float error puts it.
  const residual = model.output.residual;
  const base = residual ? upsample2(luma.data, width, height, residual.base) : null;
  const ow = width * 2;
  const data = new Uint8Array(ow * height * 2);
  for (let y = 0; y < height * 2; y++) {
    for (let x = 0; x < ow; x++) {
      // channel = dy * 2 + dx, read from the low-resolution pixel (x/2, y/2).
      const stored = last.planes[(y & 1) * 2 + (x & 1)]![(y >> 1) * width + (x >> 1)]!;
      const i = y * ow + x;
      data[i] = residual && base
        ? roundByte(base[i]! + residual.gain * (stored - residual.offset * 255))
        : stored;
    }
  }
  return { width: ow, height: height * 2, data };
}

/** Neutral chroma: 128/255 is exact in 8 bits, so grey stays exactly grey. */
export const CHROMA_ZERO = 128 / 255;

/** BT.601 luma (8-bit) and chroma (8-bit, from the unrounded luma) of an RGB(A) image. */
export function splitLumaChroma(image: RasterImage): { luma: LumaImage; cb: Uint8Array; cr: Uint8Array } {
  const { width, height, channels, data } = image;
  const count = width * height;
  const luma = new Uint8Array(count);
  const cb = new Uint8Array(count);
  const cr = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const r = data[i * channels]! / 255;
    const g = data[i * channels + 1]! / 255;
    const b = data[i * channels + 2]! / 255;
    const y = 0.299 * r + 0.587 * g + 0.114 * b;
    luma[i] = toByte(y);
    cb[i] = toByte((b - y) * 0.564 + CHROMA_ZERO);
    cr[i] = toByte((r - y) * 0.713 + CHROMA_ZERO);
  }
  return { luma: { width, height, data: luma }, cb, cr };
}

/**
 * One x2 step on a colour image: SR on luma (`superResolve`, by default the network), bilinear
 * chroma and alpha, recombine.
 */
export function srStepCpu(model: SrModel, image: RasterImage,
  superResolve: (luma: LumaImage) => LumaImage = (luma) => runNetworkCpu(model, luma)): RasterImage {
  const { width, height, channels } = image;
  const { luma, cb, cr } = splitLumaChroma(image);
  const yo = superResolve(luma).data;
  const cbUp = upsample2(cb, width, height, 'bilinear');
  const crUp = upsample2(cr, width, height, 'bilinear');
  const alphaUp = channels === 4 ? upsample2(image.data, width, height, 'bilinear', 4, 3) : null;
  const count = width * height * 4;
  const data = new Uint8Array(count * channels);
  for (let i = 0; i < count; i++) {
    const yv = yo[i]! / 255;
    const u = cbUp[i]! / 255 - CHROMA_ZERO;
    const v = crUp[i]! / 255 - CHROMA_ZERO;
    const o = i * channels;
    data[o] = toByte(yv + 1.403 * v);
    data[o + 1] = toByte(yv - 0.344 * u - 0.714 * v);
    data[o + 2] = toByte(yv + 1.773 * u);
    if (alphaUp) data[o + 3] = roundByte(alphaUp[i]!);
  }
  return { width: width * 2, height: height * 2, channels, data };
}

export function createCpuUpscaler(model: SrModel): Upscaler {
  return {
    upscale(image, options) {
      checkRasterImage(image);
      const effort = options.effort ?? 1;
      checkEffort(effort);
      // Effort 1 is the full network: the adaptive path is not entered.
      const superResolve = effort < 1
        ? (luma: LumaImage) => runNetworkAdaptiveCpu(model, luma, adaptiveMaskCpu(model, luma, effort))
        : undefined;
      let result = image;
      for (let step = 0; step < options.steps; step++) result = srStepCpu(model, result, superResolve);
      if (options.size) result = resampleCpu(result, options.size.width, options.size.height);
      return result;
    },
    close() {},
  };
}
