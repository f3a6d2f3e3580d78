// The CPU reference's filters (../SEMANTICS.md): the x2 upsampling used for the residual base,
// chroma and alpha (PyTorch `interpolate`, align_corners=False), and the Catmull-Rom resample
// to an exact size. Written for clarity first; they are cheap next to the network.
import type { RasterImage } from '../model.js';

/** round8 as a byte: clamp to [0,1], then the nearest k/255 (half up). */
export function toByte(x: number): number {
  return x <= 0 ? 0 : x >= 1 ? 255 : Math.floor(x * 255 + 0.5);
}

/** The same for a value already in byte units (0..255), where exact halves stay exact. */
export function roundByte(s: number): number {
  return s <= 0 ? 0 : s >= 255 ? 255 : Math.floor(s + 0.5);
}

/** One output coordinate's taps along an axis: source indices (already clamped) and weights. */
interface AxisTaps {
  index: Int32Array;
  weight: Float64Array;
  /** taps per output coordinate */
  count: number;
}

function clampIndex(i: number, n: number): number {
  return i < 0 ? 0 : i >= n ? n - 1 : i;
}

/** PyTorch's cubic convolution with A = -0.75 (upsample_bicubic2d). */
const CUBIC_A = -0.75;
function cubicNear(x: number): number {
  return ((CUBIC_A + 2) * x - (CUBIC_A + 3)) * x * x + 1;
}
function cubicFar(x: number): number {
  return ((CUBIC_A * x - 5 * CUBIC_A) * x + 8 * CUBIC_A) * x - 4 * CUBIC_A;
}

export type UpsampleKind = 'bicubic' | 'bilinear';

/** Taps for doubling an axis of n pixels, as PyTorch computes them with align_corners=False. */
function doublingTaps(n: number, kind: UpsampleKind): AxisTaps {
  const m = n * 2;
  const count = kind === 'bicubic' ? 4 : 2;
  const index = new Int32Array(m * count);
  const weight = new Float64Array(m * count);
  for (let x = 0; x < m; x++) {
    const src = (x + 0.5) / 2 - 0.5;
    const at = x * count;
    if (kind === 'bicubic') {
      const x0 = Math.floor(src);
      const t = src - x0;
      const w = [cubicFar(t + 1), cubicNear(t), cubicNear(1 - t), cubicFar(2 - t)];
      for (let k = 0; k < 4; k++) {
        index[at + k] = clampIndex(x0 - 1 + k, n);
        weight[at + k] = w[k]!;
      }
    } else {
      // PyTorch clamps a negative source coordinate to 0 for (bi)linear modes.
      const s = Math.max(src, 0);
      const x0 = Math.floor(s);
      const t = s - x0;
      index[at] = clampIndex(x0, n);
      index[at + 1] = clampIndex(x0 + 1, n);
      weight[at] = 1 - t;
      weight[at + 1] = t;
    }
  }
  return { index, weight, count };
}

/**
 * Doubles an 8-bit plane in both directions without rounding: the result is a (2w x 2h) plane
 * in byte units (0..255, not clamped: bicubic may overshoot). Byte units keep the x2 weights'
 * products exact, so a value that is exactly k + 0.5 rounds up as round8 says.
 * `stride`/`offset` pick one channel out of interleaved data.
 */
export function upsample2(plane: Uint8Array, width: number, height: number, kind: UpsampleKind,
  stride = 1, offset = 0): Float64Array {
  const ow = width * 2;
  const oh = height * 2;
  const xt = doublingTaps(width, kind);
  const yt = doublingTaps(height, kind);
  const count = xt.count;
  // Horizontal pass into a (ow x height) float plane, then vertical; no rounding in between.
  const rows = new Float64Array(ow * height);
  for (let y = 0; y < height; y++) {
    const inRow = y * width;
    const outRow = y * ow;
    for (let x = 0; x < ow; x++) {
      let sum = 0;
      for (let k = 0; k < count; k++) {
        sum += xt.weight[x * count + k]! * plane[(inRow + xt.index[x * count + k]!) * stride + offset]!;
      }
      rows[outRow + x] = sum;
    }
  }
  const out = new Float64Array(ow * oh);
  for (let y = 0; y < oh; y++) {
    const outRow = y * ow;
    for (let k = 0; k < count; k++) {
      const w = yt.weight[y * count + k]!;
      const inRow = yt.index[y * count + k]! * ow;
      for (let x = 0; x < ow; x++) out[outRow + x]! += w * rows[inRow + x]!;
    }
  }
  return out;
}

/** Resampling kernels: `weight(x)` for a tap at distance x (in source pixels), zero beyond `support`. */
export interface ResampleKernel {
  support: number;
  weight(x: number): number;
}

export const resampleKernels = {
  /** Catmull-Rom (a = -0.5): the engine's resample kernel (../SEMANTICS.md). */
  catmullRom: {
    support: 2,
    weight(x: number): number {
      const ax = Math.abs(x);
      if (ax < 1) return (1.5 * ax - 2.5) * ax * ax + 1;
      if (ax < 2) return ((-0.5 * ax + 2.5) * ax - 4) * ax + 2;
      return 0;
    },
  },
  /** Triangle: bilinear. */
  triangle: { support: 1, weight: (x: number) => Math.max(0, 1 - Math.abs(x)) },
  /** Lanczos with 3 lobes. */
  lanczos3: {
    support: 3,
    weight(x: number): number {
      if (x === 0) return 1;
      if (Math.abs(x) >= 3) return 0;
      const px = Math.PI * x;
      return (3 * Math.sin(px) * Math.sin(px / 3)) / (px * px);
    },
  },
  /** Box: the area average. */
  box: { support: 0.5, weight: (x: number) => (Math.abs(x) <= 0.5 ? 1 : 0) },
} satisfies Record<string, ResampleKernel>;

/** Taps (variable count, padded with zero weights) to resample an axis from n to m pixels. */
function resampleTaps(n: number, m: number, kernel: ResampleKernel): AxisTaps {
  const s = n / m;
  const stretch = s > 1 ? s : 1; // antialias when shrinking: widen the kernel
  const support = kernel.support * stretch;
  const perOutput: Array<{ index: number[]; weight: number[] }> = [];
  let count = 0;
  for (let x = 0; x < m; x++) {
    const c = (x + 0.5) * s - 0.5;
    const index: number[] = [];
    const weight: number[] = [];
    let total = 0;
    for (let i = Math.floor(c - support) + 1; i <= Math.floor(c + support); i++) {
      const w = kernel.weight((i - c) / stretch);
      index.push(clampIndex(i, n));
      weight.push(w);
      total += w;
    }
    perOutput.push({ index, weight: weight.map((w) => w / total) });
    count = Math.max(count, index.length);
  }
  const index = new Int32Array(m * count);
  const weight = new Float64Array(m * count);
  perOutput.forEach((taps, x) => {
    taps.index.forEach((i, k) => {
      index[x * count + k] = i;
      weight[x * count + k] = taps.weight[k]!;
    });
  });
  return { index, weight, count };
}

/**
 * Resamples every channel to exactly width x height: horizontal pass (8-bit), then vertical.
 * The engine always uses Catmull-Rom; the other kernels serve the evaluation's degradations.
 */
export function resampleCpu(image: RasterImage, width: number, height: number,
  kernel: ResampleKernel = resampleKernels.catmullRom): RasterImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`resample: invalid target size ${width}x${height}`);
  }
  const horizontal = image.width === width ? image : resampleAxis(image, width, 'x', kernel);
  return horizontal.height === height ? horizontal : resampleAxis(horizontal, height, 'y', kernel);
}

function resampleAxis(image: RasterImage, size: number, axis: 'x' | 'y', kernel: ResampleKernel): RasterImage {
  const { channels } = image;
  const width = axis === 'x' ? size : image.width;
  const height = axis === 'y' ? size : image.height;
  const taps = resampleTaps(axis === 'x' ? image.width : image.height, size, kernel);
  // Distance in bytes between neighbours along the axis.
  const step = axis === 'x' ? channels : image.width * channels;
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const along = axis === 'x' ? x : y;
      // Byte offset of the first source pixel of this output's line (index 0 along the axis).
      const lineStart = axis === 'x' ? y * image.width * channels : x * channels;
      for (let ch = 0; ch < channels; ch++) {
        let sum = 0;
        for (let k = 0; k < taps.count; k++) {
          const w = taps.weight[along * taps.count + k]!;
          if (w !== 0) sum += w * image.data[lineStart + taps.index[along * taps.count + k]! * step + ch]!;
        }
        data[(y * width + x) * channels + ch] = roundByte(sum);
      }
    }
  }
  return { width, height, channels, data };
}
