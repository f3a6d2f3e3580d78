// Placement: where an image goes on the screen and how it gets there. Pure arithmetic, no I/O:
// from the image size, the screen size, the rotation and the fit mode, it decides
//   - the canvas: the upright picture the viewer sees (the screen's size, width and height
//     swapped when the screen is turned 90 or 270 degrees; the compositor rotates it),
//   - the crop of the image that is shown (cover crops the overflow, centred),
//   - the target rectangle on the canvas it fills,
//   - whether the CPU shrinks it first (a large photo never goes to the GPU whole),
//   - how many x2 super-resolution steps it gets (0, 1 or 2) before one GPU resample to the
//     exact target size.
export type Fit = 'contain' | 'cover' | 'fill';
export type Rotation = 0 | 90 | 180 | 270;

export interface Size {
  width: number;
  height: number;
}

export interface Rect extends Size {
  x: number;
  y: number;
}

export interface PlacementOptions {
  fit: Fit;
  rotate: Rotation;
  /** false when there is no model (`--model none`): never any SR step. */
  srAvailable: boolean;
}

export interface Placement {
  canvas: Size;
  /** The part of the decoded image that is shown, in image pixels. */
  crop: Rect;
  /** Where the crop lands on the canvas, in canvas pixels. */
  target: Rect;
  /** Set when the crop is larger than the target in a dimension: the CPU shrinks it to this first. */
  cpuDownscale: Size | null;
  /** How much the shown part grows on screen (the larger of the two axes; below 1 it shrinks). */
  growth: number;
  srSteps: 0 | 1 | 2;
  /** One line saying why, for `uprez plan` and `--explain`. */
  reason: string;
}

/**
 * Growth below which SR is not worth its cost: a resample by less than 1.3x loses little
 * detail, and SR x2 followed by a shrink to 1.3x would mostly be thrown away.
 */
export const MIN_GROWTH_FOR_SR = 1.3;
/**
 * Growth above which two x2 steps beat one x2 step followed by a large resample: past 2.6x,
 * one step would leave the resample to invent more than 1.3x on its own.
 */
export const MIN_GROWTH_FOR_TWO_STEPS = 2.6;

export function canvasSize(screen: Size, rotate: Rotation): Size {
  return rotate === 90 || rotate === 270 ? { width: screen.height, height: screen.width } : { width: screen.width, height: screen.height };
}

export function planPlacement(image: Size, screen: Size, options: PlacementOptions): Placement {
  if (image.width < 1 || image.height < 1) throw new RangeError(`image size ${image.width}x${image.height} is empty`);
  const canvas = canvasSize(screen, options.rotate);
  let crop: Rect = { x: 0, y: 0, width: image.width, height: image.height };
  let target: Rect = { x: 0, y: 0, width: canvas.width, height: canvas.height };

  if (options.fit === 'contain') {
    const scale = Math.min(canvas.width / image.width, canvas.height / image.height);
    const width = clamp(Math.round(image.width * scale), 1, canvas.width);
    const height = clamp(Math.round(image.height * scale), 1, canvas.height);
    target = { x: Math.floor((canvas.width - width) / 2), y: Math.floor((canvas.height - height) / 2), width, height };
  } else if (options.fit === 'cover') {
    const scale = Math.max(canvas.width / image.width, canvas.height / image.height);
    const width = clamp(Math.round(canvas.width / scale), 1, image.width);
    const height = clamp(Math.round(canvas.height / scale), 1, image.height);
    crop = { x: Math.floor((image.width - width) / 2), y: Math.floor((image.height - height) / 2), width, height };
  }

  const growth = Math.max(target.width / crop.width, target.height / crop.height);
  const shrinks = crop.width > target.width || crop.height > target.height;
  // Shrinking on the CPU (sharp, antialiased) keeps big photos off the GPU; the result is then
  // at most the target size in both dimensions, so only fill's stretched axis may still grow.
  const cpuDownscale = shrinks
    ? { width: Math.min(crop.width, target.width), height: Math.min(crop.height, target.height) }
    : null;
  const source = cpuDownscale ?? crop;
  const grows = Math.max(target.width / source.width, target.height / source.height);

  let srSteps: 0 | 1 | 2 = 0;
  let why: string;
  if (!options.srAvailable) why = 'no model: resample only';
  else if (grows < MIN_GROWTH_FOR_SR) why = grows <= 1 ? 'already at screen size: no SR' : `grows ${grows.toFixed(2)}x (< ${MIN_GROWTH_FOR_SR}): resample only`;
  else if (grows <= MIN_GROWTH_FOR_TWO_STEPS) {
    srSteps = 1;
    why = `grows ${grows.toFixed(2)}x: SR x2 then resample`;
  } else {
    srSteps = 2;
    why = `grows ${grows.toFixed(2)}x (> ${MIN_GROWTH_FOR_TWO_STEPS}): SR x4 (two x2 steps) then resample`;
  }
  const parts = [
    `${options.fit} ${image.width}x${image.height}`,
    crop.width !== image.width || crop.height !== image.height ? `crop ${rectText(crop)}` : '',
    cpuDownscale ? `CPU shrink to ${cpuDownscale.width}x${cpuDownscale.height}` : '',
    `-> ${rectText(target)} on a ${canvas.width}x${canvas.height} canvas${options.rotate ? ` turned ${options.rotate}°` : ''}`,
    `(${why})`,
  ];
  return { canvas, crop, target, cpuDownscale, growth, srSteps, reason: parts.filter(Boolean).join(', ').replace(', (', ' (') };
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

export function rectText(rect: Rect): string {
  return `${rect.width}x${rect.height}+${rect.x}+${rect.y}`;
}
