import t from 'tap';
import { degradedCases, evenCropRgb, jpegQualityFor, studioLuma, yPsnr } from '../../src/quality/protocols.js';
import type { RasterImage } from '../../src/sr/model.js';
import { randomImage } from '../sr/helpers/random-model.js';

function solid(width: number, height: number, rgb: [number, number, number]): RasterImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(rgb, i * 3);
  return { width, height, channels: 3, data };
}

t.test('studio-range luma of black, white and pure colours', async (t) => {
  const luma = (rgb: [number, number, number]) => studioLuma(solid(1, 1, rgb))[0]!;
  t.equal(luma([0, 0, 0]), 16);
  t.ok(Math.abs(luma([255, 255, 255]) - 235) < 1e-9, 'white is 235');
  t.ok(Math.abs(luma([255, 0, 0]) - (16 + 65.481)) < 1e-9, 'red');
});

t.test('Y-PSNR: identical images are infinite, a known error gives the known value, borders are shaved', async (t) => {
  const a = solid(10, 10, [100, 100, 100]);
  t.equal(yPsnr(a, a, 2), Infinity);
  // Grey g -> studio luma 16 + 219 g / 255: a step of 1 in every channel is 219/255 in luma.
  const b = solid(10, 10, [101, 101, 101]);
  const expected = 10 * Math.log10((255 * 255) / ((219 / 255) ** 2));
  t.ok(Math.abs(yPsnr(a, b, 2) - expected) < 1e-9, `${yPsnr(a, b, 2)} dB`);
  const border = solid(10, 10, [100, 100, 100]);
  border.data.fill(0, 0, 10 * 3); // the whole top row differs
  t.equal(yPsnr(border, a, 2), Infinity, 'a difference in the shaved border does not count');
  t.throws(() => yPsnr(a, solid(9, 10, [0, 0, 0]), 2), /sizes differ/);
  t.throws(() => yPsnr(solid(4, 4, [0, 0, 0]), solid(4, 4, [0, 0, 0]), 2), /too small/);
});

t.test('even crop drops alpha and the odd last row and column', async (t) => {
  const image = randomImage(3, 7, 5, 4);
  const cropped = evenCropRgb(image);
  t.same([cropped.width, cropped.height, cropped.channels], [6, 4, 3]);
  t.same([...cropped.data.subarray(6 * 3 + 3, 6 * 3 + 6)], [...image.data.subarray((1 * 7 + 1) * 4, (1 * 7 + 1) * 4 + 3)], 'pixel (1,1) kept');
});

t.test('the realistic protocol: every downscaler once, JPEG qualities fixed by the name, in 75..95', async (t) => {
  const hr = evenCropRgb(randomImage(5, 40, 30, 3));
  const cases = await degradedCases('photo', hr, 'realistic');
  t.same(cases.map((c) => c.label.split('+')[0]), ['area', 'bicubic', 'bilinear', 'lanczos']);
  for (const c of cases) {
    const quality = Number(/jpeg(\d+)$/.exec(c.label)![1]);
    t.ok(quality >= 75 && quality <= 95, `${c.label}: quality in range`);
    t.same([c.lr.width, c.lr.height, c.lr.channels], [20, 15, 3]);
  }
  t.equal(jpegQualityFor('photo', 'area'), jpegQualityFor('photo', 'area'), 'the same photo gets the same quality every run');
  const again = await degradedCases('photo', hr, 'realistic');
  t.same(again.map((c) => c.label), cases.map((c) => c.label));
  t.same(Buffer.from(again[0]!.lr.data), Buffer.from(cases[0]!.lr.data), 'and the same pixels');
});

t.test('the bicubic protocol halves the photo; area downscaling averages 2x2 blocks exactly', async (t) => {
  const hr = evenCropRgb(randomImage(9, 16, 12, 3));
  const [bicubic] = await degradedCases('x', hr, 'bicubic');
  t.same([bicubic!.label, bicubic!.lr.width, bicubic!.lr.height], ['bicubic', 8, 6]);
  // A 2x2 checker of 0 and 200 averages to 100 under the box filter (before JPEG).
  const checker = solid(4, 4, [0, 0, 0]);
  for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) if ((x + y) % 2) checker.data.fill(200, (y * 4 + x) * 3, (y * 4 + x) * 3 + 3);
  const { resampleCpu, resampleKernels } = await import('../../src/sr/cpu/cpu-filters.js');
  const area = resampleCpu(checker, 2, 2, resampleKernels.box);
  t.same([...area.data], new Array(12).fill(100));
});
