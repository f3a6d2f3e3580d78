// Generates the GLSL ES 1.00 fragment shaders of the SR network from a model: one pass per
// 4 output channels (or, with EXT_draw_buffers, per several such blocks that read the same
// inputs), weights baked in as constants, filled into the templates in shaders/.
// Pure (no GL): the engine compiles what this returns; tests and the benchmark can inspect it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { shadersDir } from '../../service/paths.js';
import type { ConvLayer, SrModel } from '../model.js';
import { BLEND } from '../adaptive.js';

/** The GPU limits that decide whether a model fits (see ../gpu/gpu-limits.ts for where they come from). */
export interface PassLimits {
  /** MAX_TEXTURE_IMAGE_UNITS: samplers one fragment shader may use. */
  maxTextureUnits: number;
  /** Texture fetches one pass may make (VideoCore drivers fail on shaders with too many). */
  maxFetchesPerPass: number;
  /**
   * Output textures (4 channels each) one pass may write: more than 1 needs EXT_draw_buffers
   * (gl_FragData). Absent: 1, one gl_FragColor per pass.
   */
  maxOutputsPerPass?: number;
}

/** Raised when a model cannot run on this GPU: names the layer and the limit. */
export class ModelLimitError extends Error {
  override readonly name = 'ModelLimitError';
}

/** One fragment-shader pass of a convolution layer. */
export interface ConvPass {
  /** Index of the layer in model.layers. */
  layer: number;
  /** The output textures, in gl_FragData order (texture t holds output channels 4t .. 4t+3). */
  outputTextures: number[];
  /** The previous activation's textures this pass samples, in sampler order (u_in0, u_in1, ...). */
  inputTextures: number[];
  /** true for the first layer, which reads the packed luma texture instead. */
  packedInput: boolean;
  fetches: number;
  fragment: string;
}

const templateCache = new Map<string, string>();

/** A template from shaders/ with its {{SLOTS}} filled; every slot must be given. */
export function fillTemplate(name: string, slots: Record<string, string | number>): string {
  let text = templateCache.get(name);
  if (text === undefined) {
    text = readFileSync(join(shadersDir, name), 'utf8');
    templateCache.set(name, text);
  }
  const filled = text.replace(/\{\{([A-Z_]+)\}\}/g, (_, key: string) => {
    const value = key === 'PRECISION' || key === 'ROUNDING' ? snippet(key) : slots[key];
    if (value === undefined) throw new Error(`shader template ${name}: no value for {{${key}}}`);
    return String(value);
  });
  return filled;
}

/** The shared GLSL pieces every template includes: precision.glsl, rounding.glsl. */
function snippet(key: 'PRECISION' | 'ROUNDING'): string {
  const name = key === 'PRECISION' ? 'precision.glsl' : 'rounding.glsl';
  let text = templateCache.get(name);
  if (text === undefined) {
    text = readFileSync(join(shadersDir, name), 'utf8').trim();
    templateCache.set(name, text);
  }
  return text;
}

/** A float literal GLSL ES 1.00 accepts, exact for float32 values. */
export function glslFloat(x: number): string {
  const f = Math.fround(x);
  if (!Number.isFinite(f)) throw new RangeError(`weight ${x} is not a finite float32`);
  if (Number.isInteger(f) && Math.abs(f) < 1e9) return `${f}.0`;
  const text = f.toPrecision(9);
  return /[.e]/.test(text) ? text : `${text}.0`;
}

function vec4(values: number[]): string {
  return `vec4(${values.map(glslFloat).join(', ')})`;
}

/** Radius of the margin around the packed luma texture: covers layer 1's window and the bicubic base. */
export function packedMargin(model: SrModel): number {
  return Math.max((model.layers[0]!.kernel - 1) / 2, 2);
}

/** Input channels output channel `o` of `layer` reads. */
function inputsOf(layer: ConvLayer, o: number): { first: number; count: number } {
  const inPerGroup = layer.in / layer.groups;
  const outPerGroup = layer.out / layer.groups;
  return { first: Math.floor(o / outPerGroup) * inPerGroup, count: inPerGroup };
}

/** Weight of input channel `c` (absolute) at kernel position (kx, ky) for output `o`; 0 when not connected. */
function weightAt(layer: ConvLayer, o: number, c: number, kx: number, ky: number): number {
  if (o >= layer.out) return 0;
  const { first, count } = inputsOf(layer, o);
  if (c < first || c >= first + count) return 0;
  const k = layer.kernel;
  return layer.weights[((o * count + (c - first)) * k + ky) * k + kx]!;
}

function biasOf(layer: ConvLayer, firstOut: number): number[] {
  return [0, 1, 2, 3].map((j) => (firstOut + j < layer.out ? layer.bias[firstOut + j]! : 0));
}

function describe(layer: ConvLayer, index: number): string {
  const groups = layer.groups > 1 ? `, groups ${layer.groups}` : '';
  return `layer ${index + 1} (conv ${layer.kernel}x${layer.kernel}, ${layer.in}->${layer.out}${groups})`;
}

/**
 * Accumulates one fetched texel `s` (as bytes) into acc: `acc += s.x * vec4(w0) + s.y * vec4(w1) + ...`,
 * the column form (llvmpipe runs it about twice as fast as a constant mat4 product), leaving
 * out components no output of the pass reads.
 */
function accumulate(columns: Array<number[] | null>, acc: string): string | null {
  const terms: string[] = [];
  columns.forEach((column, component) => {
    // The shaders read bytes (0..255): each weight is divided by 255 here, once.
    const perByte = column?.map((w) => Math.fround(w) / 255);
    if (perByte && perByte.some((w) => w !== 0)) terms.push(`s.${'xyzw'[component]} * ${vec4(perByte)}`);
  });
  return terms.length ? `  ${acc} += ${terms.join(' + ')};` : null;
}

/**
 * Splits a layer's output blocks (4 channels each) into passes: neighbouring blocks that read
 * the same input textures share a pass (its fetches then serve them all, and its fetch and
 * sampler counts are those of one block), at most `maxOutputs` per pass, in passes of even size.
 */
function groupOutputBlocks(inputsOfBlock: string[], maxOutputs: number): number[][] {
  const passes: number[][] = [];
  let start = 0;
  while (start < inputsOfBlock.length) {
    let end = start + 1;
    while (end < inputsOfBlock.length && inputsOfBlock[end] === inputsOfBlock[start]) end++;
    const run = end - start;
    const size = Math.ceil(run / Math.ceil(run / maxOutputs));
    for (let first = start; first < end; first += size) {
      passes.push(Array.from({ length: Math.min(size, end - first) }, (_, i) => first + i));
    }
    start = end;
  }
  return passes;
}

/** Template slots of a pass writing `blocks` (output textures): one gl_FragColor, or gl_FragData[i] with EXT_draw_buffers. */
function outputSlots(layer: ConvLayer, blocks: number[]): { EXTENSION: string; ACCUMULATORS: string; OUTPUT: string } {
  const store = (acc: string): string => `roundHalfUp(clamp(${acc}, 0.0, 1.0) * 255.0) * (1.0 / 255.0)`;
  if (blocks.length === 1) {
    return { EXTENSION: '', ACCUMULATORS: `  vec4 acc = ${vec4(biasOf(layer, blocks[0]! * 4))};`, OUTPUT: `  gl_FragColor = ${store('acc')};` };
  }
  return {
    EXTENSION: '#extension GL_EXT_draw_buffers : require\n',
    ACCUMULATORS: blocks.map((block, i) => `  vec4 acc${i} = ${vec4(biasOf(layer, block * 4))};`).join('\n'),
    OUTPUT: blocks.map((_, i) => `  gl_FragData[${i}] = ${store(`acc${i}`)};`).join('\n'),
  };
}

/** The accumulator of the i-th of `count` output blocks in a pass. */
const accumulatorName = (i: number, count: number): string => (count === 1 ? 'acc' : `acc${i}`);

/** The lines accumulating one fetched texel `s` into every block of the pass (columns per block). */
function accumulateAll(columnsOfBlock: Array<Array<number[] | null>>): string[] {
  const lines: string[] = [];
  columnsOfBlock.forEach((columns, i) => {
    const line = accumulate(columns, accumulatorName(i, columnsOfBlock.length));
    if (line) lines.push(line);
  });
  return lines;
}

/** The passes of a layer that reads full-resolution activation textures (every layer but the first). */
function layerPasses(layer: ConvLayer, index: number, limits: PassLimits): ConvPass[] {
  const r = (layer.kernel - 1) / 2;
  const texturesOfBlock: number[][] = [];
  for (let block = 0; block * 4 < layer.out; block++) {
    const textures = new Set<number>();
    for (let o = block * 4; o < Math.min(block * 4 + 4, layer.out); o++) {
      const { first, count } = inputsOf(layer, o);
      for (let c = first; c < first + count; c++) textures.add(Math.floor(c / 4));
    }
    texturesOfBlock.push([...textures].sort((a, b) => a - b));
  }
  const groups = groupOutputBlocks(texturesOfBlock.map((t) => t.join(',')), limits.maxOutputsPerPass ?? 1);
  return groups.map((blocks) => {
    const inputTextures = texturesOfBlock[blocks[0]!]!;
    const fetches = inputTextures.length * layer.kernel * layer.kernel;
    checkPassLimits(layer, index, inputTextures.length, fetches, limits);
    const outputsOfBlock = blocks.map((block) => [0, 1, 2, 3].map((j) => block * 4 + j));
    const body: string[] = [];
    inputTextures.forEach((texture, sampler) => {
      for (let ky = 0; ky < layer.kernel; ky++) {
        for (let kx = 0; kx < layer.kernel; kx++) {
          const lines = accumulateAll(outputsOfBlock.map((outputs) => [0, 1, 2, 3].map((component) =>
            outputs.map((o) => weightAt(layer, o, texture * 4 + component, kx, ky)))));
          if (!lines.length) continue;
          body.push(`  s = tap(u_in${sampler}, vec2(${glslFloat(kx - r)}, ${glslFloat(ky - r)}));`, ...lines);
        }
      }
    });
    const samplers = inputTextures.map((_, sampler) => `uniform sampler2D u_in${sampler};`).join('\n');
    const fragment = fillTemplate('conv.frag', { ...outputSlots(layer, blocks), SAMPLERS: samplers, BODY: body.join('\n') });
    return { layer: index, outputTextures: blocks, inputTextures, packedInput: false, fetches, fragment };
  });
}

/** The passes of the first layer (1 input channel), reading the 2x2-packed luma texture. */
function firstLayerPasses(layer: ConvLayer, margin: number, limits: PassLimits): ConvPass[] {
  if (layer.in !== 1) throw new ModelLimitError(`${describe(layer, 0)}: the first layer must read the 1 luma channel`);
  const r = (layer.kernel - 1) / 2;
  // Fetch positions -r, -r+2, ... cover the window -r..r with 2x2 blocks.
  const positions: number[] = [];
  for (let p = -r; p <= r; p += 2) positions.push(p);
  const fetches = positions.length * positions.length;
  checkPassLimits(layer, 0, 1, fetches, limits);
  // Every block reads the packed luma: with draw buffers they share passes.
  const groups = groupOutputBlocks(Array.from({ length: Math.ceil(layer.out / 4) }, () => 'packed'), limits.maxOutputsPerPass ?? 1);
  return groups.map((blocks) => {
    const outputsOfBlock = blocks.map((block) => [0, 1, 2, 3].map((j) => block * 4 + j));
    const body: string[] = [];
    for (const py of positions) {
      for (const px of positions) {
        const lines = accumulateAll(outputsOfBlock.map((outputs) => [[0, 0], [1, 0], [0, 1], [1, 1]].map(([ox, oy]) => {
          const dx = px + ox!;
          const dy = py + oy!;
          if (dx > r || dy > r) return null; // outside the window: the packed neighbour is not used
          return outputs.map((o) => weightAt(layer, o, 0, dx + r, dy + r));
        })));
        if (!lines.length) continue;
        body.push(`  s = tap(vec2(${glslFloat(px)}, ${glslFloat(py)}));`, ...lines);
      }
    }
    const fragment = fillTemplate('conv-packed.frag', { ...outputSlots(layer, blocks), MARGIN: margin, BODY: body.join('\n') });
    return { layer: 0, outputTextures: blocks, inputTextures: [], packedInput: true, fetches, fragment };
  });
}

function checkPassLimits(layer: ConvLayer, index: number, samplers: number, fetches: number, limits: PassLimits): void {
  // The output pass also needs 3 samplers; conv passes are the ones a model can push too far.
  if (samplers > limits.maxTextureUnits) {
    throw new ModelLimitError(`${describe(layer, index)} needs ${samplers} input textures in one pass, ` +
      `but this GPU allows ${limits.maxTextureUnits} (MAX_TEXTURE_IMAGE_UNITS). ` +
      'Use grouped convolutions or fewer input channels per group for this layer.');
  }
  if (fetches > limits.maxFetchesPerPass) {
    throw new ModelLimitError(`${describe(layer, index)} needs ${fetches} texture fetches in one pass, ` +
      `but the limit is ${limits.maxFetchesPerPass} fetches per pass. ` +
      'Use a smaller kernel or grouped convolutions (fewer input channels per group) for this layer.');
  }
}

/** Every conv pass of the model, layer by layer; throws ModelLimitError when a layer breaks a limit. */
export function generateConvPasses(model: SrModel, limits: PassLimits): ConvPass[][] {
  const last = model.layers[model.layers.length - 1];
  if (!last || last.out !== 4) {
    throw new ModelLimitError(`model "${model.name}": the last layer must have 4 channels (2x2 sub-pixels), not ${last?.out ?? 0}`);
  }
  return model.layers.map((layer, index) =>
    index === 0 ? firstLayerPasses(layer, packedMargin(model), limits) : layerPasses(layer, index, limits));
}

// PyTorch's cubic convolution (A = -0.75) at the two phases of a x2 upsampling.
const A = -0.75;
const cubicNear = (x: number): number => ((A + 2) * x - (A + 3)) * x * x + 1;
const cubicFar = (x: number): number => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
/** Weights of taps i-2..i+1 for even outputs (source offset -0.25, t = 0.75). */
const BICUBIC_EVEN = [cubicFar(1.75), cubicNear(0.75), cubicNear(0.25), cubicFar(1.25)];

/**
 * The x2 step's output pass: depth-to-space, residual base, chroma; colour or luma only.
 * `adaptive` (../adaptive.ts): the network's part is weighed by the blend weight of the pixel's
 * distance to a heavy pixel (u_distance); models without a residual blend with bicubic.
 */
export function generateOutputPass(model: SrModel, output: 'colour' | 'luma', adaptive = false): string {
  const residual = model.output.residual;
  let base = '';
  let luma = 'v';
  const baseKind = residual?.base ?? (adaptive ? 'bicubic' : null);
  if (baseKind) {
    if (baseKind === 'bilinear') {
      base = [
        '  vec2 wb = mix(vec2(0.75), vec2(0.25), d);',
        '  base = dot(packedAt(lr - 1.0 + d), blockWeights(vec2(1.0 - wb.x, wb.x), vec2(1.0 - wb.y, wb.y)));',
      ].join('\n');
    } else {
      const even = vec4(BICUBIC_EVEN);
      const odd = vec4([...BICUBIC_EVEN].reverse());
      base = [
        `  // Bicubic x2: taps i-2..i+1 (even outputs) or i-1..i+2 (odd), four 2x2 blocks.`,
        `  vec4 wx = mix(${even}, ${odd}, d.x);`,
        `  vec4 wy = mix(${even}, ${odd}, d.y);`,
        '  vec2 start = lr - 2.0 + d;',
        '  base = dot(packedAt(start), blockWeights(wx.xy, wy.xy))',
        '       + dot(packedAt(start + vec2(2.0, 0.0)), blockWeights(wx.zw, wy.xy))',
        '       + dot(packedAt(start + vec2(0.0, 2.0)), blockWeights(wx.xy, wy.zw))',
        '       + dot(packedAt(start + vec2(2.0, 2.0)), blockWeights(wx.zw, wy.zw));',
      ].join('\n');
    }
  }
  if (residual) luma = `base + ${glslFloat(residual.gain)} * (v - ${glslFloat(residual.offset * 255)})`; // in bytes
  let declarations = '';
  if (adaptive) {
    // Weight 1 keeps the full expression's value exactly (dyadic weights, byte units).
    const correction = residual ? `${glslFloat(residual.gain)} * (v - ${glslFloat(residual.offset * 255)})` : 'v - base';
    luma = `base + weight * (${correction})`;
    declarations = 'uniform sampler2D u_distance; // distance to the nearest heavy pixel, low resolution (tile size)\n';
    base += `\n  float weight = clamp(1.0 - bytes(u_distance, (lr + 0.5) * u_texel).x * ${glslFloat(1 / (BLEND + 1))}, 0.0, 1.0);`;
  }
  const colour = [
    '  float cb = c.x - 128.0;', // neutral chroma is 128 (bytes)
    '  float cr = c.y - 128.0;',
    '  vec3 rgb = vec3(yo + 1.403 * cr, yo - 0.344 * cb - 0.714 * cr, yo + 1.773 * cb);',
    '  gl_FragColor = roundHalfUp(vec4(clamp(rgb, 0.0, 255.0), c.z)) * (1.0 / 255.0);',
  ].join('\n');
  return fillTemplate('sr-output.frag', {
    DECLARATIONS: declarations,
    MARGIN: packedMargin(model),
    BASE: base,
    LUMA: luma,
    OUTPUT: output === 'colour' ? colour : '  gl_FragColor = vec4(yo, yo, yo, 255.0) * (1.0 / 255.0);',
  });
}

export function generateLumaPackPass(model: SrModel): string {
  return fillTemplate('luma-pack.frag', { MARGIN: packedMargin(model) });
}

export function generateChromaPass(): string {
  return fillTemplate('chroma.frag', {});
}

export function generateResamplePass(axis: 'x' | 'y', maxTaps: number): string {
  return fillTemplate('resample.frag', { AXIS: axis, MAX_TAPS: maxTaps });
}

export function vertexShader(): string {
  return fillTemplate('quad.vert', {});
}
