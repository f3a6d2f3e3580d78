// Multiple render targets (EXT_draw_buffers): conv passes that write several output textures
// from one set of fetches. Forced on and forced off (maxDrawBuffers 1), the engine matches the
// CPU reference within 1/255, tiled equals untiled, and both modes give the same bytes.
import t from 'tap';
import { openHeadless } from 'node-drm-gbm-egl';
import { createGpuUpscaler, type GpuUpscalerOptions } from '../../src/sr/gpu/gpu-engine.js';
import { createCpuUpscaler, runNetworkCpu } from '../../src/sr/cpu/cpu-reference.js';
import { DEFAULT_MAX_OUTPUTS_PER_PASS } from '../../src/sr/gpu/gpu-limits.js';
import { generateConvPasses } from '../../src/sr/glsl/shader-gen.js';
import type { RasterImage, UpscaleOptions } from '../../src/sr/model.js';
import { randomImage, randomLuma, randomModel, type RandomModelOptions } from './helpers/random-model.js';
import { compareBytes, describeDifference } from './helpers/compare.js';

const display = openHeadless({ width: 16, height: 16 });
t.teardown(() => display.close());
const { gl } = display;

const hasExtension = gl.getSupportedExtensions().includes('GL_EXT_draw_buffers');
const hardwareDrawBuffers = hasExtension
  ? Math.min(gl.getParameter(gl.MAX_DRAW_BUFFERS_EXT) as number, gl.getParameter(gl.MAX_COLOR_ATTACHMENTS_EXT) as number)
  : 1;
const skipOn = hardwareDrawBuffers < 2 ? `this GL (${display.info.glRenderer}) has no EXT_draw_buffers with 2+ buffers` : false;

const OFF: GpuUpscalerOptions = { cacheDir: null, maxDrawBuffers: 1 };
const ON: GpuUpscalerOptions = { cacheDir: null };
// Up to 7 targets in a pass: uneven splits and more attachments than the default cap.
const WIDE: GpuUpscalerOptions = { cacheDir: null, maxOutputsPerPass: 7 };

t.test('limits: the GL\'s draw buffers, capped per pass; maxDrawBuffers 1 turns them off', async (t) => {
  const model = randomModel({ seed: 601, layers: [{ out: 4, kernel: 1 }] });
  const on = createGpuUpscaler(gl, model, ON);
  const off = createGpuUpscaler(gl, model, OFF);
  t.teardown(() => { on.close(); off.close(); });
  t.equal(on.limits.maxDrawBuffers, hardwareDrawBuffers);
  t.equal(on.limits.maxOutputsPerPass, Math.min(hardwareDrawBuffers, DEFAULT_MAX_OUTPUTS_PER_PASS));
  t.equal(off.limits.maxDrawBuffers, 1);
  t.equal(off.limits.maxOutputsPerPass, 1);
  t.throws(() => createGpuUpscaler(gl, model, { cacheDir: null, maxDrawBuffers: 0 }), /maxDrawBuffers must be a whole number of at least 1/);
  t.throws(() => createGpuUpscaler(gl, model, { cacheDir: null, maxOutputsPerPass: 2.5 }), /maxOutputsPerPass/);
});

t.test('pass plan: blocks reading the same inputs share a pass, grouped blocks with other inputs do not', async (t) => {
  const model = randomModel({
    seed: 602,
    layers: [{ out: 28, kernel: 5 }, { out: 28, kernel: 3, groups: 7 }, { out: 16, kernel: 1 }, { out: 16, kernel: 3, groups: 2 }, { out: 4, kernel: 1 }],
  });
  const limits = { maxTextureUnits: 16, maxFetchesPerPass: 64 };
  const single = generateConvPasses(model, limits);
  const merged = generateConvPasses(model, { ...limits, maxOutputsPerPass: 4 });
  const plan = (passes: typeof merged): number[][][] => passes.map((layer) => layer.map((p) => p.outputTextures));
  t.same(plan(single), [
    [[0], [1], [2], [3], [4], [5], [6]],
    [[0], [1], [2], [3], [4], [5], [6]],
    [[0], [1], [2], [3]],
    [[0], [1], [2], [3]],
    [[0]],
  ], 'one output texture per pass');
  t.same(plan(merged), [
    [[0, 1, 2, 3], [4, 5, 6]], // the first layer: every block reads the packed luma
    [[0], [1], [2], [3], [4], [5], [6]], // groups of 4 channels: each block reads its own texture
    [[0, 1, 2, 3]], // 1x1 over 28 channels: its 7 fetches serve 4 blocks
    [[0, 1], [2, 3]], // 2 groups: blocks 0-1 read textures 0-1, blocks 2-3 read textures 2-3
    [[0]],
  ]);
  t.same(merged[3]!.map((p) => p.inputTextures), [[0, 1], [2, 3]]);
  t.same([merged[2]![0]!.fetches, single[2]![0]!.fetches], [7, 7], 'a merged pass fetches what one block does');
  t.ok(single.flat().every((p) => !p.fragment.includes('#extension') && p.fragment.includes('gl_FragColor = ')),
    'one output: gl_FragColor, no extension');
  const multi = merged.flat().filter((p) => p.outputTextures.length > 1);
  t.ok(multi.every((p) => p.fragment.includes('#extension GL_EXT_draw_buffers : require') &&
    p.fragment.includes(`gl_FragData[${p.outputTextures.length - 1}] = `) && !p.fragment.includes('gl_FragColor = ')),
    'several outputs: gl_FragData[i] with GL_EXT_draw_buffers');
});

const models: Array<{ label: string; options: RandomModelOptions }> = [
  { label: '5x5 dense first layer, grouped 3x3, 1x1, bicubic residual',
    options: { seed: 102, layers: [{ out: 8, kernel: 5 }, { out: 8, kernel: 3, groups: 2 }, { out: 4, kernel: 1 }], residual: 'bicubic' } },
  { label: 'dense 3x3 layers, bilinear residual',
    options: { seed: 103, layers: [{ out: 12, kernel: 3 }, { out: 8, kernel: 3 }, { out: 4, kernel: 3 }], residual: 'bilinear' } },
  { label: 'uprez-x2-like: groups of 4 channels and 1x1 over 28',
    options: { seed: 106, layers: [{ out: 28, kernel: 5 }, { out: 28, kernel: 3, groups: 7 }, { out: 28, kernel: 1 }, { out: 4, kernel: 1 }], residual: 'bicubic' } },
  { label: 'baseline-like shape (smaller widths), bicubic residual',
    options: { seed: 105, layers: [{ out: 24, kernel: 5 }, { out: 16, kernel: 3, groups: 2 }, { out: 12, kernel: 1 }, { out: 8, kernel: 3, groups: 2 }, { out: 4, kernel: 1 }], residual: 'bicubic' } },
];

for (const { label, options } of models) {
  t.test(`luma network, draw buffers on and off, equals the CPU reference and each other: ${label}`, async (t) => {
    const model = randomModel(options);
    const off = createGpuUpscaler(gl, model, OFF);
    t.teardown(() => off.close());
    const on = skipOn ? null : createGpuUpscaler(gl, model, ON);
    const wide = skipOn ? null : createGpuUpscaler(gl, model, WIDE);
    t.teardown(() => { on?.close(); wide?.close(); });
    for (const [width, height] of [[37, 23], [1, 9], [9, 1]] as const) {
      const luma = randomLuma(options.seed * 7 + width, width, height);
      const expected = runNetworkCpu(model, luma);
      const a = off.upscaleLuma(luma);
      const d = compareBytes(a.data, expected.data);
      t.ok(d.worst <= 1, `off, ${width}x${height}: within 1/255 of the CPU (${describeDifference(d, expected.data.length)})`);
      for (const [name, gpu] of [['on', on], ['7 per pass', wide]] as const) {
        if (!gpu) continue;
        const b = gpu.upscaleLuma(luma);
        t.equal(compareBytes(b.data, a.data).worst, 0, `${name}, ${width}x${height}: the same bytes as off`);
      }
    }
    if (skipOn) t.comment(`draw buffers on: skipped, ${skipOn}`);
  });
}

const colourModel = randomModel({
  seed: 603,
  layers: [{ out: 16, kernel: 5 }, { out: 16, kernel: 3, groups: 2 }, { out: 12, kernel: 1 }, { out: 4, kernel: 3 }],
  residual: 'bicubic',
});
const colourCases: Array<{ image: RasterImage; options: UpscaleOptions }> = [
  { image: randomImage(21, 45, 31, 3), options: { steps: 1 } },
  { image: randomImage(22, 33, 17, 4), options: { steps: 2 } },
  { image: randomImage(23, 83, 57, 3), options: { steps: 1, size: { width: 101, height: 150 } } },
];

t.test('colour x2, x4 and resample: on and off equal the CPU reference and each other', async (t) => {
  const cpu = createCpuUpscaler(colourModel);
  const off = createGpuUpscaler(gl, colourModel, OFF);
  const on = skipOn ? null : createGpuUpscaler(gl, colourModel, ON);
  t.teardown(() => { off.close(); on?.close(); });
  for (const { image, options } of colourCases) {
    const label = `${image.width}x${image.height}x${image.channels} ${JSON.stringify(options)}`;
    const expected = cpu.upscale(image, options);
    const a = off.upscale(image, options);
    const d = compareBytes(a.data, expected.data);
    t.ok(d.worst <= 1, `off, ${label}: within 1/255 of the CPU (${describeDifference(d, expected.data.length)})`);
    if (!on) continue;
    const b = on.upscale(image, options);
    const e = compareBytes(b.data, expected.data);
    t.ok(e.worst <= 1, `on, ${label}: within 1/255 of the CPU (${describeDifference(e, expected.data.length)})`);
    t.equal(compareBytes(b.data, a.data).worst, 0, `on, ${label}: the same bytes as off`);
  }
  if (skipOn) t.comment(`draw buffers on: skipped, ${skipOn}`);
});

t.test('forced 64-pixel tiles equal one tile, draw buffers on and off', async (t) => {
  const modes: Array<[string, GpuUpscalerOptions]> = skipOn ? [['off', OFF]] : [['off', OFF], ['on', ON]];
  const results = new Map<string, RasterImage[]>();
  for (const [mode, options] of modes) {
    const whole = createGpuUpscaler(gl, colourModel, options);
    const tiled = createGpuUpscaler(gl, colourModel, { ...options, maxTileSize: 64 });
    t.teardown(() => { whole.close(); tiled.close(); });
    const outputs: RasterImage[] = [];
    for (const { image, options: upscale } of colourCases) {
      const a = whole.upscale(image, upscale);
      const b = tiled.upscale(image, upscale);
      const d = compareBytes(a.data, b.data);
      t.equal(d.worst, 0, `${mode}, ${image.width}x${image.height} ${JSON.stringify(upscale)}: tiled = untiled (${describeDifference(d, a.data.length)})`);
      outputs.push(a);
    }
    results.set(mode, outputs);
  }
  if (skipOn) {
    t.comment(`draw buffers on: skipped, ${skipOn}`);
    return;
  }
  results.get('on')!.forEach((image, i) => t.equal(compareBytes(image.data, results.get('off')![i]!.data).worst, 0, `case ${i + 1}: on = off`));
});
