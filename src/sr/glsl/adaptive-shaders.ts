// The passes of adaptive compute's mask (../adaptive.ts), from the templates in shaders/mask-*.frag:
// detail (heavy or not, from the packed luma), distance along x then y, and the stencil writer.
import type { SrModel } from '../model.js';
import type { AdaptivePlan } from '../adaptive.js';
import { fillTemplate, packedMargin } from './shader-gen.js';

export function generateMaskDetailPass(model: SrModel, plan: AdaptivePlan): string {
  return fillTemplate('mask-detail.frag', { MARGIN: packedMargin(model), CAP: plan.cap });
}

/** One axis of the capped Chebyshev distance; it looks as far as any layer's reach. */
export function generateMaskDistancePass(plan: AdaptivePlan, axis: 'x' | 'y'): string {
  return fillTemplate('mask-distance.frag', { AXIS: axis, CAP: plan.cap, REACH: plan.cap - 1 });
}

export function generateMaskStencilPass(): string {
  return fillTemplate('mask-stencil.frag', {});
}
