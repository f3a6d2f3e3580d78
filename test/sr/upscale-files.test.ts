// upscaleFiles called directly, with the CPU reference on a tiny random model: results,
// progress events, steps from --size, per-file errors and the "same output twice" check.
import t from 'tap';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createCpuUpscaler } from '../../src/sr/cpu/cpu-reference.js';
import { stepsFor, upscaleFiles, type UpscaleFilesEvent } from '../../src/sr/upscale-files.js';
import { randomImage, randomModel } from './helpers/random-model.js';

const model = randomModel({ seed: 7, layers: [{ out: 4, kernel: 3 }, { out: 4, kernel: 1 }], residual: 'bicubic' });
const dir = mkdtempSync(join(tmpdir(), 'uprez-upscale-files-'));

async function writeInput(name: string, width: number, height: number, seed: number): Promise<string> {
  const image = randomImage(seed, width, height, 3);
  const path = join(dir, name);
  await sharp(Buffer.from(image.data), { raw: { width, height, channels: 3 } }).png().toFile(path);
  return path;
}

t.test('stepsFor: the given steps, else 1, else the fewest that reach the size', async (t) => {
  const image = { width: 20, height: 10 };
  t.equal(stepsFor(image, { steps: 2 }), 2);
  t.equal(stepsFor(image, {}), 1);
  t.equal(stepsFor(image, { size: { width: 20, height: 10 } }), 0);
  t.equal(stepsFor(image, { size: { width: 40, height: 11 } }), 1);
  t.equal(stepsFor(image, { size: { width: 41, height: 10 } }), 2);
  t.equal(stepsFor(image, { size: { width: 1000, height: 1000 } }), 2, 'never more than 2');
});

t.test('a batch: results in order, one start and one done per file, failures do not stop it', async (t) => {
  const a = await writeInput('a.png', 12, 8, 1);
  const b = await writeInput('b.png', 10, 6, 2);
  const sameName = join(dir, 'sub');
  await import('node:fs').then((fs) => fs.mkdirSync(sameName, { recursive: true }));
  const aAgain = join(sameName, 'a.png');
  writeFileSync(aAgain, await sharp(a).toBuffer());
  const broken = join(dir, 'broken.png');
  writeFileSync(broken, 'not a png');
  const outDir = join(dir, 'out', 'nested');
  const upscaler = createCpuUpscaler(model);
  const events: UpscaleFilesEvent[] = [];
  const results = await upscaleFiles(upscaler, { maxPixels: 1000, outDir, files: [a, broken, aAgain, b] }, (e) => events.push(e));
  upscaler.close();

  t.same(results.map((r) => r.ok), [true, false, false, true]);
  t.same(events.map((e) => `${e.kind}${e.index}/${e.total}`), ['start0/4', 'done0/4', 'start1/4', 'done1/4', 'start2/4', 'done2/4', 'start3/4', 'done3/4']);
  const [first, bad, twice, last] = results;
  if (!first?.ok || !last?.ok || bad?.ok !== false || twice?.ok !== false) throw new Error('unexpected results');
  t.same([first.input, first.output, first.steps, first.resampled], [{ width: 12, height: 8 }, { width: 24, height: 16 }, 1, false]);
  t.equal(first.outPath, join(outDir, 'a.png'));
  t.ok(first.decodeMs >= 0 && first.upscaleMs >= 0 && first.encodeMs >= 0, 'times are measured');
  const written = await sharp(first.outPath).raw().toBuffer({ resolveWithObject: true });
  const expected = createCpuUpscaler(model).upscale(randomImage(1, 12, 8, 3), { steps: 1 });
  t.ok(Buffer.from(written.data).equals(Buffer.from(expected.data)), 'the PNG holds what the reference computes');
  t.match(bad.message, /broken\.png: not a readable image/);
  t.match(twice.message, /sub\/a\.png: its output .*a\.png was already written for .*a\.png in this batch; rename one of them/);
  t.same([last.output.width, last.output.height], [20, 12]);
  t.notOk(existsSync(join(outDir, 'broken.png')), 'nothing written for the broken file');
});

t.test('--size: the steps that reach it, then a resample to exactly it; the pixel limit refuses', async (t) => {
  const c = await writeInput('c.png', 9, 7, 3);
  const upscaler = createCpuUpscaler(model);
  const [sized] = await upscaleFiles(upscaler, { size: { width: 30, height: 20 }, maxPixels: 1000, outDir: join(dir, 'sized'), files: [c] });
  t.ok(sized?.ok);
  if (sized?.ok) t.same([sized.steps, sized.resampled, sized.output], [2, true, { width: 30, height: 20 }]);
  const [refused] = await upscaleFiles(upscaler, { maxPixels: 10, maxPixelsSetting: '--max-pixels N', outDir: join(dir, 'refused'), files: [c] });
  upscaler.close();
  t.notOk(refused?.ok);
  if (refused && !refused.ok) t.match(refused.message, /c\.png: 9x7 is 63 pixels, over the limit of 10 pixels .*\(--max-pixels N\)/);
});

t.test('--effort reaches the upscaler; `uprez upscale` refuses an effort outside 0..1', async (t) => {
  const input = await writeInput('effort.png', 24, 16, 9);
  const image = randomImage(9, 24, 16, 3);
  const outDir = join(dir, 'effort');
  const [result] = await upscaleFiles(createCpuUpscaler(model), { files: [input], outDir, maxPixels: 1e6, effort: 0.5 });
  t.ok(result?.ok);
  const written = await sharp(join(outDir, 'effort.png')).raw().toBuffer();
  const expected = createCpuUpscaler(model).upscale(image, { steps: 1, effort: 0.5 });
  t.ok(written.equals(Buffer.from(expected.data)), 'the effort-0.5 result');
  t.notOk(written.equals(Buffer.from(createCpuUpscaler(model).upscale(image, { steps: 1 }).data)), 'not the full result');
  const { main } = await import('../../src/cli/upscale.js');
  const errors: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => { errors.push(String(chunk)); return true; }) as typeof process.stderr.write;
  try {
    t.equal(await main(['--effort', '1.5', '--out', outDir, input]), 2);
    t.equal(await main(['--effort', 'x', '--out', outDir, input]), 2);
  } finally {
    process.stderr.write = write;
  }
  t.match(errors.join(''), /--effort expects a number from 0 to 1, got '1.5'/);
});
