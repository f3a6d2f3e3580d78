// evaluateFolder called directly with the CPU reference: rows, means per protocol, events,
// and a file that is not an image counted as a failure.
import t from 'tap';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createCpuUpscaler } from '../../src/sr/cpu/cpu-reference.js';
import { EVAL_SHAVE, evaluateFolder, listPhotos, type EvalEvent } from '../../src/quality/evaluate.js';
import { baselineShapedModel, randomImage } from '../sr/helpers/random-model.js';

t.test('rows per case, means per protocol, a non-image skipped and counted', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'uprez-evaluate-'));
  const photo = randomImage(4, 33, 26, 3); // odd width: cropped to even
  await sharp(Buffer.from(photo.data), { raw: { width: 33, height: 26, channels: 3 } }).png().toFile(join(dir, 'photo.png'));
  writeFileSync(join(dir, 'notes.txt'), 'not a photo');
  mkdirSync(join(dir, 'a-folder'));
  const files = listPhotos(dir);
  t.same(files, ['notes.txt', 'photo.png'], 'files only, sorted');

  const upscaler = createCpuUpscaler(baselineShapedModel(3));
  const events: EvalEvent[] = [];
  const result = await evaluateFolder(upscaler, dir, files, ['realistic', 'bicubic'], (e) => events.push(e));
  upscaler.close();

  t.equal(result.shave, EVAL_SHAVE);
  t.equal(result.failures, 1);
  t.equal(result.rows.length, 4 + 1, 'four realistic cases and one bicubic case');
  t.same(result.means.map((m) => [m.protocol, m.cases]), [['realistic', 4], ['bicubic', 1]], 'in the order asked');
  for (const m of result.means) {
    const of = result.rows.filter((row) => row.protocol === m.protocol);
    t.ok(Math.abs(m.model - of.reduce((s, row) => s + row.model, 0) / of.length) < 1e-9, `${m.protocol}: mean of the rows`);
    t.ok(Math.abs(m.gain - (m.model - m.bicubic)) < 1e-9);
  }
  for (const row of result.rows) t.ok(row.image === 'photo' && row.model > 5 && row.bicubic > 5, `${row.protocol} ${row.case}`);
  t.match(events[0], { kind: 'skipped', file: 'notes.txt', message: /notes\.txt: not a readable image/ });
  t.equal(events.filter((e) => e.kind === 'row').length, 5, 'one event per row');
});
