// `uprez upscale`: super-resolves image files with the SR engine and writes PNGs.
// One engine (one GL context, one set of compiled programs) serves the whole batch
// (src/sr/upscale-files.ts); a file that fails is reported and the batch goes on; the exit
// code says whether all succeeded. This file parses the arguments and prints.
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { stderr, stdout } from 'node:process';
import type { SrModel } from '../sr/model.js';
import { defaultModelPath, loadModel, modelMetrics } from '../sr/load-model.js';
import { openEngine, type Engine } from '../sr/open-engine.js';
import { upscaleFiles, type FileResult, type UpscaleFilesSettings } from '../sr/upscale-files.js';
import { DEFAULT_MAX_INPUT_PIXELS } from '../decode/decode.js';

const USAGE = `usage: uprez upscale [options] --out DIR FILE...

Super-resolves each FILE (any format sharp reads: JPEG, PNG, WebP, AVIF, TIFF, GIF, ...)
and writes DIR/<name>.png.

options:
  --model FILE      model file (uprez-sr/1 JSON); default: models/uprez-x2.json
  --scale 2|4       one x2 SR step or two (default 2; with --size alone: the fewest steps
                    that reach the size)
  --size WxH        resample to exactly W x H after the SR steps
  --backend gpu|cpu gpu: GLES2 shaders (default); cpu: the TypeScript reference (slow)
  --effort E        0..1 (default 1): the share of the network's work to spend. 1 runs it
                    on every pixel; lower runs it only where the picture has detail (edges,
                    texture) and bicubic elsewhere: faster, a little less sharp
  --tile N          largest tile side on the GPU (default: the GPU's limit)
  --max-pixels N    refuse inputs with more pixels than this (default ${DEFAULT_MAX_INPUT_PIXELS})
  --out DIR         output folder (created if missing)
`;

class UsageError extends Error {}

interface Settings extends UpscaleFilesSettings {
  modelPath?: string;
  backend: 'gpu' | 'cpu';
  tile?: number;
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
      effort: { type: 'string' },
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
  let effort: number | undefined;
  if (values.effort !== undefined) {
    effort = Number(values.effort);
    if (values.effort.trim() === '' || !(effort >= 0 && effort <= 1)) {
      throw new UsageError(`--effort expects a number from 0 to 1, got '${values.effort}'`);
    }
  }
  return {
    modelPath: values.model,
    steps,
    size,
    effort,
    backend: values.backend,
    tile: values.tile === undefined ? undefined : positiveInteger(values.tile, '--tile'),
    maxPixels: values['max-pixels'] === undefined ? DEFAULT_MAX_INPUT_PIXELS : positiveInteger(values['max-pixels'], '--max-pixels'),
    maxPixelsSetting: '--max-pixels N',
    outDir: values.out,
    files: positionals,
  };
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

function milliseconds(duration: number): string {
  return `${Math.round(duration)} ms`;
}

/** The line for a file that was written, or for one that failed (to stderr). */
function report(result: FileResult): void {
  if (result.ok) {
    const { file, input, output, outPath, steps } = result;
    stdout.write(`${file}: ${input.width}x${input.height} -> ${output.width}x${output.height} ${outPath} ` +
      `(decode ${milliseconds(result.decodeMs)}, x${2 ** steps}${result.resampled ? ' + resample' : ''} ` +
      `${milliseconds(result.upscaleMs)}, encode ${milliseconds(result.encodeMs)})\n`);
  } else {
    stderr.write(`uprez upscale: ${result.message}\n`);
  }
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
    `${engine.description}, ready in ${milliseconds(performance.now() - started)}\n`);

  const progress = new ProgressBar(settings.files.length);
  let results: FileResult[];
  try {
    results = await upscaleFiles(engine.upscaler, settings, (event) => {
      if (event.kind === 'start') {
        progress.draw(event.index, basename(event.file));
      } else {
        progress.clear();
        report(event.result);
      }
    });
  } finally {
    progress.clear();
    engine.close();
  }
  const failures = results.filter((result) => !result.ok).length;
  if (failures > 0) {
    stderr.write(`uprez upscale: ${failures} of ${settings.files.length} files failed\n`);
    return 1;
  }
  return 0;
}
