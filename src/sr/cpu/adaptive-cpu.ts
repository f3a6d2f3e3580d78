// The CPU reference of adaptive compute (../adaptive.ts): the same mask as the GPU engine, and
// the same output. It runs the whole network (the CPU reference need not be fast) and uses the
// mask only to weigh the network against the residual base, which gives what the GPU engine
// gives when it skips the pixels whose weight is 0.
import { adaptivePlan, blendWeight, effortThreshold, type AdaptiveMask } from '../adaptive.js';
import type { LumaImage, SrModel } from '../model.js';
import { runLayersCpu } from './cpu-reference.js';
import { roundByte, upsample2 } from './cpu-filters.js';

/** Pixels whose 3x3 luma range (edges replicated) reaches `threshold`. */
export function heavyPixels(luma: LumaImage, threshold: number): Uint8Array {
  const { width, height, data } = luma;
  const heavy = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let lo = 255;
      let hi = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const row = Math.min(Math.max(y + dy, 0), height - 1) * width;
        for (let dx = -1; dx <= 1; dx++) {
          const v = data[row + Math.min(Math.max(x + dx, 0), width - 1)]!;
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
      }
      heavy[y * width + x] = hi - lo >= threshold ? 1 : 0;
    }
  }
  return heavy;
}

/** Chebyshev distance to the nearest set pixel, capped at `cap`: a row pass, then a column pass. */
export function distanceToHeavy(heavy: Uint8Array, width: number, height: number, cap: number): Uint8Array {
  const across = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let d = cap;
      for (let k = Math.max(-x, 1 - cap); k < cap && x + k < width; k++) {
        if (heavy[y * width + x + k]) d = Math.min(d, Math.abs(k));
      }
      across[y * width + x] = d;
    }
  }
  const distance = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let d = cap;
      for (let k = Math.max(-y, 1 - cap); k < cap && y + k < height; k++) {
        d = Math.min(d, Math.max(Math.abs(k), across[(y + k) * width + x]!));
      }
      distance[y * width + x] = d;
    }
  }
  return distance;
}

export function adaptiveMaskCpu(model: SrModel, luma: LumaImage, effort: number): AdaptiveMask {
  const heavy = heavyPixels(luma, effortThreshold(effort));
  return { width: luma.width, height: luma.height, distance: distanceToHeavy(heavy, luma.width, luma.height, adaptivePlan(model).cap) };
}

/** Luma x2 with the network weighed by the mask against the residual base (bicubic without a residual). */
export function runNetworkAdaptiveCpu(model: SrModel, luma: LumaImage, mask: AdaptiveMask): LumaImage {
  const { width, height } = luma;
  const last = runLayersCpu(model.layers, luma);
  const residual = model.output.residual;
  const base = upsample2(luma.data, width, height, residual?.base ?? 'bicubic');
  const ow = width * 2;
  const data = new Uint8Array(ow * height * 2);
  for (let y = 0; y < height * 2; y++) {
    for (let x = 0; x < ow; x++) {
      const lr = (y >> 1) * width + (x >> 1);
      const weight = blendWeight(mask.distance[lr]!);
      const stored = last.planes[(y & 1) * 2 + (x & 1)]![lr]!;
      const i = y * ow + x;
      // In byte units, as runNetworkCpu: with weight 1 this is exactly its expression.
      const correction = residual ? residual.gain * (stored - residual.offset * 255) : stored - base[i]!;
      data[i] = roundByte(base[i]! + weight * correction);
    }
  }
  return { width: ow, height: height * 2, data };
}
