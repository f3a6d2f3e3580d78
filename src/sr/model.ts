// The `uprez-sr/1` model file: its types. Loading and validation live in load-model.ts.
// The semantics (what a layer computes) are in SEMANTICS.md beside this file.

export interface ConvLayer {
  op: 'conv2d';
  in: number;
  out: number;
  /** Odd kernel size (1, 3, 5, ...). */
  kernel: number;
  groups: number;
  activation: 'brelu';
  /** PyTorch order [out][in/groups][ky][kx], flattened. */
  weights: number[];
  bias: number[];
}

export interface Residual {
  base: 'bicubic' | 'bilinear';
  offset: number;
  gain: number;
}

export interface LumaTestVector {
  input: { width: number; height: number; luma: number[] };
  output: { width: number; height: number; luma: number[] };
}

export interface SrModel {
  format: 'uprez-sr/1';
  name: string;
  scale: 2;
  input: 'luma';
  layers: ConvLayer[];
  output: { op: 'depthToSpace'; block: 2; residual: Residual | null };
  test?: LumaTestVector;
  metrics?: { params: number; macsPerInputPixel: number; [key: string]: unknown };
}

/** A single-channel 8-bit image (luma), rows top to bottom. */
export interface LumaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** An 8-bit sRGB image, rows top to bottom, channels interleaved. */
export interface RasterImage {
  width: number;
  height: number;
  channels: 3 | 4;
  data: Uint8Array;
}

export interface UpscaleOptions {
  /** Number of x2 SR steps: 0, 1 (x2) or 2 (x4). */
  steps: 0 | 1 | 2;
  /** Resample to exactly this size after the SR steps. */
  size?: { width: number; height: number };
  /**
   * 0..1, default 1: the share of the network's work to spend (adaptive compute, adaptive.ts).
   * 1 = the full network everywhere; lower runs it only on pixels with more detail.
   */
  effort?: number;
}

/** What an SR engine does: the GPU engine and the CPU reference both are one. */
export interface Upscaler {
  upscale(image: RasterImage, options: UpscaleOptions): RasterImage;
  close(): void;
}

/** Throws a RangeError when `image` is not a well-formed RasterImage (engines check their input). */
export function checkRasterImage(image: RasterImage): void {
  const { width, height, channels, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`invalid image size ${width}x${height}`);
  }
  if (channels !== 3 && channels !== 4) throw new RangeError(`images have 3 or 4 channels, got ${String(channels)}`);
  if (data.length !== width * height * channels) {
    throw new RangeError(`image data has ${data.length} bytes, expected ${width}x${height}x${channels} = ${width * height * channels}`);
  }
}
