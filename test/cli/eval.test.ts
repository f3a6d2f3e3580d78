// `uprez eval` for real: the compiled CLI on a folder of generated photos.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import t from 'tap';
import { repoRoot } from '../../src/service/paths.js';
import { baselineShapedModel, writeModelFile } from '../sr/helpers/random-model.js';

const run = promisify(execFile);
const uprez = join(repoRoot, 'bin', 'uprez');

/** A photo-like test image: smooth gradients with a few hard edges. */
async function writePhoto(path: string, width: number, height: number, seed: number): Promise<void> {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const edge = (x + seed * 7) % 23 < 11 ? 60 : 0;
      data[(y * width + x) * 3] = (x * 255) / width;
      data[(y * width + x) * 3 + 1] = ((y * 255) / height + edge) % 256;
      data[(y * width + x) * 3 + 2] = 128 + 100 * Math.sin((x + y + seed) / 5);
    }
  }
  await sharp(data, { raw: { width, height, channels: 3 } }).png().toFile(path);
}

t.test('prints per-image and mean Y-PSNR for the model and for bicubic, under both protocols', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'uprez-eval-'));
  const photos = join(dir, 'photos');
  await import('node:fs').then((fs) => fs.mkdirSync(photos));
  await writePhoto(join(photos, 'one.png'), 48, 32, 1);
  await writePhoto(join(photos, 'two.png'), 37, 29, 2); // odd size: cropped to even
  const modelPath = writeModelFile(baselineShapedModel(4));
  const { stdout } = await run(process.execPath, [uprez, 'eval', photos, '--model', modelPath, '--json'], {
    env: { ...process.env, XDG_CACHE_HOME: join(dir, 'cache') },
  });
  const result = JSON.parse(stdout);
  t.equal(result.rows.length, 2 * (1 + 4), 'one bicubic case and four realistic cases per photo');
  for (const row of result.rows) {
    t.ok(Number.isFinite(row.model) && row.model > 5, `${row.image} ${row.case}: model ${row.model.toFixed(2)} dB`);
    t.ok(Number.isFinite(row.bicubic) && row.bicubic > 5, `${row.image} ${row.case}: bicubic ${row.bicubic.toFixed(2)} dB`);
  }
  for (const m of result.means) {
    const of = result.rows.filter((row: { protocol: string }) => row.protocol === m.protocol);
    const meanModel = of.reduce((s: number, row: { model: number }) => s + row.model, 0) / of.length;
    t.ok(Math.abs(m.model - meanModel) < 1e-9, `${m.protocol}: the mean is the mean of the rows`);
    t.ok(Math.abs(m.gain - (m.model - m.bicubic)) < 1e-9, `${m.protocol}: gain = model - bicubic`);
  }
});

t.test('the text output has a line per case and the means; a file that is not an image is reported', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'uprez-eval-'));
  await writePhoto(join(dir, 'photo.png'), 40, 30, 3);
  writeFileSync(join(dir, 'notes.txt'), 'not a photo');
  const modelPath = writeModelFile(baselineShapedModel(5));
  const failed = await run(process.execPath, [uprez, 'eval', dir, '--model', modelPath, '--protocol', 'bicubic', '--backend', 'cpu'])
    .then(() => null, (error: { code: number; stdout: string }) => error);
  t.ok(failed, 'exits non-zero because one file was not an image');
  t.equal(failed!.code, 1);
  t.match(failed!.stdout, /photo\s+bicubic: bicubic\s+model\s+[\d.]+ dB\s+bicubic\s+[\d.]+ dB\s+gain [+-][\d.]+ dB/);
  t.match(failed!.stdout, /mean \(1 cases\)\s+bicubic/);
  t.match(failed!.stdout, /notes\.txt: skipped: /);
});
