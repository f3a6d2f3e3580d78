// Adaptive compute (src/sr/adaptive.ts, issue 19) on the real llvmpipe: effort 1 is the full
// engine byte for byte; the mask follows detail; heavy pixels are exactly the full network's;
// the GPU engine and the CPU reference agree on the mask and the output; tiles stay seamless.
import t from 'tap';
import { join } from 'node:path';
import { openHeadless } from 'node-drm-gbm-egl';
import { createGpuUpscaler } from '../../src/sr/gpu/gpu-engine.js';
import { createCpuUpscaler, splitLumaChroma } from '../../src/sr/cpu/cpu-reference.js';
import { adaptiveMaskCpu } from '../../src/sr/cpu/adaptive-cpu.js';
import { adaptivePlan, effortThreshold, heavyShare } from '../../src/sr/adaptive.js';
import { loadModel } from '../../src/sr/load-model.js';
import { decodeImage } from '../../src/decode/decode.js';
import { modelsDir } from '../../src/service/paths.js';
import type { RasterImage, SrModel } from '../../src/sr/model.js';
import { randomModel, rng } from './helpers/random-model.js';
import { compareBytes, describeDifference } from './helpers/compare.js';

const display = openHeadless({ width: 16, height: 16 });
t.teardown(() => display.close());
const { gl } = display;

const defaultModel = loadModel(join(modelsDir, 'uprez-x2.json'));
/** A 96x64 crop of a sample photo (a cup on a table: flat areas and edges). */
const photo: RasterImage = await (async () => {
  const full = await decodeImage(join(modelsDir, '..', 'config', 'sample-photos', 'coffee.jpg'), 'coffee.jpg');
  const [width, height, left, top] = [96, 64, 200, 150];
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const from = ((top + y) * full.width + left) * 3;
    data.set(full.data.subarray(from, from + width * 3), y * width * 3);
  }
  return { width, height, channels: 3, data };
})();

/** The top-left w x h of an RGB image, with an alpha ramp. */
function withAlpha(image: RasterImage, width: number, height: number): RasterImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      data.set(image.data.subarray((y * image.width + x) * 3, (y * image.width + x) * 3 + 3), (y * width + x) * 4);
      data[(y * width + x) * 4 + 3] = (x * 7 + y * 3) % 256;
    }
  }
  return { width, height, channels: 4, data };
}

/** Output bytes of heavy pixels (distance 0 in `distance`, low resolution) that differ between a and b. */
function heavyDifferences(a: RasterImage, b: RasterImage, distance: Uint8Array, lowWidth: number): { heavy: number; differing: number } {
  let heavy = 0;
  let differing = 0;
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      if (distance[(y >> 1) * lowWidth + (x >> 1)] !== 0) continue;
      heavy++;
      for (let c = 0; c < a.channels; c++) {
        const i = (y * a.width + x) * a.channels + c;
        if (a.data[i] !== b.data[i]) differing++;
      }
    }
  }
  return { heavy, differing };
}

t.test('the effort maps to a threshold, 1 to every non-flat pixel, 0 to none', async (t) => {
  t.equal(effortThreshold(1), 0);
  t.equal(effortThreshold(0.99), 1);
  t.equal(effortThreshold(0.5), 64);
  t.equal(effortThreshold(0), 256, 'above any 8-bit range');
  t.throws(() => effortThreshold(1.5), /between 0 and 1/);
  t.throws(() => effortThreshold(Number.NaN), /between 0 and 1/);
  // uprez-x2: radii 2, 1, 0, 1, 0, 1, 0, 1, 0; each reach is the blend ring (1) plus the radii after.
  t.same(adaptivePlan(defaultModel), { layerReach: [5, 4, 4, 3, 3, 2, 2, 1, 1], cap: 6 });
});

t.test('effort 1 is the full engine byte for byte, and never enters the adaptive path', async (t) => {
  const gpu = createGpuUpscaler(gl, defaultModel, { cacheDir: null, keepMasks: true });
  t.teardown(() => gpu.close());
  const full = gpu.upscale(photo, { steps: 1 });
  const programs = gpu.programStats.compiled;
  const atOne = gpu.upscale(photo, { steps: 1, effort: 1 });
  t.ok(Buffer.from(atOne.data).equals(Buffer.from(full.data)), 'same bytes');
  t.same(gpu.lastMasks(), [], 'no mask made');
  t.equal(gpu.programStats.compiled, programs, 'no adaptive program compiled');
  t.throws(() => gpu.upscale(photo, { steps: 1, effort: -0.1 }), /between 0 and 1/);
  gpu.upscale(photo, { steps: 1, effort: 0.5 });
  t.ok(Buffer.from(gpu.upscale(photo, { steps: 1 }).data).equals(Buffer.from(full.data)), 'the same bytes after an adaptive run (no stencil state left)');
});

t.test('at a low effort a flat picture runs almost no heavy pixels and noise almost all', async (t) => {
  const gpu = createGpuUpscaler(gl, defaultModel, { cacheDir: null, keepMasks: true });
  t.teardown(() => gpu.close());
  const [width, height] = [64, 48];
  const random = rng(5);
  const noise = Uint8Array.from({ length: width * height * 3 }, () => Math.floor(random() * 256));
  // A gentle gradient: a 3x3 range of at most 2 levels.
  const flat = new Uint8Array(width * height * 3).map((_, i) => 100 + Math.floor((i / 3) % width / 32) + Math.floor(i / 3 / width / 32));
  const effort = 0.5;
  gpu.upscale({ width, height, channels: 3, data: flat }, { steps: 1, effort });
  const flatShare = heavyShare(gpu.lastMasks()[0]!);
  gpu.upscale({ width, height, channels: 3, data: noise }, { steps: 1, effort });
  const noiseShare = heavyShare(gpu.lastMasks()[0]!);
  t.ok(flatShare <= 0.01, `flat: ${(flatShare * 100).toFixed(1)}% heavy`);
  t.ok(noiseShare >= 0.95, `noise: ${(noiseShare * 100).toFixed(1)}% heavy`);
  // Lower effort, fewer heavy pixels, on a photo.
  const shares = [0.9, 0.6, 0.3].map((effort) => {
    gpu.upscale(photo, { steps: 1, effort });
    return heavyShare(gpu.lastMasks()[0]!);
  });
  t.ok(shares[0]! > shares[1]! && shares[1]! > shares[2]!, `photo: ${shares.map((s) => (s * 100).toFixed(0)).join(' > ')} % heavy`);
});

const models: Array<{ label: string; model: SrModel }> = [
  { label: 'uprez-x2', model: defaultModel },
  { label: 'random, 5x5 after the first layer, no residual',
    model: randomModel({ seed: 104, layers: [{ out: 16, kernel: 3 }, { out: 16, kernel: 5, groups: 4 }, { out: 8, kernel: 1 }, { out: 4, kernel: 3, groups: 2 }] }) },
  { label: 'random, 3x3 first layer, bilinear residual',
    model: randomModel({ seed: 103, layers: [{ out: 12, kernel: 3 }, { out: 8, kernel: 3 }, { out: 4, kernel: 3 }], residual: 'bilinear' }) },
];

for (const { label, model } of models) {
  t.test(`${label}: heavy pixels are the full network's; CPU reference agrees on mask and output`, async (t) => {
    const gpu = createGpuUpscaler(gl, model, { cacheDir: null, keepMasks: true });
    t.teardown(() => gpu.close());
    const cpu = createCpuUpscaler(model);
    const images = [photo, withAlpha(photo, 37, 23)];
    for (const image of images) {
      const full = gpu.upscale(image, { steps: 1 });
      for (const effort of [0.7, 0.4]) {
        const name = `${image.width}x${image.height}x${image.channels} at effort ${effort}`;
        const actual = gpu.upscale(image, { steps: 1, effort });
        const mask = gpu.lastMasks()[0]!;
        const expectedMask = adaptiveMaskCpu(model, splitLumaChroma(image).luma, effort);
        t.ok(Buffer.from(mask.distance).equals(Buffer.from(expectedMask.distance)), `${name}: the CPU reference's mask`);
        const { heavy, differing } = heavyDifferences(actual, full, mask.distance, image.width);
        t.ok(heavy > 0 && heavy < actual.width * actual.height, `${name}: some heavy pixels, not all (${heavy})`);
        t.equal(differing, 0, `${name}: heavy pixels equal the full network`);
        const d = compareBytes(actual.data, cpu.upscale(image, { steps: 1, effort }).data);
        t.ok(d.worst <= 1, `${name}: the CPU reference within 1/255 (${describeDifference(d, actual.data.length)})`);
        t.notOk(Buffer.from(actual.data).equals(Buffer.from(full.data)), `${name}: light pixels take the base`);
      }
    }
  });
}

t.test('tiles with halos stay seamless with masks: tiled equals untiled, x4 and resample too', async (t) => {
  const untiled = createGpuUpscaler(gl, defaultModel, { cacheDir: null });
  const tiled = createGpuUpscaler(gl, defaultModel, { cacheDir: null, maxTileSize: 48 });
  t.teardown(() => {
    untiled.close();
    tiled.close();
  });
  for (const options of [{ steps: 1, effort: 0.6 }, { steps: 2, effort: 0.4, size: { width: 301, height: 190 } }] as const) {
    const a = untiled.upscale(photo, options);
    const b = tiled.upscale(photo, options);
    t.ok(Buffer.from(a.data).equals(Buffer.from(b.data)), `${JSON.stringify(options)}: same bytes`);
  }
});
