// npm run bench:sr — speed of the GPU SR engine on the current GL renderer (headless EGL).
// Prints: which model, start-up with cold vs warm caches, ms per x2 step for a
// 960x540 and a 1920x1080 input (median of several runs, compilation excluded), effective
// multiply-accumulates per second, time per stage, and the CPU reference for comparison.
//   node dist/scripts/bench-sr.js [--runs N] [--no-cpu] [--model FILE | --baseline]
//     [--max-draw-buffers N] [--max-outputs-per-pass N]   (1: no multiple render targets)
//     [--no-adaptive | --adaptive-only]   (the adaptive-compute rows: bench-sr-adaptive.ts)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openHeadless } from 'node-drm-gbm-egl';
import { createGpuUpscaler, type GpuUpscaler } from '../src/sr/gpu/gpu-engine.js';
import { createCpuUpscaler } from '../src/sr/cpu/cpu-reference.js';
import { DEFAULT_MODEL_FILE, loadModel, modelMetrics } from '../src/sr/load-model.js';
import { modelsDir } from '../src/service/paths.js';
import type { RasterImage, SrModel } from '../src/sr/model.js';
import { baselineShapedModel, randomImage } from '../test/sr/helpers/random-model.js';
import { benchAdaptive } from './bench-sr-adaptive.js';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const runs = Number(flag('--runs') ?? 5);
const withCpu = !args.includes('--no-cpu');
const numberFlag = (name: string): number | undefined => (flag(name) === undefined ? undefined : Number(flag(name)));
// Multiple render targets (EXT_draw_buffers): the GPU's by default; compare on and off with these.
const engineOptions = { maxDrawBuffers: numberFlag('--max-draw-buffers'), maxOutputsPerPass: numberFlag('--max-outputs-per-pass') };

function pickModel(): { model: SrModel; source: string } {
  if (args.includes('--baseline')) return { model: baselineShapedModel(1), source: '--baseline: the published network\'s shape, random weights (seed 1)' };
  const path = flag('--model') ?? join(modelsDir, DEFAULT_MODEL_FILE);
  if (existsSync(path)) return { model: loadModel(path), source: path };
  return { model: baselineShapedModel(1), source: `no ${path}: a baseline-shaped random model (seed 1)` };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const ms = (x: number): string => `${x.toFixed(0)} ms`;

/** Wall-clock ms per run, and CPU ms per run (this process, llvmpipe's threads included). */
function timeRuns(upscaler: GpuUpscaler, image: RasterImage, count: number): { wall: number[]; cpu: number[] } {
  upscaler.upscale(image, { steps: 1 }); // warm-up: llvmpipe compiles its shader variants on first draw
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < count; i++) {
    const startedCpu = process.cpuUsage();
    const started = performance.now();
    upscaler.upscale(image, { steps: 1 });
    wall.push(performance.now() - started);
    const used = process.cpuUsage(startedCpu);
    cpu.push((used.user + used.system) / 1000);
  }
  return { wall, cpu };
}

interface StartupProbe {
  createMs: number;
  firstRunMs: number;
  compiled: number;
  loaded: number;
  rejected: number;
}

const { model, source } = pickModel();
if (args.includes('--startup-probe')) {
  const display = openHeadless({ width: 16, height: 16 });
  const started = performance.now();
  const upscaler = createGpuUpscaler(display.gl, model, engineOptions); // default program cache: $XDG_CACHE_HOME/uprez/programs
  const createMs = performance.now() - started;
  const image = randomImage(42, 960, 540, 3);
  const runStarted = performance.now();
  upscaler.upscale(image, { steps: 1 });
  const firstRunMs = performance.now() - runStarted;
  const { compiled, loaded, rejected } = upscaler.programStats;
  upscaler.close();
  display.close();
  const result: StartupProbe = { createMs, firstRunMs, compiled, loaded, rejected };
  process.stdout.write(JSON.stringify(result));
  process.exit(0);
}
const macs = model.metrics?.macsPerInputPixel ?? modelMetrics(model).macsPerInputPixel;
const display = openHeadless({ width: 16, height: 16 });
const { gl } = display;
console.log(`GL: ${display.info.glRenderer} | ${display.info.glVersion}`);
// Other processes' load skews wall-clock times here (2 cores); CPU time per run does not move much.
console.log(`machine: ${cpus().length} CPUs, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} at start`);
console.log(`model: ${model.name} (${source})`);
console.log(`       ${model.layers.map((l) => `${l.kernel}x${l.kernel} ${l.in}->${l.out}${l.groups > 1 ? ` g${l.groups}` : ''}`).join(', ')}; ` +
  `${macs} MACs per input pixel; residual ${model.output.residual?.base ?? 'none'}`);

// Start-up, as the daemon meets it: a new process with empty caches (compile everything; llvmpipe
// also JIT-compiles each program at its first draw), then a new process with the caches it left
// (our program binaries, Mesa's shader cache). Each: create the upscaler, then a first 960x540 x2.
const cacheRoot = mkdtempSync(join(tmpdir(), 'uprez-bench-caches-'));
const probe = (): StartupProbe => {
  const output = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--startup-probe', ...args], {
    env: { ...process.env, XDG_CACHE_HOME: join(cacheRoot, 'xdg'), MESA_SHADER_CACHE_DIR: join(cacheRoot, 'mesa') },
    encoding: 'utf8',
  });
  return JSON.parse(output) as StartupProbe;
};
if (args.includes('--adaptive-only')) {
  await benchAdaptive(gl, model, runs, engineOptions);
  display.close();
  process.exit(0);
}
const cold = probe();
const warm = probe();
rmSync(cacheRoot, { recursive: true, force: true });
console.log(`start-up, cold caches: create ${ms(cold.createMs)} (${cold.compiled} programs compiled) + first 960x540 x2 ${ms(cold.firstRunMs)}`);
console.log(`start-up, warm caches: create ${ms(warm.createMs)} (${warm.loaded} program binaries loaded, ${warm.rejected} rejected) ` +
  `+ first 960x540 x2 ${ms(warm.firstRunMs)}`);
const upscaler = createGpuUpscaler(gl, model, { ...engineOptions, cacheDir: null });
console.log(`draw buffers: ${upscaler.limits.maxDrawBuffers}, output textures per conv pass: at most ${upscaler.limits.maxOutputsPerPass}`);

console.log(`\nx2 step, colour in and out (median of ${runs} runs after a warm-up):`);
console.log('  (for scale: the published GLES2 approach, 7,216 MACs per pixel, takes about 850 ms and 3,300 ms here: issue 3)');
const sizes = [[960, 540], [1920, 1080]] as const;
const images = sizes.map(([w, h]) => randomImage(42, w, h, 3));
for (const image of images) {
  const times = timeRuns(upscaler, image, runs);
  const t = median(times.wall);
  const gmacs = (macs * image.width * image.height) / (t / 1000) / 1e9;
  console.log(`  ${image.width}x${image.height} -> ${image.width * 2}x${image.height * 2}: ${ms(t)} ` +
    `(runs ${times.wall.map((x) => x.toFixed(0)).join(', ')}), ${gmacs.toFixed(1)} G MAC/s; ` +
    `CPU time ${ms(median(times.cpu))} per run`);
}
upscaler.close();

// Where the time goes: every stage finished before the next starts (adds a little overhead).
const profiled = createGpuUpscaler(gl, model, { ...engineOptions, cacheDir: null, profile: true });
const big = images[1]!;
profiled.upscale(big, { steps: 1 });
const profiles: Array<Map<string, number>> = [];
for (let i = 0; i < 3; i++) {
  profiled.resetStageTimes();
  profiled.upscale(big, { steps: 1 });
  profiles.push(profiled.stageTimes());
}
profiled.close();
console.log(`\nper stage at ${big.width}x${big.height} input (median of 3, each stage finished before the next):`);
let total = 0;
for (const name of profiles[0]!.keys()) {
  const t = median(profiles.map((p) => p.get(name) ?? 0));
  total += t;
  console.log(`  ${name.padEnd(28)} ${t.toFixed(1).padStart(7)} ms`);
}
console.log(`  ${'total'.padEnd(28)} ${total.toFixed(1).padStart(7)} ms`);
if (!args.includes('--no-adaptive')) await benchAdaptive(gl, model, runs, engineOptions);
display.close();

if (withCpu) {
  const cpu = createCpuUpscaler(model);
  const image = images[0]!;
  const started = performance.now();
  cpu.upscale(image, { steps: 1 });
  const t = performance.now() - started;
  const gmacs = (macs * image.width * image.height) / (t / 1000) / 1e9;
  console.log(`\nCPU reference (TypeScript, one thread): ${image.width}x${image.height} -> ${ms(t)}, ${gmacs.toFixed(2)} G MAC/s`);
}
