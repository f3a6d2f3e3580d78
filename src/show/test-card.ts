// The test card (the VM test shows it through the daemon, to check orientation on KMS): geometry (grid, circle,
// corner markers), colour bars, a grey ramp, and the display and GPU facts as text.
// Drawn as SVG and rasterised by sharp, so it is sharp at any screen size.
import sharp from 'sharp';

/** Corner marker colours, so a test (or a person) can tell the picture is upright and unmirrored. */
export const cornerColours = {
  topLeft: [255, 0, 0],
  topRight: [0, 255, 0],
  bottomLeft: [0, 0, 255],
  bottomRight: [255, 255, 255],
} as const;

const barColours = ['#c0c0c0', '#c0c000', '#00c0c0', '#00c000', '#c000c0', '#c00000', '#0000c0'];

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function rgb(colour: readonly number[]): string {
  return `rgb(${colour.join(',')})`;
}

export function testCardSvg(width: number, height: number, lines: string[]): string {
  const unit = Math.max(1, Math.round(height / 18));
  const marker = unit;
  const grid: string[] = [];
  for (let x = unit; x < width; x += unit) grid.push(`M${x + 0.5} 0V${height}`);
  for (let y = unit; y < height; y += unit) grid.push(`M0 ${y + 0.5}H${width}`);
  const barTop = Math.round(height * 0.56);
  const barHeight = Math.round(height * 0.2);
  const barWidth = width / barColours.length;
  const bars = barColours
    .map((colour, i) => `<rect x="${(i * barWidth).toFixed(2)}" y="${barTop}" width="${barWidth.toFixed(2)}" height="${barHeight}" fill="${colour}"/>`)
    .join('');
  const rampTop = barTop + barHeight;
  const rampHeight = Math.round(height * 0.08);
  const fontSize = Math.max(8, Math.round(height / 36));
  const text = lines
    .map((line, i) => `<text x="${unit * 1.5}" y="${unit * 1.5 + (i + 1) * fontSize * 1.35}">${escapeXml(line)}</text>`)
    .join('');
  const radius = Math.round(height * 0.42);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
<defs><linearGradient id="ramp"><stop offset="0" stop-color="#000"/><stop offset="1" stop-color="#fff"/></linearGradient></defs>
<rect width="${width}" height="${height}" fill="#202428"/>
<path d="${grid.join('')}" stroke="#3c444c" stroke-width="1"/>
<circle cx="${width / 2}" cy="${height / 2}" r="${radius}" fill="none" stroke="#8090a0" stroke-width="${Math.max(1, unit / 12)}"/>
${bars}
<rect x="0" y="${rampTop}" width="${width}" height="${rampHeight}" fill="url(#ramp)"/>
<g xml:space="preserve" font-family="DejaVu Sans Mono, monospace" font-size="${fontSize}" fill="#f0f0f0">${text}</g>
<rect x="0" y="0" width="${marker}" height="${marker}" fill="${rgb(cornerColours.topLeft)}"/>
<rect x="${width - marker}" y="0" width="${marker}" height="${marker}" fill="${rgb(cornerColours.topRight)}"/>
<rect x="0" y="${height - marker}" width="${marker}" height="${marker}" fill="${rgb(cornerColours.bottomLeft)}"/>
<rect x="${width - marker}" y="${height - marker}" width="${marker}" height="${marker}" fill="${rgb(cornerColours.bottomRight)}"/>
</svg>`;
}

/** The test card as RGBA bytes, rows top to bottom. */
export async function renderTestCard(width: number, height: number, lines: string[]): Promise<Buffer> {
  return sharp(Buffer.from(testCardSvg(width, height, lines)))
    .ensureAlpha()
    .raw()
    .toBuffer();
}
