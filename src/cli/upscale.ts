// `uprez upscale`: super-resolves image files with the SR engine and writes PNGs.
// One engine (one GL context, one set of compiled programs) serves the whole batch; a file
// that fails is reported and the batch goes on; the exit code says whether all succeeded.
import { mkdirSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stderr, stdout } from 'node:process';
import type { RasterImage, SrModel } from '../sr/model.js';
import { defaultModelPath, loadModel, modelMetrics } from '../sr/load-model.js';
import { openEngine, type Engine } from '../sr/open-engine.js';
import { decodeImage, DEFAULT_MAX_INPUT_PIXELS } from '../decode/decode.js';
import { writePng } from '../decode/encode.js';

const USAGE = `usage: uprez upscale [options] --out DIR FILE...

Super-resolves each FILE (any format sharp reads: JPEG, PNG, WebP, AVIF, TIFF, GIF, ...)
and writes DIR/<name>.png.

options:
  --model FILE      model file (uprez-sr/1 JSON); default: models/uprez-x2.json
  --scale 2|4       one x2 SR step or two (default 2; with --size alone: the fewest steps
                    that reach the size)
  --size WxH        resample to exactly W x H after the SR steps
  --backend gpu|cpu gpu: GLES2 shaders (default); cpu: the TypeScript reference (slow)
  --tile N          largest tile side on the GPU (default: the GPU's limit)
  --max-pixels N    refuse inputs with more pixels than this (default ${DEFAULT_MAX_INPUT_PIXELS})
  --out DIR         output folder (created if missing)
`;

class UsageError extends Error {}

interface Settings {
  modelPath?: string;
  steps?: 0 | 1 | 2;
  size?: { width: number; height: number };
  backend: 'gpu' | 'cpu';
  tile?: number;
  maxPixels: number;
  outDir: string;
  files: string[];
}

function positiveInteger(value: string, flag: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new UsageError(`${flag} expects a positive integer, got '${value}'`);
  return n;
}

function parseSettings(args: string[]): Settings | 'help' {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      scale: { type: 'string' },
      size: { type: 'string' },
      backend: { type: 'string', default: 'gpu' },
      tile: { type: 'string' },
      'max-pixels': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  if (!values.out) throw new UsageError('--out DIR is required');
  if (positionals.length === 0) throw new UsageError('no input files');
  let steps: Settings['steps'];
  if (values.scale !== undefined) {
    if (values.scale !== '2' && values.scale !== '4') throw new UsageError(`--scale must be 2 or 4, got '${values.scale}'`);
    steps = values.scale === '2' ? 1 : 2;
  }
  let size: Settings['size'];
  if (values.size !== undefined) {
    const match = /^(\d+)x(\d+)$/.exec(values.size);
    if (!match) throw new UsageError(`--size expects WxH (e.g. 3840x2160), got '${values.size}'`);
    size = { width: positiveInteger(match[1]!, '--size width'), height: positiveInteger(match[2]!, '--size height') };
  }
  if (values.backend !== 'gpu' && values.backend !== 'cpu') {
    throw new UsageError(`--backend must be gpu or cpu, got '${values.backend}'`);
  }
  return {
    modelPath: values.model,
    steps,
    size,
    backend: values.backend,
    tile: values.tile === undefined ? undefined : positiveInteger(values.tile, '--tile'),
    maxPixels: values['max-pixels'] === undefined ? DEFAULT_MAX_INPUT_PIXELS : positiveInteger(values['max-pixels'], '--max-pixels'),
    outDir: values.out,
    files: positionals,
  };
}

/** The SR steps for one image: --scale when given, else the fewest that reach --size (at most 2). */
function stepsFor(image: RasterImage, settings: Settings): 0 | 1 | 2 {
  if (settings.steps !== undefined) return settings.steps;
  if (!settings.size) return 1;
  for (const steps of [0, 1] as const) {
    const factor = 2 ** steps;
    if (image.width * factor >= settings.size.width && image.height * factor >= settings.size.height) return steps;
  }
  return 2;
}

/** A one-line progress bar on stderr, drawn only on a terminal. */
class ProgressBar {
  private readonly enabled = stderr.isTTY === true;
  private shown = false;

  constructor(private readonly total: number) {}

  draw(done: number, label: string): void {
    if (!this.enabled) return;
    const width = 24;
    const filled = Math.round((done / this.total) * width);
    const columns = stderr.columns || 80; // 0 when the terminal does not say
    const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total} ${label}`;
    stderr.write(`\r\x1b[K${line.slice(0, columns - 1)}`);
    this.shown = true;
  }

  /** Clears the bar so an ordinary line can be printed. */
  clear(): void {
    if (this.shown) stderr.write('\r\x1b[K');
    this.shown = false;
  }
}

function milliseconds(start: number): string {
  return `${Math.round(performance.now() - start)} ms`;
}

export async function main(args: string[]): Promise<number> {
  let settings: Settings;
  try {
    const parsed = parseSettings(args);
    if (parsed === 'help') {
      stdout.write(USAGE);
      return 0;
    }
    settings = parsed;
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      stderr.write(`uprez upscale: ${(error as Error).message}\n\n${USAGE}`);
      return 2;
    }
    throw error;
  }

  let model: SrModel;
  try {
    model = loadModel(settings.modelPath ?? defaultModelPath());
  } catch (error) {
    stderr.write(`uprez upscale: ${(error as Error).message}\n`);
    return 1;
  }
  mkdirSync(settings.outDir, { recursive: true });

  const started = performance.now();
  let engine: Engine;
  try {
    engine = await openEngine(model, { backend: settings.backend, tile: settings.tile });
  } catch (error) {
    stderr.write(`uprez upscale: cannot start the ${settings.backend} engine: ${(error as Error).message}\n` +
      (settings.backend === 'gpu' ? 'uprez upscale: --backend cpu runs without a GPU (slowly).\n' : ''));
    return 1;
  }
  const { macsPerInputPixel } = modelMetrics(model);
  stderr.write(`uprez upscale: model ${model.name} (${macsPerInputPixel} MACs per input pixel), ` +
    `${engine.description}, ready in ${milliseconds(started)}\n`);

  const progress = new ProgressBar(settings.files.length);
  const written = new Map<string, string>();
  let failures = 0;
  try {
    for (const [index, file] of settings.files.entries()) {
      progress.draw(index, basename(file));
      const outPath = join(settings.outDir, `${basename(file, extname(file))}.png`);
      try {
        const earlier = written.get(resolve(outPath));
        if (earlier !== undefined) {
          throw new Error(`${file}: its output ${outPath} was already written for ${earlier} in this batch; rename one of them`);
        }
        let t = performance.now();
        const image = await decodeImage(file, file, { maxPixels: settings.maxPixels, limitSetting: '--max-pixels N' });
        const decodeTime = milliseconds(t);
        const steps = stepsFor(image, settings);
        t = performance.now();
        const result = engine.upscaler.upscale(image, { steps, size: settings.size });
        const srTime = milliseconds(t);
        t = performance.now();
        await writePng(result, outPath);
        written.set(resolve(outPath), file);
        progress.clear();
        stdout.write(`${file}: ${image.width}x${image.height} -> ${result.width}x${result.height} ${outPath} ` +
          `(decode ${decodeTime}, x${2 ** steps}${settings.size ? ' + resample' : ''} ${srTime}, encode ${milliseconds(t)})\n`);
      } catch (error) {
        failures++;
        progress.clear();
        stderr.write(`uprez upscale: ${(error as Error).message}\n`);
      }
    }
  } finally {
    progress.clear();
    engine.close();
  }
  if (failures > 0) {
    stderr.write(`uprez upscale: ${failures} of ${settings.files.length} files failed\n`);
    return 1;
  }
  return 0;
}
