// Training and inference cannot drift apart: a short real run of the recipe
// (PyTorch, a few steps), exported to uprez-sr/1, must load, and its test vector
// (what PyTorch computed) must be reproduced by the GPU engine and the CPU reference.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { openHeadless } from 'node-drm-gbm-egl';
import { runNetworkCpu } from '../../src/sr/cpu/cpu-reference.js';
import { createGpuUpscaler } from '../../src/sr/gpu/gpu-engine.js';
import { loadModel, modelMetrics } from '../../src/sr/load-model.js';
import { repoRoot } from '../../src/service/paths.js';
import { compareBytes, describeDifference } from '../sr/helpers/compare.js';

const python = '/usr/bin/python3';
const haveTorch = existsSync(python) && (await promisify(execFile)(python, ['-c', 'import torch']).then(() => true, () => false));
const requireTorch = process.env.UPREZ_REQUIRE_TORCH === '1';

t.test('a short training run exports a model both engines reproduce', { skip: haveTorch || requireTorch ? false : 'python3-torch is not installed' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'uprez-train-'));
  const out = join(dir, 'quick.json');
  // An empty data folder: the recipe's quick mode then trains on procedural images, as in CI.
  const emptyData = join(dir, 'data');
  const { stdout } = await promisify(execFile)(python, [
    join(repoRoot, 'models', 'training', 'train.py'), '--quick', '--data', emptyData, '--out', out, '--run-dir', join(dir, 'run'),
  ], { timeout: 300_000 });
  t.match(stdout, /exported/, 'the recipe says it exported the model');

  const model = loadModel(out);
  t.ok(model.test, 'the export carries a test vector');
  t.same(model.metrics && { params: model.metrics.params, macsPerInputPixel: model.metrics.macsPerInputPixel }, modelMetrics(model),
    'the exported metrics agree with the engine\'s count');
  const { input, output } = model.test!;
  const luma = { width: input.width, height: input.height, data: Uint8Array.from(input.luma) };
  const expected = Uint8Array.from(output.luma);

  const cpu = runNetworkCpu(model, luma);
  const cpuDiff = compareBytes(cpu.data, expected);
  t.ok(cpuDiff.worst <= 1, `CPU reference reproduces PyTorch (${describeDifference(cpuDiff, expected.length)})`);

  const display = openHeadless({ width: 16, height: 16 });
  t.teardown(() => display.close());
  const gpu = createGpuUpscaler(display.gl, model, { cacheDir: null });
  t.teardown(() => gpu.close());
  const result = gpu.upscaleLuma(luma);
  t.same([result.width, result.height], [output.width, output.height]);
  const gpuDiff = compareBytes(result.data, expected);
  t.ok(gpuDiff.worst <= 1, `GPU engine reproduces PyTorch (${describeDifference(gpuDiff, expected.length)})`);
});

t.test('growing or continuing a trained network (identity blocks, a wider first kernel, the same shape) keeps what it computes', { skip: haveTorch || requireTorch ? false : 'python3-torch is not installed' }, async (t) => {
  // uprez-x2-hq is trained as 5 blocks, grown to 6, then to a 7x7 first kernel (train.py --grow-from): the grown
  // network must start as exactly the trained one, or its first steps undo the training.
  const dir = mkdtempSync(join(tmpdir(), 'uprez-grow-'));
  const emptyData = join(dir, 'data');
  const train = join(repoRoot, 'models', 'training', 'train.py');
  const run = (args: string[]) => promisify(execFile)(python, [train, '--quick', '--data', emptyData, ...args], { timeout: 300_000 });
  await run(['--arch', 'uprez-x2-hq-5', '--out', join(dir, 'five.json'), '--run-dir', join(dir, 'five')]);
  // In quick mode the run is 40 steps long, as many as the grown-from network had: no training, only the export.
  const { stdout } = await run(['--arch', 'uprez-x2-hq-6', '--grow-from', join(dir, 'five', 'checkpoint.pt'),
    '--out', join(dir, 'six.json'), '--run-dir', join(dir, 'six')]);
  t.match(stdout, /grown from 11 to 13 layers/);

  const five = loadModel(join(dir, 'five.json'));
  const six = loadModel(join(dir, 'six.json'));
  t.same([five.layers.length, six.layers.length], [11, 13], 'one block (two layers) was added');
  t.same(six.test!.input.luma, five.test!.input.luma, 'both test vectors start from the same window');
  t.same(six.test!.output.luma, five.test!.output.luma, 'the grown network gives the same bytes');
  t.equal(six.metrics?.trainingSteps, 40, 'its steps count those of the network it grew from');

  // Stage 3 grows the first kernel from 5x5 to 7x7 (zeros around the trained taps), here from
  // the exported model file rather than the checkpoint.
  const grown = await run(['--arch', 'uprez-x2-hq', '--grow-from', join(dir, 'six.json'),
    '--out', join(dir, 'k7.json'), '--run-dir', join(dir, 'k7')]);
  t.match(grown.stdout, /first kernel grown from 5x5 to 7x7/);
  const k7 = loadModel(join(dir, 'k7.json'));
  t.same([k7.layers.length, k7.layers[0]!.kernel], [13, 7], 'the same 13 layers, a 7x7 first kernel');
  t.same(k7.test!.output.luma, six.test!.output.luma, 'the wider first kernel gives the same bytes');
  t.equal(k7.metrics?.trainingSteps, 40, 'the model file\'s steps are counted too');

  // The same shape is a plain continuation: a second learning-rate cycle from a shipped model
  // (how uprez-x2 and the baseline get their 37,000 steps) starts from exactly that network.
  const again = await run(['--arch', 'uprez-x2-hq', '--grow-from', join(dir, 'k7.json'),
    '--out', join(dir, 'again.json'), '--run-dir', join(dir, 'again')]);
  t.match(again.stdout, /continues from the trained network \(13 layers, the same shape\)/);
  t.same(loadModel(join(dir, 'again.json')).test!.output.luma, k7.test!.output.luma, 'the continued network gives the same bytes');
});

t.test('--loss mse trains with the squared error: from the same start, other weights than the default loss', { skip: haveTorch || requireTorch ? false : 'python3-torch is not installed' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'uprez-train-loss-'));
  const train = join(repoRoot, 'models', 'training', 'train.py');
  const run = (name: string, extra: string[]) => promisify(execFile)(python, [
    train, '--quick', '--data', join(dir, 'data'), '--out', join(dir, `${name}.json`), '--run-dir', join(dir, name), ...extra,
  ], { timeout: 300_000 });
  await run('charbonnier', []);
  await run('charbonnier-again', ['--loss', 'charbonnier']);
  await run('mse', ['--loss', 'mse']);
  const weights = (name: string) => loadModel(join(dir, `${name}.json`)).layers.map((l) => Array.from(l.weights));
  const [a, again, b] = [weights('charbonnier'), weights('charbonnier-again'), weights('mse')];
  t.same(again, a, 'a run is repeatable, so a difference below comes from the loss');
  t.notSame(b, a, 'the squared error gives other gradients, so other weights after the same steps');
  await t.rejects(run('bad', ['--loss', 'l3']), /invalid choice/, 'an unknown loss is refused with a clear error');
});
