// Every model shipped in models/*.json reproduces its own test vector on the CPU reference.
import t from 'tap';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel, modelMetrics } from '../../src/sr/load-model.js';
import { runNetworkCpu } from '../../src/sr/cpu/cpu-reference.js';
import { modelsDir } from '../../src/service/paths.js';

const files = readdirSync(modelsDir).filter((name) => name.endsWith('.json')).sort();

if (files.length === 0) {
  t.test('no shipped models in models/ yet: nothing to check', async (t) => {
    t.same(readdirSync(modelsDir).filter((name) => name.endsWith('.json')), [], 'the glob found no models/*.json');
  });
}

// The cost each shipped model is allowed (issue 4), in multiply-accumulates per input pixel,
// counted by the engine from the layers; the baseline is the published network exactly.
const costLimits: Record<string, number> = { 'uprez-x2-fast.json': 3000, 'uprez-x2.json': 7300, 'uprez-x2-hq.json': 25000 };

t.test('every shipped model keeps to its cost', async (t) => {
  for (const [file, limit] of Object.entries(costLimits)) {
    t.ok(files.includes(file), `models/${file} is shipped`);
    if (!files.includes(file)) continue;
    const { macsPerInputPixel } = modelMetrics(loadModel(join(modelsDir, file)));
    t.ok(macsPerInputPixel <= limit, `models/${file}: ${macsPerInputPixel} MAC per input pixel, at most ${limit}`);
  }
  t.same(modelMetrics(loadModel(join(modelsDir, 'baseline.json'))), { params: 7340, macsPerInputPixel: 7216 },
    'the baseline is the published network: 7,340 parameters, 7,216 MAC per input pixel');
});

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
