// Every model shipped in models/*.json reproduces its own test vector on the GPU engine, and
// its colour output on a photo-like image matches the CPU reference.
import t from 'tap';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { openHeadless } from 'node-drm-gbm-egl';
import { createGpuUpscaler } from '../../src/sr/gpu/gpu-engine.js';
import { createCpuUpscaler } from '../../src/sr/cpu/cpu-reference.js';
import { loadModel } from '../../src/sr/load-model.js';
import { modelsDir } from '../../src/service/paths.js';
import { randomImage } from './helpers/random-model.js';
import { compareBytes, describeDifference } from './helpers/compare.js';

const files = readdirSync(modelsDir).filter((name) => name.endsWith('.json')).sort();
const display = openHeadless({ width: 16, height: 16 });
t.teardown(() => display.close());

if (files.length === 0) {
  t.test('no shipped models in models/ yet: nothing to check', async (t) => {
    t.same(files, [], 'the glob found no models/*.json');
  });
}

for (const file of files) {
  t.test(`models/${file} reproduces its test vector on the GPU`, async (t) => {
    const model = loadModel(join(modelsDir, file));
    const gpu = createGpuUpscaler(display.gl, model, { cacheDir: null });
    t.teardown(() => gpu.close());
    if (!model.test) {
      t.fail(`models/${file} has no "test" vector: every shipped model must carry one`);
      return;
    }
    const { input, output } = model.test;
    const result = gpu.upscaleLuma({ width: input.width, height: input.height, data: Uint8Array.from(input.luma) });
    t.same([result.width, result.height], [output.width, output.height]);
    const d = compareBytes(result.data, Uint8Array.from(output.luma));
    // The training framework's float32 may put a value on the other side of a rounding boundary.
    t.ok(d.worst <= 1, `within 1/255 of the training framework (${describeDifference(d, result.data.length)})`);

    const image = randomImage(77, 61, 43, 3);
    const colour = compareBytes(gpu.upscale(image, { steps: 1 }).data, createCpuUpscaler(model).upscale(image, { steps: 1 }).data);
    t.ok(colour.worst <= 1, `x2 colour within 1/255 of the CPU reference (${describeDifference(colour, 61 * 43 * 12)})`);
  });
}
