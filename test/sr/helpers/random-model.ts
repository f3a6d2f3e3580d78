// Seeded random models and images for tests. The models are valid `uprez-sr/1` files shaped for
// GLES2 (channels in fours), with weights scaled from the statistics of the activations that
// actually reach each layer, so that activations spread over (0,1) instead of all clamping to
// 0 or 1: comparisons between engines then exercise real arithmetic.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConvLayer, LumaImage, RasterImage, Residual, SrModel } from '../../../src/sr/model.js';
import { modelMetrics, parseModel } from '../../../src/sr/load-model.js';
import { runLayersCpu, runNetworkCpu } from '../../../src/sr/cpu/cpu-reference.js';

/** mulberry32: a small, fast, seeded PRNG giving floats in [0,1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(random: () => number): number {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

export interface LayerShape {
  out: number;
  kernel: number;
  groups?: number;
}

export interface RandomModelOptions {
  seed: number;
  layers: LayerShape[];
  /** A residual output (default: none). */
  residual?: Residual | 'bicubic' | 'bilinear' | null;
  /** Add a test vector of this input size, computed by the CPU reference. */
  testSize?: { width: number; height: number };
  name?: string;
}

/** A plausible-looking test picture: smooth gradients and waves plus noise, deterministic per seed. */
export function randomLuma(seed: number, width: number, height: number): LumaImage {
  const image = randomImage(seed, width, height, 3);
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = image.data[i * 3]!;
  return { width, height, data };
}

export function randomImage(seed: number, width: number, height: number, channels: 3 | 4): RasterImage {
  const random = rng(seed);
  const waves = Array.from({ length: channels }, () => ({
    fx: 0.05 + random() * 0.5,
    fy: 0.05 + random() * 0.5,
    phase: random() * 6.28,
    amplitude: 40 + random() * 60,
    noise: 10 + random() * 50,
  }));
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        const w = waves[c]!;
        const value = 128 + w.amplitude * Math.sin(w.fx * x + w.fy * y + w.phase) + w.noise * (random() * 2 - 1);
        data[(y * width + x) * channels + c] = Math.min(255, Math.max(0, Math.round(value)));
      }
    }
  }
  return { width, height, channels, data };
}

/** Mean of x^2 over every activation of every channel (what a random weight's variance multiplies). */
function meanSquare(planes: Uint8Array[]): number {
  let sum = 0;
  let count = 0;
  for (const plane of planes) {
    for (const v of plane) sum += (v / 255) ** 2;
    count += plane.length;
  }
  return sum / count;
}

export function randomModel(options: RandomModelOptions): SrModel {
  const random = rng(options.seed);
  const probe = randomLuma(options.seed ^ 0x5eed, 24, 24);
  const layers: ConvLayer[] = [];
  let inChannels = 1;
  options.layers.forEach((shape, index) => {
    const groups = shape.groups ?? 1;
    const isLast = index === options.layers.length - 1;
    const fanIn = (inChannels / groups) * shape.kernel * shape.kernel;
    const inputs = layers.length === 0 ? [probe.data] : runLayersCpu(layers, probe).planes;
    // Pre-activation spread of about 0.35 around a bias of about 0.4 keeps most values inside (0,1).
    const spread = isLast ? 0.2 : 0.35;
    const sigma = spread / Math.sqrt(fanIn * Math.max(meanSquare(inputs), 1e-3));
    const weights = Array.from({ length: shape.out * fanIn }, () => sigma * gaussian(random));
    const bias = Array.from({ length: shape.out }, () => (isLast ? 0.5 : 0.4) + 0.15 * (random() * 2 - 1));
    layers.push({ op: 'conv2d', in: inChannels, out: shape.out, kernel: shape.kernel, groups, activation: 'brelu', weights, bias });
    inChannels = shape.out;
  });
  const residual: Residual | null = typeof options.residual === 'string'
    ? { base: options.residual, offset: 0.5, gain: 1 }
    : options.residual ?? null;
  const model: SrModel = {
    format: 'uprez-sr/1',
    name: options.name ?? `random-${options.seed}`,
    scale: 2,
    input: 'luma',
    layers,
    output: { op: 'depthToSpace', block: 2, residual },
  };
  model.metrics = modelMetrics(model);
  if (options.testSize) {
    const input = randomLuma(options.seed + 1, options.testSize.width, options.testSize.height);
    const output = runNetworkCpu(model, input);
    model.test = {
      input: { width: input.width, height: input.height, luma: Array.from(input.data) },
      output: { width: output.width, height: output.height, luma: Array.from(output.data) },
    };
  }
  // Whatever the helper builds must pass the real loader.
  return parseModel(JSON.parse(JSON.stringify(model)), `randomModel(seed ${options.seed})`);
}

/** The published GLES2 baseline's shape: 7,216 MACs per input pixel, receptive radius 4. */
export const BASELINE_LAYERS: LayerShape[] = [
  { out: 48, kernel: 5 },
  { out: 32, kernel: 3, groups: 4 },
  { out: 24, kernel: 1 },
  { out: 16, kernel: 3, groups: 2 },
  { out: 4, kernel: 1 },
];

export function baselineShapedModel(seed: number, residual: RandomModelOptions['residual'] = 'bicubic'): SrModel {
  return randomModel({ seed, layers: BASELINE_LAYERS, residual, name: `baseline-shaped-${seed}` });
}

/** Writes a model to a new temporary directory; returns the file's path. */
export function writeModelFile(model: SrModel, name = 'model.json'): string {
  const dir = mkdtempSync(join(tmpdir(), 'uprez-model-'));
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(model));
  return path;
}
