// What the screen shows before the first picture: a quiet card saying what uprez waits for
// and where to put files (not the test card: this one may be on a wall for a while).
import sharp from 'sharp';
import type { Size } from '../plan/placement.js';
import type { RasterImage } from '../sr/model.js';

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export async function renderIdleCard(canvas: Size, lines: string[]): Promise<RasterImage> {
  const { width, height } = canvas;
  const title = Math.max(10, Math.round(Math.min(width, height) / 14));
  const body = Math.max(8, Math.round(title * 0.42));
  const text = lines
    .map((line, i) => `<text x="50%" y="${Math.round(height * 0.5 + title * 0.9 + (i + 0.5) * body * 1.6)}">${escapeXml(line)}</text>`)
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
<rect width="${width}" height="${height}" fill="#15181c"/>
<text x="50%" y="${Math.round(height * 0.5)}" text-anchor="middle" font-family="DejaVu Sans, sans-serif" font-size="${title}" fill="#d8dde3">uprez</text>
<g text-anchor="middle" font-family="DejaVu Sans, sans-serif" font-size="${body}" fill="#8a949e">${text}</g>
</svg>`;
  const { data, info } = await sharp(Buffer.from(svg)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: 3, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}
