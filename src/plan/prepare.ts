// From image bytes to what the screen needs: decode (sharp: orientation, sRGB, limits), plan
// the placement, crop and shrink on the CPU (a large photo never reaches the GPU whole), and
// make contain's background (a blurred, darkened copy, or a colour).
import { webcrypto } from 'node:crypto';
import sharp from 'sharp';
import { decodeImage } from '../decode/decode.js';
import type { RasterImage } from '../sr/model.js';
import { toShared } from '../sr/shared-pixels.js';
import type { Background } from '../show/compositor.js';
import { planPlacement, type Fit, type Placement, type Rotation, type Size } from './placement.js';

export interface PrepareOptions {
  screen: Size;
  fit: Fit;
  rotate: Rotation;
  background: { kind: 'blur' } | { kind: 'colour'; rgb: [number, number, number] };
  srAvailable: boolean;
  maxPixels: number;
}

export interface PreparedPicture {
  /** sha256 of the file's bytes: the cache key's content part. */
  contentHash: string;
  bytes: number;
  decoded: Size;
  /** The file's format as sharp names it ('jpeg', 'png', ...): JPEGs get the model's JPEG variant. */
  format: string;
  placement: Placement;
  /** The fit it was placed with (a pushed image may have its own). */
  fit: Fit;
  /** The crop, shrunk when needed: what the preview resamples and SR super-resolves. */
  source: RasterImage;
  background: Background;
  decodeMs: number;
}

/** The blurred background is made this much smaller than the canvas: it is blurry anyway. */
const BACKGROUND_SHRINK = 8;

export async function preparePicture(bytes: Buffer, label: string, options: PrepareOptions): Promise<PreparedPicture> {
  const started = performance.now();
  // WebCrypto hashes on libuv's thread pool, alongside the decode, not in this thread's turn.
  const hashing = webcrypto.subtle.digest('SHA-256', bytes);
  hashing.catch(() => {}); // awaited below, after the decode (which may throw first)
  const { format, ...decoded } = await decodeImage(bytes, label, { maxPixels: options.maxPixels, limitSetting: '--max-pixels N' });
  const contentHash = Buffer.from(await hashing).toString('hex');
  const placement = planPlacement(decoded, options.screen, options);
  const source = await cropAndShrink(decoded, placement);
  const needsBackground = placement.target.width < placement.canvas.width || placement.target.height < placement.canvas.height;
  let background: Background = { kind: 'colour', rgb: [0, 0, 0] };
  if (options.background.kind === 'colour') background = { kind: 'colour', rgb: options.background.rgb };
  else if (needsBackground) background = { kind: 'image', image: await blurredBackground(source, placement.canvas) };
  return { contentHash, bytes: bytes.length, decoded: { width: decoded.width, height: decoded.height }, format, placement, fit: options.fit, source, background, decodeMs: performance.now() - started };
}

function raw(image: RasterImage) {
  return sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.length), {
    raw: { width: image.width, height: image.height, channels: image.channels },
  });
}

async function cropAndShrink(image: RasterImage, placement: Placement): Promise<RasterImage> {
  const { crop, cpuDownscale } = placement;
  const cropped = crop.width !== image.width || crop.height !== image.height;
  // In shared memory: the display thread and the SR thread read it without a copy.
  if (!cropped && !cpuDownscale) return { ...image, data: toShared(image.data) };
  let pipeline = raw(image);
  if (cropped) pipeline = pipeline.extract({ left: crop.x, top: crop.y, width: crop.width, height: crop.height });
  if (cpuDownscale) pipeline = pipeline.resize(cpuDownscale.width, cpuDownscale.height, { fit: 'fill', kernel: 'lanczos3' });
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: info.channels as 3 | 4, data: toShared(data) };
}

async function blurredBackground(source: RasterImage, canvas: Size): Promise<RasterImage> {
  const width = Math.max(1, Math.round(canvas.width / BACKGROUND_SHRINK));
  const height = Math.max(1, Math.round(canvas.height / BACKGROUND_SHRINK));
  const { data, info } = await raw(source)
    .removeAlpha()
    .resize(width, height, { fit: 'cover' })
    .blur(Math.max(2, width / 60))
    .linear(0.45, 0) // darker, so the picture stands out from its bars
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: 3, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}
