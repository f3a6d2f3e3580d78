// The CPU reference's resample to an exact size (SEMANTICS.md, "Resample").
import t from 'tap';
import type { RasterImage } from '../../src/sr/model.js';
import { resampleCpu } from '../../src/sr/cpu/cpu-filters.js';
import { randomImage } from './helpers/random-model.js';

function fill(width: number, height: number, channels: 3 | 4, value: (x: number, y: number, c: number) => number): RasterImage {
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) data[(y * width + x) * channels + c] = value(x, y, c);
    }
  }
  return { width, height, channels, data };
}

t.test('same size is an exact copy', async (t) => {
  const image = randomImage(1, 13, 7, 4);
  const out = resampleCpu(image, 13, 7);
  t.same([out.width, out.height, out.channels], [13, 7, 4]);
  t.ok(Buffer.from(out.data).equals(Buffer.from(image.data)));
});

t.test('exact output sizes, both directions, odd sizes, 1 pixel', async (t) => {
  const image = randomImage(2, 37, 23, 3);
  for (const [w, h] of [[100, 7], [1, 1], [37, 50], [12, 23], [74, 46], [3, 200]] as const) {
    const out = resampleCpu(image, w, h);
    t.same([out.width, out.height, out.channels, out.data.length], [w, h, 3, w * h * 3], `${w}x${h}`);
  }
  const column = resampleCpu(randomImage(3, 1, 5, 3), 4, 9);
  t.same([column.width, column.height], [4, 9], 'from a 1-pixel-wide image');
  t.throws(() => resampleCpu(image, 0, 5), /invalid target size/);
});

t.test('a dimension that does not change is not filtered', async (t) => {
  // Only the width changes: each row is resampled on its own, so rows of different constant
  // colours keep exactly their colours (no vertical filtering mixes them).
  const rows = fill(10, 6, 3, (_x, y, c) => (y * 40 + c * 7) % 256);
  const out = resampleCpu(rows, 23, 6);
  let changed = 0;
  for (let y = 0; y < 6; y++) {
    for (let x = 0; x < 23; x++) {
      for (let c = 0; c < 3; c++) if (out.data[(y * 23 + x) * 3 + c] !== (y * 40 + c * 7) % 256) changed++;
    }
  }
  t.equal(changed, 0);
});

t.test('constants stay constant; Catmull-Rom interpolates the samples on integer positions', async (t) => {
  const flat = resampleCpu(fill(9, 5, 4, (_x, _y, c) => 30 + c * 50), 31, 17);
  t.ok(flat.data.every((v, i) => v === 30 + (i % 4) * 50), 'enlarging a constant image');
  const flatSmall = resampleCpu(fill(40, 30, 3, () => 201), 7, 3);
  t.ok(flatSmall.data.every((v) => v === 201), 'shrinking a constant image');
  // Upscaling 4 -> 12 pixels (s = 1/3): output 3i + 1 sits exactly on input pixel i.
  const ramp = fill(4, 1, 3, (x) => [0, 255, 40, 90][x]!);
  const wide = resampleCpu(ramp, 12, 1);
  t.same([1, 4, 7, 10].map((x) => wide.data[x * 3]), [0, 255, 40, 90]);
  // Between 0 and 255 a cubic with negative lobes overshoots: clamped, not wrapped.
  t.ok(wide.data.every((v) => v >= 0 && v <= 255));
});

t.test('shrinking is antialiased: a 1-pixel checkerboard averages to grey', async (t) => {
  const board = fill(64, 64, 3, (x, y) => ((x + y) % 2 ? 255 : 0));
  const small = resampleCpu(board, 16, 16);
  const min = Math.min(...small.data);
  const max = Math.max(...small.data);
  t.ok(min >= 118 && max <= 137, `all pixels near 127.5 (got ${min}..${max})`);
  // Stripes of period 2 shrunk by 2 in one direction: also grey, not one of the stripes.
  const stripes = fill(40, 4, 3, (x) => (x % 2 ? 255 : 0));
  const half = resampleCpu(stripes, 20, 4);
  t.ok(half.data.every((v) => v > 100 && v < 155), 'no aliasing into black or white stripes');
});

t.test('matches a direct evaluation of the formula on one output pixel', async (t) => {
  // 10 -> 4 pixels (s = 2.5): output 1 has centre c = 1.5 * 2.5 - 0.5 = 3.25, support 5.
  const line = [12, 200, 37, 90, 255, 0, 18, 120, 77, 140];
  const image = fill(10, 1, 3, (x) => line[x]!);
  const k = (x: number): number => {
    const a = Math.abs(x);
    return a < 1 ? 1.5 * a ** 3 - 2.5 * a ** 2 + 1 : a < 2 ? -0.5 * a ** 3 + 2.5 * a ** 2 - 4 * a + 2 : 0;
  };
  let sum = 0;
  let total = 0;
  for (let i = Math.floor(3.25 - 5) + 1; i <= Math.floor(3.25 + 5); i++) {
    const w = k((i - 3.25) / 2.5);
    sum += w * line[Math.min(Math.max(i, 0), 9)]!;
    total += w;
  }
  const expected = Math.floor(Math.min(Math.max(sum / total, 0), 255) + 0.5);
  t.equal(resampleCpu(image, 4, 1).data[3], expected);
});
