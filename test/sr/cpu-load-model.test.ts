// Model file validation: every broken field is refused with a message naming file, layer and field.
import t from 'tap';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_MODEL_FILE, defaultModelPath, loadModel, modelMetrics, parseModel, receptiveRadius,
} from '../../src/sr/load-model.js';
import { modelsDir } from '../../src/service/paths.js';
import { baselineShapedModel, randomModel, writeModelFile } from './helpers/random-model.js';

// Loose on purpose: the tests break the model in ways its types forbid.
type Json = Record<string, any>;

function validModel(): Json {
  const model = randomModel({
    seed: 1,
    layers: [{ out: 8, kernel: 3 }, { out: 8, kernel: 3, groups: 2 }, { out: 4, kernel: 1 }],
    residual: 'bicubic',
    testSize: { width: 3, height: 2 },
  });
  return JSON.parse(JSON.stringify(model)) as Json;
}

t.test('a valid model loads from a file, unchanged', async (t) => {
  const model = validModel();
  const path = writeModelFile(model as never, 'ok.json');
  const loaded = loadModel(path);
  t.same(loaded, model);
  t.equal(loaded.layers.length, 3);
  t.same(loaded.output.residual, { base: 'bicubic', offset: 0.5, gain: 1 });
});

const breakages: Array<[string, (m: Json) => void, RegExp]> = [
  ['wrong format', (m) => { m.format = 'uprez-sr/2'; }, /"format": expected "uprez-sr\/1", found "uprez-sr\/2"/],
  ['scale 3', (m) => { m.scale = 3; }, /"scale": expected 2/],
  ['no layers', (m) => { m.layers = []; }, /"layers": expected a non-empty array/],
  ['first layer not on luma', (m) => { m.layers[0].in = 4; m.layers[0].weights.length = 8 * 4 * 9; m.layers[0].weights.fill(0); },
    /layers\[0\]\.in: the first layer reads the luma plane, so "in" must be 1, found 4/],
  ['channel chain broken', (m) => { m.layers[1].in = 12; m.layers[1].weights = new Array(8 * 6 * 9).fill(0); },
    /layers\[1\]\.in: is 12 but the previous layer \(layers\[0\]\) produces 8 channels/],
  ['weights too short', (m) => { m.layers[1].weights.pop(); },
    /layers\[1\]\.weights: expected 288 values \(out\*\(in\/groups\)\*kernel\*kernel = 8\*4\*3\*3\), found 287/],
  ['bias too long', (m) => { m.layers[2].bias.push(0); }, /layers\[2\]\.bias: expected 4 values \(out = 4\), found 5/],
  ['a weight is a string', (m) => { m.layers[0].weights[5] = '0.1'; }, /layers\[0\]\.weights\[5\]: expected a finite number, found "0.1"/],
  ['even kernel', (m) => { m.layers[2].kernel = 2; m.layers[2].weights = new Array(4 * 8 * 4).fill(0); },
    /layers\[2\]\.kernel: must be odd/],
  ['groups do not divide', (m) => { m.layers[1].groups = 3; }, /layers\[1\]\.groups: 3 groups must divide both in \(8\) and out \(8\)/],
  ['out not a multiple of 4', (m) => {
    m.layers[0].out = 6; m.layers[0].weights.length = 6 * 9; m.layers[0].bias.length = 6;
    m.layers[0].weights.fill(0); m.layers[0].bias.fill(0);
  }, /layers\[0\]\.out: must be a multiple of 4/],
  ['last layer out is not 4', (m) => {
    m.layers.push({ ...m.layers[2], in: 4, out: 8, weights: new Array(32).fill(0), bias: new Array(8).fill(0) });
  }, /layers\[3\]\.out: the last layer must produce scale\*scale = 4 channels/],
  ['unknown activation', (m) => { m.layers[1].activation = 'relu'; }, /layers\[1\]\.activation: expected "brelu"/],
  ['unknown residual base', (m) => { m.output.residual.base = 'lanczos'; }, /output\.residual\.base: expected "bicubic" or "bilinear"/],
  ['output block 3', (m) => { m.output.block = 3; }, /output\.block: expected 2/],
  ['test output of the wrong size', (m) => { m.test.output.width = 5; }, /test\.output: expected 6x4 \(2x the test input\), found 5x4/],
  ['test input luma too short', (m) => { m.test.input.luma.pop(); }, /test\.input\.luma: expected 6 bytes \(3x2\), found 5/],
  ['test luma not a byte', (m) => { m.test.output.luma[2] = 256; }, /test\.output\.luma\[2\]: expected an integer 0\.\.255, found 256/],
];

t.test('broken models are refused with a message naming the file, layer and field', async (t) => {
  for (const [name, breakIt, message] of breakages) {
    const model = validModel();
    breakIt(model);
    const path = writeModelFile(model as never, `broken-${name.replace(/\W+/g, '-')}.json`);
    t.throws(() => loadModel(path), { name: 'ModelError', message }, name);
    t.throws(() => loadModel(path), { message: new RegExp(`^model ${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: `) },
      `${name}: the message starts with the file`);
  }
});

t.test('files that are not models', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'uprez-model-'));
  t.throws(() => loadModel(join(dir, 'missing.json')), /cannot read model file .*missing\.json/);
  writeFileSync(join(dir, 'bad.json'), '{ "format": ');
  t.throws(() => loadModel(join(dir, 'bad.json')), /model file .*bad\.json is not valid JSON/);
  t.throws(() => parseModel([1, 2], 'an array'), /model an array: top level: expected a JSON object/);
});

t.test('metrics and receptive radius of the baseline shape', async (t) => {
  const model = baselineShapedModel(3);
  t.same(modelMetrics(model), { params: 1200 + 48 + 3456 + 32 + 768 + 24 + 1728 + 16 + 64 + 4, macsPerInputPixel: 7216 });
  t.equal(receptiveRadius(model), 4);
});

const defaultPath = join(modelsDir, DEFAULT_MODEL_FILE);
if (existsSync(defaultPath)) {
  t.test('the default model is models/uprez-x2.json and loads', async (t) => {
    t.equal(defaultModelPath(), defaultPath);
    t.ok(loadModel(defaultModelPath()).layers.length > 0);
  });
} else {
  t.test('no models/uprez-x2.json yet: defaultModelPath says to pass --model', async (t) => {
    t.throws(() => defaultModelPath(), /no default model: .*uprez-x2\.json does not exist.*--model FILE/);
  });
}
