// Decoding any image sharp reads into 8-bit sRGB RGB(A) bytes: EXIF orientation applied, colour
// converted to sRGB (ICC profiles honoured), alpha kept when present, decompression bombs refused.
import sharp, { type Metadata } from 'sharp';
import type { RasterImage } from '../sr/model.js';

// libvips' operation cache keeps recent operations and their pixels (up to 50 MB) for a repeat
// that never comes: every picture decoded here is new bytes.
sharp.cache(false);

/** 100 megapixels: far above any screen's needs, far below what would exhaust a Pi's memory. */
export const DEFAULT_MAX_INPUT_PIXELS = 100_000_000;

export class ImageDecodeError extends Error {
  override readonly name = 'ImageDecodeError';
}

export interface DecodeOptions {
  /** Refuse images with more pixels than this (before decoding them). */
  maxPixels?: number;
  /** How the user raises the limit, for the message (e.g. "--max-pixels N"). */
  limitSetting?: string;
}

export interface DecodedImage extends RasterImage {
  /** The file's format as sharp names it ('jpeg', 'png', 'webp', ...): the daemon picks the JPEG model variant by it. */
  format: string;
}

/** libvips messages span lines and may end in a dangling colon; make them one clean line. */
function oneLine(error: unknown): string {
  const lines = String((error as Error).message ?? error).split('\n').map((l) => l.trim()).filter(Boolean);
  return [...new Set(lines)].join('; ').replace(/:$/, '');
}

function pixels(count: number): string {
  return `${count.toLocaleString('en-US')} pixels`;
}

/** `label` names the input in messages (a file path, or e.g. "websocket message 12"). */
export async function decodeImage(input: string | Buffer, label: string, options: DecodeOptions = {}): Promise<DecodedImage> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_INPUT_PIXELS;
  // The header alone says how big the image is; check that before any pixel is decoded.
  let metadata: Metadata;
  try {
    metadata = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw new ImageDecodeError(`${label}: not a readable image (${oneLine(error)})`);
  }
  const { width, height } = metadata;
  if (!width || !height) throw new ImageDecodeError(`${label}: the image has no size (${metadata.format ?? 'unknown format'})`);
  if (width * height > maxPixels) {
    throw new ImageDecodeError(
      `${label}: ${width}x${height} is ${pixels(width * height)}, over the limit of ${pixels(maxPixels)} ` +
        '(a guard against decompression bombs). Shrink the image, or raise the limit' +
        `${options.limitSetting ? ` (${options.limitSetting})` : ''} if you trust its source.`,
    );
  }
  try {
    const { data, info } = await sharp(input, { limitInputPixels: maxPixels, failOn: 'error' })
      .rotate() // EXIF orientation
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    const image = toRgbOrRgba(new Uint8Array(data.buffer, data.byteOffset, data.length), info.width, info.height, info.channels);
    return { ...image, format: metadata.format ?? 'unknown' };
  } catch (error) {
    throw new ImageDecodeError(`${label}: cannot decode the ${metadata.format ?? ''} image (${oneLine(error)})`);
  }
}

/** sRGB output is RGB or RGBA already; grey (+alpha) is expanded should a format still produce it. */
function toRgbOrRgba(data: Uint8Array, width: number, height: number, channels: number): RasterImage {
  if (channels === 3 || channels === 4) return { width, height, channels, data };
  const hasAlpha = channels === 2;
  const out = new Uint8Array(width * height * (hasAlpha ? 4 : 3));
  const step = hasAlpha ? 4 : 3;
  for (let i = 0; i < width * height; i++) {
    const grey = data[i * channels]!;
    out[i * step] = grey;
    out[i * step + 1] = grey;
    out[i * step + 2] = grey;
    if (hasAlpha) out[i * step + 3] = data[i * channels + 1]!;
  }
  return { width, height, channels: hasAlpha ? 4 : 3, data: out };
}
