// Writing RGB(A) bytes as PNG.
import sharp from 'sharp';
import type { RasterImage } from '../sr/model.js';

export async function writePng(image: RasterImage, path: string): Promise<void> {
  const { width, height, channels, data } = image;
  await sharp(Buffer.from(data.buffer, data.byteOffset, data.length), { raw: { width, height, channels } })
    .png()
    .toFile(path);
}
