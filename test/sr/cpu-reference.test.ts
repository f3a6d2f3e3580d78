// The CPU reference against hand-computed cases and against straightforward, independent
// implementations written here (naive convolution, PyTorch's bicubic and bilinear formulas).
import t from 'tap';
import type { ConvLayer, LumaImage, SrModel } from '../../src/sr/model.js';
import {
  CHROMA_ZERO, createCpuUpscaler, runLayersCpu, runNetworkCpu, splitLumaChroma, srStepCpu,
} from '../../src/sr/cpu/cpu-reference.js';
import { parseModel } from '../../src/sr/load-model.js';
import { randomImage, randomLuma, randomModel } from './helpers/random-model.js';

function layer(inChannels: number, out: number, kernel: number, weights: number[], bias: number[], groups = 1): ConvLayer {
  return { op: 'conv2d', in: inChannels, out, kernel, groups, activation: 'brelu', weights, bias };
}

function model(layers: ConvLayer[], residual: SrModel['output']['residual'] = null): SrModel {
  return parseModel({ format: 'uprez-sr/1', name: 'hand', scale: 2, input: 'luma', layers,
    output: { op: 'depthToSpace', block: 2, residual } }, 'hand-made test model');
}

const at = (image: LumaImage, x: number, y: number): number => image.data[y * image.width + x]!;
const round8 = (x: number): number => Math.floor(Math.min(Math.max(x, 0), 1) * 255 + 0.5);

t.test('1x1 layer: bias, clamping and round-half-up to 8 bits, PixelShuffle order', async (t) => {
  // Sub-pixel (dx, dy) takes channel dy*2 + dx: identity, +0.6/255, +0.4/255, and v - 0.2.
  const m = model([layer(1, 4, 1, [1, 1, 1, 1], [0, 0.6 / 255, 0.4 / 255, -0.2])]);
  const input: LumaImage = { width: 3, height: 2, data: Uint8Array.from([0, 50, 51, 100, 254, 255]) };
  const out = runNetworkCpu(m, input);
  t.equal(out.width, 6);
  t.equal(out.height, 4);
  for (let y = 0; y < 2; y++) {
    for (let x = 0; x < 3; x++) {
      const v = at(input, x, y);
      t.equal(at(out, 2 * x, 2 * y), v, `identity at (${x},${y})`);
      t.equal(at(out, 2 * x + 1, 2 * y), Math.min(v + 1, 255), `+0.6/255 rounds up at (${x},${y})`);
      t.equal(at(out, 2 * x, 2 * y + 1), v, `+0.4/255 rounds down at (${x},${y})`);
      t.equal(at(out, 2 * x + 1, 2 * y + 1), round8(v / 255 - 0.2), `clamped at 0 at (${x},${y})`);
    }
  }
  t.equal(at(out, 3, 1), 0, '50/255 - 0.2 clamps to 0');
  t.equal(at(out, 5, 1), 0, '51/255 - 0.2 is exactly 0');
  t.equal(at(out, 5, 2), 255, '255 + 0.6/255 clamps to 255');
});

t.test('3x3 layer: edge-replicate padding picks the clamped neighbours', async (t) => {
  const pick = (ky: number, kx: number): number[] => Array.from({ length: 9 }, (_, i) => (i === ky * 3 + kx ? 1 : 0));
  const box = Array.from({ length: 9 }, () => 1 / 9);
  const m = model([layer(1, 4, 3, [...pick(0, 0), ...pick(2, 2), ...box, ...pick(1, 2)], [0, 0, 0, 0])]);
  const input = randomLuma(11, 7, 5);
  const out = runNetworkCpu(m, input);
  const clampedAt = (x: number, y: number): number => at(input, Math.min(Math.max(x, 0), 6), Math.min(Math.max(y, 0), 4));
  let mismatches = 0;
  for (let y = 0; y < 5; y++) {
    for (let x = 0; x < 7; x++) {
      let sum = 0;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) sum += clampedAt(x + dx, y + dy);
      const expected = [clampedAt(x - 1, y - 1), clampedAt(x + 1, y + 1), round8(sum / 9 / 255), clampedAt(x + 1, y)];
      const got = [at(out, 2 * x, 2 * y), at(out, 2 * x + 1, 2 * y), at(out, 2 * x, 2 * y + 1), at(out, 2 * x + 1, 2 * y + 1)];
      if (expected.join() !== got.join()) {
        mismatches++;
        t.same(got, expected, `pixel (${x},${y})`);
      }
    }
  }
  t.equal(mismatches, 0, 'every pixel, edges and corners included');
});

/** A deliberately naive convolution stack: per output pixel, per tap, clamped indices. */
function naiveLayers(layers: ConvLayer[], luma: LumaImage): Uint8Array[] {
  const { width, height } = luma;
  let planes = [luma.data];
  for (const l of layers) {
    const r = (l.kernel - 1) / 2;
    const inPerGroup = l.in / l.groups;
    const outPerGroup = l.out / l.groups;
    const next: Uint8Array[] = [];
    for (let o = 0; o < l.out; o++) {
      const plane = new Uint8Array(width * height);
      const group = Math.floor(o / outPerGroup);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          let sum = Math.fround(l.bias[o]!);
          for (let i = 0; i < inPerGroup; i++) {
            const src = planes[group * inPerGroup + i]!;
            for (let ky = 0; ky < l.kernel; ky++) {
              for (let kx = 0; kx < l.kernel; kx++) {
                const sy = Math.min(Math.max(y + ky - r, 0), height - 1);
                const sx = Math.min(Math.max(x + kx - r, 0), width - 1);
                const w = Math.fround(l.weights[((o * inPerGroup + i) * l.kernel + ky) * l.kernel + kx]!);
                sum += w * Math.fround(src[sy * width + sx]! / 255);
              }
            }
          }
          plane[y * width + x] = round8(sum);
        }
      }
      next.push(plane);
    }
    planes = next;
  }
  return planes;
}

t.test('random multi-layer models equal a naive convolution, activation by activation', async (t) => {
  const shapes = [
    { name: 'dense 5x5 / 3x3 / 1x1', layers: [{ out: 8, kernel: 5 }, { out: 12, kernel: 3 }, { out: 4, kernel: 1 }] },
    { name: 'grouped 3x3 then 1x1', layers: [{ out: 16, kernel: 3 }, { out: 8, kernel: 3, groups: 2 }, { out: 4, kernel: 1 }] },
    { name: 'depthwise (1 output per group) and 7x7', layers: [{ out: 8, kernel: 7 }, { out: 8, kernel: 3, groups: 8 }, { out: 4, kernel: 3, groups: 2 }] },
    { name: 'single 1x1', layers: [{ out: 4, kernel: 1 }] },
  ];
  for (const [index, shape] of shapes.entries()) {
    const m = randomModel({ seed: 100 + index, layers: shape.layers });
    for (const [w, h] of [[13, 9], [1, 6], [5, 1]] as const) {
      const input = randomLuma(200 + index, w, h);
      const fast = runLayersCpu(m.layers, input).planes;
      const naive = naiveLayers(m.layers, input);
      let differing = 0;
      fast.forEach((plane, c) => plane.forEach((v, i) => { if (v !== naive[c]![i]) differing++; }));
      t.equal(differing, 0, `${shape.name}, ${w}x${h}: all activations equal`);
      let spread = 0;
      for (const v of naive[0]!) if (v > 0 && v < 255) spread++;
      t.ok(spread > 0, `${shape.name}, ${w}x${h}: some outputs are not clamped (the comparison means something)`);
    }
  }
});

// PyTorch's upsample formulas for x2, align_corners=False, written out per output pixel in 2D,
// in byte units (0..255): the x2 weights are dyadic, so values and halves are exact.
function torchCubic(x: number, a = -0.75): number {
  const ax = Math.abs(x);
  if (ax <= 1) return (a + 2) * ax ** 3 - (a + 3) * ax ** 2 + 1;
  if (ax < 2) return a * ax ** 3 - 5 * a * ax ** 2 + 8 * a * ax - 4 * a;
  return 0;
}

function torchUpsample2(image: LumaImage, mode: 'bicubic' | 'bilinear'): Float64Array {
  const { width, height } = image;
  const out = new Float64Array(width * 2 * height * 2);
  const pixel = (x: number, y: number): number =>
    image.data[Math.min(Math.max(y, 0), height - 1) * width + Math.min(Math.max(x, 0), width - 1)]!;
  for (let oy = 0; oy < height * 2; oy++) {
    for (let ox = 0; ox < width * 2; ox++) {
      let sx = (ox + 0.5) / 2 - 0.5;
      let sy = (oy + 0.5) / 2 - 0.5;
      let value = 0;
      if (mode === 'bicubic') {
        const fx = Math.floor(sx);
        const fy = Math.floor(sy);
        for (let j = -1; j <= 2; j++) {
          for (let i = -1; i <= 2; i++) {
            value += torchCubic(sx - (fx + i)) * torchCubic(sy - (fy + j)) * pixel(fx + i, fy + j);
          }
        }
      } else {
        sx = Math.max(sx, 0);
        sy = Math.max(sy, 0);
        const fx = Math.floor(sx);
        const fy = Math.floor(sy);
        const tx = sx - fx;
        const ty = sy - fy;
        value = (1 - ty) * ((1 - tx) * pixel(fx, fy) + tx * pixel(fx + 1, fy))
          + ty * ((1 - tx) * pixel(fx, fy + 1) + tx * pixel(fx + 1, fy + 1));
      }
      out[oy * width * 2 + ox] = value;
    }
  }
  return out;
}

const roundByte = (s: number): number => Math.floor(Math.min(Math.max(s, 0), 255) + 0.5);

t.test('residual output: base upsampling as PyTorch, gain and offset', async (t) => {
  // Noise plus hard black/white edges, so that bicubic overshoots and must be clamped.
  const input = randomLuma(5, 9, 7);
  input.data.forEach((_, i) => { if (i % 7 === 3) input.data[i] = 0; if (i % 11 === 4) input.data[i] = 255; });
  for (const base of ['bicubic', 'bilinear'] as const) {
    // The layer stores v = 1 everywhere; Yo = base + gain * (1 - offset) = base + 0.27.
    const plus = model([layer(1, 4, 1, [0, 0, 0, 0], [2, 2, 2, 2])], { base, gain: 0.3, offset: 0.1 });
    // v = 0 and offset 0: Yo = base exactly.
    const plain = model([layer(1, 4, 1, [0, 0, 0, 0], [-1, -1, -1, -1])], { base, gain: 1, offset: 0 });
    const expected = torchUpsample2(input, base);
    const outPlain = runNetworkCpu(plain, input);
    const outPlus = runNetworkCpu(plus, input);
    let bad = 0;
    let overshoots = 0;
    expected.forEach((e, i) => {
      if (outPlain.data[i] !== roundByte(e)) bad++;
      if (outPlus.data[i] !== round8(e / 255 + 0.27)) bad++;
      if (e < 0 || e > 255) overshoots++;
    });
    t.equal(bad, 0, `${base}: every pixel equals PyTorch's formula (rounded)`);
    if (base === 'bicubic') t.ok(overshoots > 0, 'bicubic overshoot happened and was clamped');
  }
});

t.test('colour step: chroma and alpha bilinear, grey stays grey, sizes', async (t) => {
  // The network reproduces the bilinear base exactly (v = offset = 0), so every channel should be
  // close to its own bilinear upsampling (YCbCr with 8-bit chroma costs at most a couple of levels).
  const m = model([layer(1, 4, 1, [0, 0, 0, 0], [-1, -1, -1, -1])], { base: 'bilinear', gain: 1, offset: 0 });
  const image = randomImage(21, 10, 6, 4);
  const out = srStepCpu(m, image);
  t.equal(out.width, 20);
  t.equal(out.height, 12);
  t.equal(out.channels, 4);
  let worst = 0;
  let alphaMismatches = 0;
  for (let c = 0; c < 4; c++) {
    const channel: LumaImage = { width: 10, height: 6, data: image.data.filter((_, i) => i % 4 === c) };
    const expected = torchUpsample2(channel, 'bilinear');
    expected.forEach((e, i) => {
      const diff = Math.abs(out.data[i * 4 + c]! - roundByte(e));
      if (c === 3) alphaMismatches += diff === 0 ? 0 : 1;
      else worst = Math.max(worst, diff);
    });
  }
  t.equal(alphaMismatches, 0, 'alpha is exactly its bilinear upsampling');
  t.ok(worst <= 3, `colour channels within 3/255 of their bilinear upsampling (worst ${worst})`);

  const grey = { width: 4, height: 3, channels: 3 as const, data: Uint8Array.from({ length: 36 }, (_, i) => Math.floor(i / 3) * 20) };
  const { cb, cr } = splitLumaChroma(grey);
  t.ok(cb.every((v) => v === 128) && cr.every((v) => v === 128), 'grey has neutral chroma 128');
  t.equal(CHROMA_ZERO, 128 / 255);
  const greyOut = srStepCpu(m, grey);
  let coloured = 0;
  for (let i = 0; i < greyOut.data.length; i += 3) {
    if (greyOut.data[i] !== greyOut.data[i + 1] || greyOut.data[i] !== greyOut.data[i + 2]) coloured++;
  }
  t.equal(coloured, 0, 'grey in, grey out');
  t.equal(greyOut.channels, 3, 'no alpha in, no alpha out');
});

t.test('upscaler: steps 0, 1, 2 and a final resample', async (t) => {
  const m = randomModel({ seed: 8, layers: [{ out: 8, kernel: 3 }, { out: 4, kernel: 1 }], residual: 'bicubic' });
  const upscaler = createCpuUpscaler(m);
  const image = randomImage(3, 7, 5, 3);
  t.same(upscaler.upscale(image, { steps: 0 }).data, image.data, 'steps 0 without size is the input');
  const x2 = upscaler.upscale(image, { steps: 1 });
  t.same([x2.width, x2.height], [14, 10]);
  const x4 = upscaler.upscale(image, { steps: 2 });
  t.same([x4.width, x4.height], [28, 20]);
  t.same(x4.data, srStepCpu(m, srStepCpu(m, image)).data, 'x4 is two x2 steps');
  const sized = upscaler.upscale(image, { steps: 1, size: { width: 17, height: 3 } });
  t.same([sized.width, sized.height, sized.channels], [17, 3, 3]);
  t.throws(() => upscaler.upscale({ width: 2, height: 2, channels: 3, data: new Uint8Array(5) }, { steps: 1 }),
    /image data has 5 bytes/);
  upscaler.close();
});
