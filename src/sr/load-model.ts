// Loads and validates `uprez-sr/1` model files (format: issue 3, semantics: SEMANTICS.md).
// Every message names the file, the layer and the field, so a broken model is easy to fix.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { ConvLayer, LumaTestVector, Residual, SrModel } from './model.js';
import { modelsDir } from '../service/paths.js';

export const MODEL_FORMAT = 'uprez-sr/1';
export const DEFAULT_MODEL_FILE = 'uprez-x2.json';

export class ModelError extends Error {
  override readonly name = 'ModelError';
}

/** models/uprez-x2.json, or an error that says to pass --model when it is not there. */
export function defaultModelPath(): string {
  const path = join(modelsDir, DEFAULT_MODEL_FILE);
  if (!existsSync(path)) {
    throw new ModelError(
      `no default model: ${path} does not exist (the trained model has not been added to models/ yet). ` +
        'Pass a model file with --model FILE.',
    );
  }
  return path;
}

/**
 * The JPEG variant of model file `X.json`: `X-jpeg.json` in the same folder, trained on
 * JPEG-degraded inputs as well as clean ones (better on JPEGs, a little worse on clean pictures).
 * Null when there is none. Only the daemon picks it; `upscale` and `eval` use the file they are given.
 */
export function jpegVariantPath(modelPath: string): string | null {
  const name = basename(modelPath);
  if (!name.endsWith('.json') || name.endsWith('-jpeg.json')) return null;
  const variant = join(dirname(modelPath), `${name.slice(0, -'.json'.length)}-jpeg.json`);
  return existsSync(variant) ? variant : null;
}

export function loadModel(path: string): SrModel {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ModelError(`cannot read model file ${path}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ModelError(`model file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  return parseModel(json, path);
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

/** Validates parsed JSON as a model; `source` (a path, or a description) goes into every message. */
export function parseModel(json: unknown, source: string): SrModel {
  const fail = (where: string, problem: string): never => {
    throw new ModelError(`model ${source}: ${where}: ${problem}`);
  };
  if (!isObject(json)) return fail('top level', 'expected a JSON object');
  if (json.format !== MODEL_FORMAT) {
    return fail('"format"', `expected "${MODEL_FORMAT}", found ${JSON.stringify(json.format)} (not a uprez model, or a newer format)`);
  }
  const name = typeof json.name === 'string' ? json.name : fail('"name"', 'expected a string');
  if (json.scale !== 2) fail('"scale"', `expected 2 (one x2 step per pass of the network), found ${JSON.stringify(json.scale)}`);
  if (json.input !== 'luma') fail('"input"', `expected "luma", found ${JSON.stringify(json.input)}`);
  if (!Array.isArray(json.layers) || json.layers.length === 0) return fail('"layers"', 'expected a non-empty array');

  const layers = json.layers.map((raw, index) => parseLayer(raw, index, fail));
  layers.forEach((layer, index) => {
    const where = `layers[${index}]`;
    const expectedIn = index === 0 ? 1 : layers[index - 1]!.out;
    if (layer.in !== expectedIn) {
      fail(`${where}.in`, index === 0
        ? `the first layer reads the luma plane, so "in" must be 1, found ${layer.in}`
        : `is ${layer.in} but the previous layer (layers[${index - 1}]) produces ${expectedIn} channels`);
    }
  });
  const last = layers[layers.length - 1]!;
  if (last.out !== 4) {
    fail(`layers[${layers.length - 1}].out`, `the last layer must produce scale*scale = 4 channels (the 2x2 sub-pixels), found ${last.out}`);
  }

  const output = parseOutput(json.output, fail);
  const test = json.test === undefined ? undefined : parseTest(json.test, fail);
  let metrics: SrModel['metrics'];
  if (json.metrics !== undefined) {
    const m = json.metrics;
    if (!isObject(m) || typeof m.params !== 'number' || typeof m.macsPerInputPixel !== 'number') {
      return fail('"metrics"', 'expected an object with numbers "params" and "macsPerInputPixel"');
    }
    metrics = { ...m, params: m.params, macsPerInputPixel: m.macsPerInputPixel };
  }
  const model: SrModel = { format: MODEL_FORMAT, name, scale: 2, input: 'luma', layers, output };
  if (test) model.test = test;
  if (metrics) model.metrics = metrics;
  return model;
}

function parseLayer(raw: unknown, index: number, fail: (where: string, problem: string) => never): ConvLayer {
  const where = `layers[${index}]`;
  if (!isObject(raw)) return fail(where, 'expected an object');
  if (raw.op !== 'conv2d') fail(`${where}.op`, `expected "conv2d", found ${JSON.stringify(raw.op)}`);
  if (raw.activation !== 'brelu') {
    fail(`${where}.activation`, `expected "brelu" (min(max(x,0),1), what an RGBA8 texture stores), found ${JSON.stringify(raw.activation)}`);
  }
  for (const field of ['in', 'out', 'kernel', 'groups'] as const) {
    if (!isPositiveInteger(raw[field])) fail(`${where}.${field}`, `expected a positive integer, found ${JSON.stringify(raw[field])}`);
  }
  const inChannels = raw.in as number;
  const out = raw.out as number;
  const kernel = raw.kernel as number;
  const groups = raw.groups as number;
  if (kernel % 2 === 0) fail(`${where}.kernel`, `must be odd ("same" convolution centred on the pixel), found ${kernel}`);
  if (inChannels % groups !== 0 || out % groups !== 0) {
    fail(`${where}.groups`, `${groups} groups must divide both in (${inChannels}) and out (${out})`);
  }
  // Activations live 4 channels to an RGBA8 texture and each GPU pass writes 4 channels.
  if (out % 4 !== 0) fail(`${where}.out`, `must be a multiple of 4 (4 channels per RGBA8 texture on the GPU), found ${out}`);
  if (inChannels !== 1 && inChannels % 4 !== 0) {
    fail(`${where}.in`, `must be 1 (luma) or a multiple of 4 (4 channels per RGBA8 texture), found ${inChannels}`);
  }
  const weightCount = out * (inChannels / groups) * kernel * kernel;
  const weights = numberArray(raw.weights, `${where}.weights`, weightCount,
    `out*(in/groups)*kernel*kernel = ${out}*${inChannels / groups}*${kernel}*${kernel}`, fail);
  const bias = numberArray(raw.bias, `${where}.bias`, out, `out = ${out}`, fail);
  return { op: 'conv2d', in: inChannels, out, kernel, groups, activation: 'brelu', weights, bias };
}

function numberArray(value: unknown, where: string, length: number, why: string,
  fail: (where: string, problem: string) => never): number[] {
  if (!Array.isArray(value)) return fail(where, 'expected an array of numbers');
  if (value.length !== length) fail(where, `expected ${length} values (${why}), found ${value.length}`);
  const bad = value.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
  if (bad >= 0) fail(`${where}[${bad}]`, `expected a finite number, found ${JSON.stringify(value[bad])}`);
  return value as number[];
}

function parseOutput(raw: unknown, fail: (where: string, problem: string) => never): SrModel['output'] {
  if (!isObject(raw)) return fail('"output"', 'expected an object');
  if (raw.op !== 'depthToSpace') fail('output.op', `expected "depthToSpace", found ${JSON.stringify(raw.op)}`);
  if (raw.block !== 2) fail('output.block', `expected 2 (equal to scale), found ${JSON.stringify(raw.block)}`);
  const r = raw.residual;
  if (r === null || r === undefined) return { op: 'depthToSpace', block: 2, residual: null };
  if (!isObject(r)) return fail('output.residual', 'expected null or an object');
  if (r.base !== 'bicubic' && r.base !== 'bilinear') {
    fail('output.residual.base', `expected "bicubic" or "bilinear", found ${JSON.stringify(r.base)}`);
  }
  for (const field of ['offset', 'gain'] as const) {
    if (typeof r[field] !== 'number' || !Number.isFinite(r[field])) {
      fail(`output.residual.${field}`, `expected a finite number, found ${JSON.stringify(r[field])}`);
    }
  }
  const residual: Residual = { base: r.base as Residual['base'], offset: r.offset as number, gain: r.gain as number };
  return { op: 'depthToSpace', block: 2, residual };
}

function parseTest(raw: unknown, fail: (where: string, problem: string) => never): LumaTestVector {
  if (!isObject(raw)) return fail('"test"', 'expected an object with "input" and "output"');
  const plane = (value: unknown, where: string, width?: number, height?: number) => {
    if (!isObject(value)) return fail(where, 'expected an object { width, height, luma }');
    if (!isPositiveInteger(value.width) || !isPositiveInteger(value.height)) {
      return fail(where, `expected positive integer width and height, found ${JSON.stringify(value.width)}x${JSON.stringify(value.height)}`);
    }
    if (width !== undefined && (value.width !== width || value.height !== height)) {
      fail(where, `expected ${width}x${height} (2x the test input), found ${value.width}x${value.height}`);
    }
    const luma = value.luma;
    const count = value.width * value.height;
    if (!Array.isArray(luma) || luma.length !== count) {
      fail(`${where}.luma`, `expected ${count} bytes (${value.width}x${value.height}), found ${Array.isArray(luma) ? luma.length : typeof luma}`);
    }
    const bad = (luma as unknown[]).findIndex((v) => !Number.isInteger(v) || (v as number) < 0 || (v as number) > 255);
    if (bad >= 0) fail(`${where}.luma[${bad}]`, `expected an integer 0..255, found ${JSON.stringify((luma as unknown[])[bad])}`);
    return { width: value.width, height: value.height, luma: luma as number[] };
  };
  const input = plane(raw.input, 'test.input');
  const output = plane(raw.output, 'test.output', input.width * 2, input.height * 2);
  return { input, output };
}

/** Parameters (weights + biases) and multiply-accumulates per input (low-resolution) pixel. */
export function modelMetrics(model: Pick<SrModel, 'layers'>): { params: number; macsPerInputPixel: number } {
  let params = 0;
  let macsPerInputPixel = 0;
  for (const layer of model.layers) {
    params += layer.weights.length + layer.bias.length;
    macsPerInputPixel += layer.out * (layer.in / layer.groups) * layer.kernel * layer.kernel;
  }
  return { params, macsPerInputPixel };
}

/** How many input pixels around a pixel affect its output: the halo a tile needs. */
export function receptiveRadius(model: Pick<SrModel, 'layers'>): number {
  return model.layers.reduce((sum, layer) => sum + (layer.kernel - 1) / 2, 0);
}
