// The program cache: a second start loads program binaries instead of compiling, gives the
// same results, and a corrupt binary is recompiled (and rewritten), never fatal.
import t from 'tap';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openHeadless } from 'node-drm-gbm-egl';
import { createGpuUpscaler } from '../../src/sr/gpu/gpu-engine.js';
import { randomImage, randomModel } from './helpers/random-model.js';

const display = openHeadless({ width: 16, height: 16 });
t.teardown(() => display.close());
const { gl } = display;
const model = randomModel({ seed: 601, layers: [{ out: 8, kernel: 3 }, { out: 4, kernel: 1 }], residual: 'bilinear' });
const image = randomImage(5, 20, 14, 3);

t.test('second start loads binaries; results identical; corrupt binaries are recompiled', async (t) => {
  if (gl.getProgramBinaryFormats().length === 0) {
    t.pass('this driver offers no program binary formats: nothing to cache');
    return;
  }
  const cacheDir = mkdtempSync(join(tmpdir(), 'uprez-programs-'));
  const first = createGpuUpscaler(gl, model, { cacheDir });
  const expected = first.upscale(image, { steps: 1 });
  t.ok(first.programStats.compiled > 0, `compiled ${first.programStats.compiled} programs`);
  t.equal(first.programStats.loaded, 0);
  first.close();
  const files = readdirSync(cacheDir).filter((f) => f.endsWith('.bin'));
  t.ok(files.length >= first.programStats.compiled, `${files.length} binaries written`);

  const second = createGpuUpscaler(gl, model, { cacheDir });
  t.equal(second.programStats.compiled, 0, 'nothing compiled on the second start');
  t.equal(second.programStats.loaded, first.programStats.compiled);
  t.same(second.upscale(image, { steps: 1 }), expected, 'same bytes from cached programs');
  second.close();

  for (const file of files) writeFileSync(join(cacheDir, file), Buffer.from('not a program binary at all'));
  const third = createGpuUpscaler(gl, model, { cacheDir });
  t.equal(third.programStats.loaded, 0);
  t.equal(third.programStats.rejected, files.length, 'every corrupt binary rejected');
  t.equal(third.programStats.compiled, files.length, '... and compiled from source instead');
  t.same(third.upscale(image, { steps: 1 }), expected);
  third.close();
  const fourth = createGpuUpscaler(gl, model, { cacheDir });
  t.equal(fourth.programStats.loaded, files.length, 'the rewritten binaries load again');
  fourth.close();
});

t.test('cacheDir null writes nothing and still works', async (t) => {
  const gpu = createGpuUpscaler(gl, model, { cacheDir: null });
  t.equal(gpu.programStats.loaded, 0);
  t.equal(gpu.upscale(image, { steps: 1 }).width, 40);
  gpu.close();
});
