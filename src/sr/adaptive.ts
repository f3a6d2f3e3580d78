// Adaptive compute (issue 19): the network runs only where the picture has detail. Both
// engines share these definitions, so the CPU reference pins the GPU engine's mask and output.
//
// Per low-resolution pixel of an x2 step:
//   detail   = max - min of the 8-bit luma in its 3x3 window (edges replicated)
//   heavy    = detail >= effortThreshold(effort)
//   distance = Chebyshev distance to the nearest heavy pixel, capped at plan.cap
//   weight   = max(0, 1 - distance / (BLEND + 1)): 1 on heavy pixels, 1/2 next to them, else 0
//   luma out = round8(base + weight * gain * (v - offset))   (v: the network; base: bicubic)
// A heavy pixel gets exactly the full network's value; a pixel far from any gets the residual
// base (bicubic) alone; the ring between them is blended, so no seam shows. Layer l is computed
// only where distance <= BLEND + (radius of the layers after l): every value a weighted pixel
// reads is then computed exactly as the full network computes it.
import type { SrModel } from './model.js';

/** Pixels around heavy ones that take a blend of the network and the base (weight 1/2 at 1). */
export const BLEND = 1;

/** Checks an effort (0..1); 1 = the full network everywhere, which never enters the adaptive path. */
export function checkEffort(effort: number): void {
  if (!(effort >= 0 && effort <= 1)) throw new RangeError(`effort must be between 0 and 1, got ${String(effort)}`);
}

/**
 * The detail (3x3 luma range, in bytes) from which a pixel is heavy at this effort:
 * ceil(256 (1 - effort)^2): 1 near effort 1 (every pixel that is not flat), 256 at 0 (none).
 */
export function effortThreshold(effort: number): number {
  checkEffort(effort);
  return Math.ceil(256 * (1 - effort) ** 2);
}

/** A step's mask: per low-resolution pixel, the distance to the nearest heavy pixel, capped (0 = heavy). */
export interface AdaptiveMask {
  width: number;
  height: number;
  distance: Uint8Array;
}

/** Share of the mask's pixels that are heavy. */
export function heavyShare(mask: AdaptiveMask): number {
  let heavy = 0;
  for (const d of mask.distance) if (d === 0) heavy++;
  return heavy / mask.distance.length;
}

export interface AdaptivePlan {
  /** Per layer: the largest distance from a heavy pixel at which the layer must still be computed. */
  layerReach: number[];
  /** Distances are capped here (one more than the largest reach: "too far to matter"). */
  cap: number;
}

export function adaptivePlan(model: SrModel): AdaptivePlan {
  const radii = model.layers.map((layer) => (layer.kernel - 1) / 2);
  const layerReach = radii.map((_, l) => BLEND + radii.slice(l + 1).reduce((sum, r) => sum + r, 0));
  return { layerReach, cap: Math.max(...layerReach) + 1 };
}

/** The blend weight of a pixel at `distance` from the nearest heavy pixel (dyadic: exact in float). */
export function blendWeight(distance: number): number {
  return Math.max(0, 1 - distance / (BLEND + 1));
}
