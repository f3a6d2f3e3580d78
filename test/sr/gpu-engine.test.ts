// The GPU engine (real Mesa llvmpipe through the headless display) against the CPU reference:
// within 1/255 on every byte, for random models of every kind of layer and random inputs.
import t from 'tap';
import { openHeadless } from 'node-drm-gbm-egl';
import { createGpuUpscaler } from '../../src/sr/gpu/gpu-engine.js';
import { createCpuUpscaler, runNetworkCpu } from '../../src/sr/cpu/cpu-reference.js';
import type { RasterImage } from '../../src/sr/model.js';
import { randomImage, randomLuma, randomModel, type RandomModelOptions } from './helpers/random-model.js';
import { compareBytes, describeDifference } from './helpers/compare.js';

const display = openHeadless({ width: 16, height: 16 });
t.teardown(() => display.close());
const { gl } = display;

const models: Array<{ label: string; options: RandomModelOptions }> = [
  { label: '1x1 only, no residual', options: { seed: 101, layers: [{ out: 4, kernel: 1 }] } },
  { label: '5x5 dense first layer, grouped 3x3, 1x1, bicubic residual',
    options: { seed: 102, layers: [{ out: 8, kernel: 5 }, { out: 8, kernel: 3, groups: 2 }, { out: 4, kernel: 1 }], residual: 'bicubic' } },
  { label: 'dense 3x3 layers, bilinear residual',
    options: { seed: 103, layers: [{ out: 12, kernel: 3 }, { out: 8, kernel: 3 }, { out: 4, kernel: 3 }], residual: 'bilinear' } },
  { label: '5x5 after the first layer (edge clamping at radius 2), groups of 4 channels, no residual',
    options: { seed: 104, layers: [{ out: 16, kernel: 3 }, { out: 16, kernel: 5, groups: 4 }, { out: 8, kernel: 1 }, { out: 4, kernel: 3, groups: 2 }] } },
  { label: 'baseline-like shape (smaller widths), bicubic residual',
    options: { seed: 105, layers: [{ out: 24, kernel: 5 }, { out: 16, kernel: 3, groups: 2 }, { out: 12, kernel: 1 }, { out: 8, kernel: 3, groups: 2 }, { out: 4, kernel: 1 }], residual: 'bicubic' } },
];

for (const { label, options } of models) {
  t.test(`luma network on the GPU equals the CPU reference: ${label}`, async (t) => {
    const model = randomModel(options);
    const gpu = createGpuUpscaler(gl, model, { cacheDir: null });
    t.teardown(() => gpu.close());
    for (const [width, height] of [[37, 23], [64, 48], [1, 9], [9, 1]] as const) {
      const luma = randomLuma(options.seed * 7 + width, width, height);
      const expected = runNetworkCpu(model, luma);
      const actual = gpu.upscaleLuma(luma);
      t.equal(actual.width, width * 2);
      t.equal(actual.height, height * 2);
      const d = compareBytes(actual.data, expected.data);
      t.ok(d.worst <= 1, `${width}x${height}: within 1/255 (${describeDifference(d, expected.data.length)})`);
    }
  });
}

t.test('colour steps (x2, x4) and the resample equal the CPU reference, RGB and RGBA, odd sizes', async (t) => {
  const model = randomModel({ seed: 201, layers: [{ out: 8, kernel: 3 }, { out: 8, kernel: 3, groups: 2 }, { out: 4, kernel: 1 }], residual: 'bicubic' });
  const gpu = createGpuUpscaler(gl, model, { cacheDir: null });
  const cpu = createCpuUpscaler(model);
  t.teardown(() => gpu.close());
  const cases: Array<{ image: RasterImage; options: Parameters<typeof gpu.upscale>[1] }> = [
    { image: randomImage(1, 45, 31, 3), options: { steps: 1 } },
    { image: randomImage(2, 33, 17, 4), options: { steps: 2 } },
    { image: randomImage(3, 1, 13, 3), options: { steps: 1 } },
    { image: randomImage(4, 7, 1, 4), options: { steps: 2 } },
    { image: randomImage(5, 45, 31, 3), options: { steps: 1, size: { width: 101, height: 50 } } },
    { image: randomImage(6, 40, 30, 4), options: { steps: 0, size: { width: 13, height: 71 } } },
    { image: randomImage(7, 200, 9, 3), options: { steps: 0, size: { width: 31, height: 9 } } },
    { image: randomImage(8, 12, 10, 3), options: { steps: 1, size: { width: 1, height: 1 } } },
  ];
  for (const { image, options } of cases) {
    const label = `${image.width}x${image.height}x${image.channels} ${JSON.stringify(options)}`;
    const expected = cpu.upscale(image, options);
    const actual = gpu.upscale(image, options);
    t.same([actual.width, actual.height, actual.channels], [expected.width, expected.height, expected.channels], `${label}: size`);
    const d = compareBytes(actual.data, expected.data);
    t.ok(d.worst <= 1, `${label}: within 1/255 (${describeDifference(d, expected.data.length)})`);
  }
});

t.test('steps 0 without a size returns a copy; bad input is refused', async (t) => {
  const model = randomModel({ seed: 301, layers: [{ out: 4, kernel: 1 }] });
  const gpu = createGpuUpscaler(gl, model, { cacheDir: null });
  const image = randomImage(9, 5, 4, 3);
  const copy = gpu.upscale(image, { steps: 0 });
  t.same(copy, image);
  t.not(copy.data, image.data, 'a new buffer');
  t.throws(() => gpu.upscale({ width: 5, height: 4, channels: 3, data: new Uint8Array(10) }, { steps: 1 }), /60/);
  t.throws(() => gpu.upscale({ width: 0, height: 4, channels: 3, data: new Uint8Array(0) }, { steps: 1 }), /invalid image size/);
  gpu.close();
  t.throws(() => gpu.upscale(image, { steps: 1 }), /closed/);
});

t.test('GL state left by a renderer sharing the context (blending, scissor) does not change results', async (t) => {
  const model = randomModel({ seed: 302, layers: [{ out: 8, kernel: 3 }, { out: 4, kernel: 1 }], residual: 'bicubic' });
  const gpu = createGpuUpscaler(gl, model, { cacheDir: null });
  t.teardown(() => gpu.close());
  const image = randomImage(10, 30, 20, 4);
  const clean = gpu.upscale(image, { steps: 1, size: { width: 50, height: 33 } });
  gl.enable(gl.BLEND);
  gl.blendFunc(gl.ONE, gl.ONE);
  gl.enable(gl.SCISSOR_TEST);
  gl.scissor(0, 0, 3, 3);
  gl.colorMask(true, false, true, false);
  const dirty = gpu.upscale(image, { steps: 1, size: { width: 50, height: 33 } });
  t.same(dirty, clean);
  t.equal(gl.getParameter(gl.FRAMEBUFFER_BINDING), gl.defaultFramebuffer, 'the default framebuffer is bound again');
  gl.disable(gl.BLEND);
  gl.disable(gl.SCISSOR_TEST);
  gl.colorMask(true, true, true, true);
});
