// Tiling: the tiled result equals the untiled one byte for byte (the halo covers the receptive
// field), with tiny forced tiles and with a Pi 3's 2048 limit on an image wider than that.
import t from 'tap';
import { openHeadless } from 'node-drm-gbm-egl';
import { createGpuUpscaler } from '../../src/sr/gpu/gpu-engine.js';
import { planTiles } from '../../src/sr/gpu/tiles.js';
import { randomImage, randomModel } from './helpers/random-model.js';
import { compareBytes, describeDifference } from './helpers/compare.js';

const display = openHeadless({ width: 16, height: 16 });
t.teardown(() => display.close());
const { gl } = display;

// Receptive radius 2 + 2 + 0 + 1 = 5: a wide halo, with 5x5 kernels past the first layer.
const model = randomModel({
  seed: 401,
  layers: [{ out: 8, kernel: 5 }, { out: 8, kernel: 5, groups: 2 }, { out: 8, kernel: 1 }, { out: 4, kernel: 3 }],
  residual: 'bicubic',
});

t.test('tile planning covers the image exactly once, halo clipped to the image', async (t) => {
  const tiles = planTiles(101, 37, 32, 5);
  const covered = new Uint8Array(101 * 37);
  for (const { core, region } of tiles) {
    t.ok(core.width <= 32 && core.height <= 32);
    t.ok(region.x === Math.max(0, core.x - 5) && region.x + region.width === Math.min(101, core.x + core.width + 5));
    for (let y = core.y; y < core.y + core.height; y++) for (let x = core.x; x < core.x + core.width; x++) covered[y * 101 + x]!++;
  }
  t.ok(covered.every((c) => c === 1), 'every pixel in exactly one core');
});

t.test('forced 64-pixel tiles give the same bytes as one tile (x2, x4 and resample)', async (t) => {
  const whole = createGpuUpscaler(gl, model, { cacheDir: null });
  const tiled = createGpuUpscaler(gl, model, { cacheDir: null, maxTileSize: 64 });
  t.teardown(() => { whole.close(); tiled.close(); });
  for (const [image, options] of [
    [randomImage(11, 83, 57, 3), { steps: 1 }],
    [randomImage(12, 41, 29, 4), { steps: 2 }],
    [randomImage(13, 70, 45, 3), { steps: 1, size: { width: 333, height: 61 } }],
    [randomImage(14, 150, 150, 3), { steps: 0, size: { width: 37, height: 120 } }],
  ] as const) {
    const a = whole.upscale(image, options);
    const b = tiled.upscale(image, options);
    t.same([b.width, b.height], [a.width, a.height]);
    const d = compareBytes(a.data, b.data);
    t.equal(d.worst, 0, `${image.width}x${image.height} ${JSON.stringify(options)}: ${describeDifference(d, a.data.length)}`);
  }
});

t.test('a 2048 limit (Pi 3) on a 2100-pixel-wide image gives the same bytes as no limit', async (t) => {
  const whole = createGpuUpscaler(gl, model, { cacheDir: null });
  const pi3 = createGpuUpscaler(gl, model, { cacheDir: null, maxTileSize: 2048 });
  t.teardown(() => { whole.close(); pi3.close(); });
  t.equal(pi3.limits.maxTileSize, 2048);
  const image = randomImage(15, 2100, 40, 3);
  const a = whole.upscale(image, { steps: 1 });
  const b = pi3.upscale(image, { steps: 1 });
  const d = compareBytes(a.data, b.data);
  t.equal(d.worst, 0, `2100x40 x2: ${describeDifference(d, a.data.length)}`);
  // The 4200-wide result cannot be one texture either: the resample tiles too.
  const sized = { steps: 0, size: { width: 4100, height: 30 } } as const;
  const c = whole.upscale(b, sized);
  const e = pi3.upscale(b, sized);
  t.equal(compareBytes(c.data, e.data).worst, 0, 'resample 4200x80 -> 4100x30 tiled under 2048');
});

t.test('a limit too small for the halo is refused with advice', async (t) => {
  t.throws(() => createGpuUpscaler(gl, model, { cacheDir: null, maxTileSize: 12 }), /halo.*raise maxTileSize/);
});
