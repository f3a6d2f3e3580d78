// The two evaluation protocols of uprez's models (models/README.md), as `uprez eval`
// runs them through the real engine:
//   bicubic    the academic standard, exactly: HR cropped to even size, LR = Pillow's
//              Image.resize((w/2, h/2), Image.BICUBIC) of the RGB photo (antialiased;
//              pillow-resize.ts reproduces it bit for bit)
//   realistic  LR by each of area, bicubic, bilinear and Lanczos downscaling (antialiased),
//              each followed by JPEG at a quality in 75..95 fixed by the photo's name
// and the measure: Y-PSNR on BT.601 studio-range luma with `scale` border pixels shaved.
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { resampleCpu, resampleKernels, type ResampleKernel } from '../sr/cpu/cpu-filters.js';
import type { RasterImage } from '../sr/model.js';
import { pillowBicubicResize } from './pillow-resize.js';

export type Protocol = 'bicubic' | 'realistic';

export interface DegradedCase {
  /** e.g. 'bicubic' or 'lanczos+jpeg83' */
  label: string;
  lr: RasterImage;
}

const downscalers: Record<string, ResampleKernel> = {
  area: resampleKernels.box,
  bicubic: resampleKernels.catmullRom,
  bilinear: resampleKernels.triangle,
  lanczos: resampleKernels.lanczos3,
};

/** The image without alpha, cropped to even width and height (so x0.5 then x2 gives it back). */
export function evenCropRgb(image: RasterImage): RasterImage {
  const width = image.width - (image.width % 2);
  const height = image.height - (image.height % 2);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (y * image.width + x) * image.channels;
      data.set(image.data.subarray(from, from + 3), (y * width + x) * 3);
    }
  }
  return { width, height, channels: 3, data };
}

/** A JPEG quality in 75..95 that depends only on the photo's name and the downscaler. */
export function jpegQualityFor(name: string, method: string): number {
  const digest = createHash('sha256').update(`uprez-realistic/${name}/${method}`).digest();
  return 75 + (digest.readUInt32BE(0) % 21);
}

async function jpegRoundTrip(image: RasterImage, quality: number): Promise<RasterImage> {
  const { width, height, channels } = image;
  const jpeg = await sharp(image.data, { raw: { width, height, channels } }).jpeg({ quality }).toBuffer();
  const { data, info } = await sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: 3, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/** The low-resolution versions of one even-sized HR photo under a protocol. */
export async function degradedCases(name: string, hr: RasterImage, protocol: Protocol): Promise<DegradedCase[]> {
  const half = (kernel: ResampleKernel) => resampleCpu(hr, hr.width / 2, hr.height / 2, kernel);
  if (protocol === 'bicubic') return [{ label: 'bicubic', lr: pillowBicubicResize(hr, hr.width / 2, hr.height / 2) }];
  const cases: DegradedCase[] = [];
  for (const [method, kernel] of Object.entries(downscalers)) {
    const quality = jpegQualityFor(name, method);
    cases.push({ label: `${method}+jpeg${quality}`, lr: await jpegRoundTrip(half(kernel), quality) });
  }
  return cases;
}

/** BT.601 studio-range luma 16 + 65.481 R + 128.553 G + 24.966 B (R, G, B in [0,1]). */
export function studioLuma(image: RasterImage): Float64Array {
  const { width, height, channels, data } = image;
  const luma = new Float64Array(width * height);
  for (let i = 0; i < luma.length; i++) {
    const p = i * channels;
    luma[i] = 16 + (65.481 * data[p]! + 128.553 * data[p + 1]! + 24.966 * data[p + 2]!) / 255;
  }
  return luma;
}

/** Y-PSNR in dB of `image` against `reference` (same size), `shave` border pixels left out. */
export function yPsnr(image: RasterImage, reference: RasterImage, shave: number): number {
  if (image.width !== reference.width || image.height !== reference.height) {
    throw new Error(`Y-PSNR: sizes differ (${image.width}x${image.height} vs ${reference.width}x${reference.height})`);
  }
  const a = studioLuma(image);
  const b = studioLuma(reference);
  let sum = 0;
  let count = 0;
  for (let y = shave; y < image.height - shave; y++) {
    for (let x = shave; x < image.width - shave; x++) {
      const d = a[y * image.width + x]! - b[y * image.width + x]!;
      sum += d * d;
      count++;
    }
  }
  if (count === 0) throw new Error(`Y-PSNR: the image is too small to shave ${shave} pixels off each border`);
  return sum === 0 ? Infinity : 10 * Math.log10((255 * 255) / (sum / count));
}
