// The CPU reference against real PyTorch evaluating the same semantics (conv2d with replicate
// padding and groups, brelu, 8-bit rounding, pixel_shuffle, F.interpolate for the residual base):
// the layouts (weights [out][in/groups][ky][kx], PixelShuffle order) and the bicubic/bilinear
// bases are then what the training framework means by them, not only what this repo believes.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runNetworkCpu } from '../../src/sr/cpu/cpu-reference.js';
import { randomLuma, randomModel, baselineShapedModel } from './helpers/random-model.js';
import type { SrModel } from '../../src/sr/model.js';

const PYTHON = '/usr/bin/python3';

// float64 arithmetic on float32 weights and float32 activations (k/255 as a shader reads it from
// an RGBA8 texture, and as the reference stores it), so only the semantics can differ.
const SCRIPT = `
import json, sys, torch, torch.nn.functional as F
torch.set_grad_enabled(False)
cases = json.load(open(sys.argv[1]))
def round8(x):
    return (torch.floor(x.clamp(0, 1) * 255 + 0.5) / 255).float().double()
results = []
for case in cases:
    m, inp = case['model'], case['input']
    y = torch.tensor(inp['luma'], dtype=torch.float64).view(1, 1, inp['height'], inp['width']) / 255
    x = y.float().double()
    for layer in m['layers']:
        k, g = layer['kernel'], layer['groups']
        w = torch.tensor(layer['weights'], dtype=torch.float32).double().view(layer['out'], layer['in'] // g, k, k)
        b = torch.tensor(layer['bias'], dtype=torch.float32).double()
        r = (k - 1) // 2
        x = F.pad(x, (r, r, r, r), mode='replicate') if r else x
        x = round8(F.conv2d(x, w, b, groups=g))
    # The output in byte units, where halves are exact (the x2 filter weights are dyadic).
    v = torch.round(F.pixel_shuffle(x, 2) * 255)
    res = m['output']['residual']
    if res is not None:
        base = F.interpolate(y * 255, scale_factor=2, mode=res['base'], align_corners=False)
        v = base + res['gain'] * (v - res['offset'] * 255)
    out = torch.floor(v.clamp(0, 255) + 0.5)
    results.append(out.flatten().to(torch.int64).tolist())
print(json.dumps(results))
`;

const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

t.test('CPU reference equals PyTorch on random models', { skip: hasTorch ? false : `${PYTHON} with torch is not installed` }, async (t) => {
  const cases: Array<{ name: string; model: SrModel; width: number; height: number }> = [
    { name: 'baseline shape, bicubic residual', model: baselineShapedModel(7, 'bicubic'), width: 19, height: 13 },
    { name: 'baseline shape, bilinear residual', model: baselineShapedModel(8, 'bilinear'), width: 12, height: 17 },
    { name: 'grouped 5x5/3x3, no residual', model: randomModel({ seed: 9, layers: [{ out: 8, kernel: 5 }, { out: 8, kernel: 3, groups: 4 }, { out: 4, kernel: 3 }] }), width: 9, height: 1 },
    { name: '1x1 only, bicubic residual', model: randomModel({ seed: 10, layers: [{ out: 4, kernel: 1 }], residual: 'bicubic' }), width: 1, height: 7 },
    {
      name: 'bicubic residual with gain 0.5 (the trained models\' kind)',
      model: randomModel({ seed: 11, layers: [{ out: 8, kernel: 3 }, { out: 4, kernel: 1 }], residual: { base: 'bicubic', offset: 0.5, gain: 0.5 } }),
      width: 16, height: 16,
    },
  ];
  const inputs = cases.map((c, i) => randomLuma(300 + i, c.width, c.height));
  const dir = mkdtempSync(join(tmpdir(), 'uprez-torch-'));
  const path = join(dir, 'cases.json');
  writeFileSync(path, JSON.stringify(cases.map((c, i) => ({
    model: c.model,
    input: { width: c.width, height: c.height, luma: Array.from(inputs[i]!.data) },
  }))));
  const torchOutputs = JSON.parse(execFileSync(PYTHON, ['-c', SCRIPT, path], { encoding: 'utf8', maxBuffer: 1 << 26 })) as number[][];
  cases.forEach((c, i) => {
    const ours = runNetworkCpu(c.model, inputs[i]!);
    const theirs = torchOutputs[i]!;
    t.equal(theirs.length, ours.data.length, `${c.name}: same size`);
    let differing = 0;
    let clampedOrFlat = 0;
    ours.data.forEach((v, j) => {
      if (v !== theirs[j]) differing++;
      if (v === 0 || v === 255) clampedOrFlat++;
    });
    t.equal(differing, 0, `${c.name}: every output byte equals PyTorch's`);
    t.ok(clampedOrFlat < ours.data.length / 2, `${c.name}: outputs are not mostly clamped`);
  });
});
