// Every model shipped in models/*.json reproduces its own test vector on the CPU reference.
import t from 'tap';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../../src/sr/load-model.js';
import { runNetworkCpu } from '../../src/sr/cpu-reference.js';
import { modelsDir } from '../../src/util/paths.js';

const files = readdirSync(modelsDir).filter((name) => name.endsWith('.json')).sort();

if (files.length === 0) {
  t.test('no shipped models in models/ yet: nothing to check', async (t) => {
    t.same(readdirSync(modelsDir).filter((name) => name.endsWith('.json')), [], 'the glob found no models/*.json');
  });
}

for (const file of files) {
  t.test(`models/${file} reproduces its test vector on the CPU reference`, async (t) => {
    const model = loadModel(join(modelsDir, file));
    if (!model.test) {
      t.fail(`models/${file} has no "test" vector: every shipped model must carry one`);
      return;
    }
    const { input, output } = model.test;
    const result = runNetworkCpu(model, { width: input.width, height: input.height, data: Uint8Array.from(input.luma) });
    t.same([result.width, result.height], [output.width, output.height]);
    let worst = 0;
    let differing = 0;
    result.data.forEach((v, i) => {
      const diff = Math.abs(v - output.luma[i]!);
      worst = Math.max(worst, diff);
      if (diff) differing++;
    });
    // Float rounding (float32 training framework vs this reference) may move a value that sits on
    // a rounding boundary by one level; nothing more is acceptable.
    t.ok(worst <= 1, `every pixel within 1/255 (worst ${worst}, ${differing} of ${result.data.length} differ)`);
    t.ok(differing <= Math.max(1, result.data.length * 0.01), `at most 1% of pixels off by one (${differing})`);
  });
}
