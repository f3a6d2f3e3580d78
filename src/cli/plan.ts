// `uprez plan`: what `uprez run` would do with each image file, without a screen or a GPU: the
// size after EXIF orientation, the canvas, the crop, the CPU shrink, the target rectangle and
// the number of x2 SR steps, with the one-line reason (src/plan/placement.ts decides all of it).
// Only each file's header is read (sharp metadata), so this is quick even for large photos.
// The options have the same defaults as `uprez run` (config/default.json, UPREZ_CONFIG, UPREZ_*
// variables, --config FILE): the configuration is loaded by src/service/config.ts.
import { stderr, stdout } from 'node:process';
import sharp, { type Metadata } from 'sharp';
import { planPlacement, rectText, type Placement, type Size } from '../plan/placement.js';
import { ConfigError, loadConfig, type DaemonConfig } from '../service/config.js';
import { loadModel } from '../sr/load-model.js';
import { parseCommandArgs } from './args.js';

const USAGE = `usage: uprez plan FILE... [--size WxH] [--fit contain|cover|fill] [--rotate 0|90|180|270]
                  [--model NAME|FILE|none] [--config FILE] [--json]

Prints, for each image file, what uprez run would do with it: its size after EXIF
orientation, the canvas, the crop, the CPU shrink, the target rectangle on the canvas,
the number of x2 super-resolution steps (0, 1 or 2), and why. Only the file's header is
read; nothing is decoded, and no screen or GPU is needed.

options (the defaults are uprez run's: config/default.json, a config file from --config or
UPREZ_CONFIG, UPREZ_* variables):
  --size WxH        the screen size (default: the configured mode, else the headless size
                    "size", 1920x1080; on a real screen uprez run uses the display mode's
                    size, which uprez info lists)
  --fit MODE        contain (whole picture, bars), cover (fills, crops), fill (stretches)
  --rotate DEG      the picture turned clockwise on the panel: 0, 90, 180 or 270
  --model M         a shipped model's name, a model file, or none (no SR steps)
  --config FILE     read the options from this config file, as uprez run --config does
  --json            a JSON array, one object per file
  -h, --help        this text

exit status: 0 when every file was planned, 1 when a file could not be read, 2 on bad options.
`;

interface Screen {
  size: Size;
  /** Where the size comes from, for the text output. */
  from: string;
}

interface Planned {
  file: string;
  /** The upright size (EXIF orientation applied), what placement works on. */
  width: number;
  height: number;
  /** The size as stored in the file, before the EXIF orientation. */
  stored: Size;
  orientation: number;
  format: string;
  placement: Placement;
}

interface Failed {
  file: string;
  error: string;
}

/** libvips messages span lines and may end in a dangling colon; make them one clean line. */
function oneLine(error: unknown): string {
  const lines = String(error instanceof Error ? error.message : error).split('\n').map((l) => l.trim()).filter(Boolean);
  return [...new Set(lines)].join('; ').replace(/:$/, '');
}

function parseSize(text: string): Size {
  const [width, height] = text.split('x').map((part) => Number.parseInt(part, 10));
  return { width: width!, height: height! };
}

function screenOf(config: DaemonConfig, sizeGiven: boolean): Screen {
  if (sizeGiven) return { size: config.size, from: '--size' };
  if (config.mode !== null) return { size: parseSize(config.mode), from: `the configured mode ${config.mode}` };
  return {
    size: config.size,
    from: "the headless size; on a real screen uprez run uses the display mode's size, which uprez info lists: pass --size WxH",
  };
}

/** Whether the model would give SR steps: `none` never does; one that fails to load neither (run then resamples). */
function modelOf(config: DaemonConfig): { name: string; srAvailable: boolean; problem: string | null } {
  if (config.model.kind === 'none') return { name: 'none', srAvailable: false, problem: null };
  try {
    loadModel(config.model.path);
    return { name: config.model.name, srAvailable: true, problem: null };
  } catch (error) {
    return { name: config.model.name, srAvailable: false, problem: `${oneLine(error)}; uprez run would resample only` };
  }
}

async function planFile(file: string, screen: Size, config: DaemonConfig, srAvailable: boolean): Promise<Planned | Failed> {
  let metadata: Metadata;
  try {
    metadata = await sharp(file, { limitInputPixels: false }).metadata();
  } catch (error) {
    return { file, error: `not a readable image (${oneLine(error)})` };
  }
  const { width, height } = metadata;
  if (!width || !height) return { file, error: `the image has no size (${metadata.format ?? 'unknown format'})` };
  if (width * height > config.maxPixels) {
    return {
      file,
      error:
        `${width}x${height} is ${(width * height).toLocaleString('en-US')} pixels, over the limit of ` +
        `${config.maxPixels.toLocaleString('en-US')} pixels: uprez run would refuse it (raise maxPixels if you trust its source)`,
    };
  }
  // EXIF orientations 5 to 8 turn the picture a quarter: the upright size is the stored one swapped.
  const orientation = metadata.orientation ?? 1;
  const upright = orientation >= 5 && orientation <= 8 ? { width: height, height: width } : { width, height };
  const placement = planPlacement(upright, screen, { fit: config.fit, rotate: config.rotate, srAvailable });
  return { file, ...upright, stored: { width, height }, orientation, format: metadata.format ?? 'unknown', placement };
}

function fileText(planned: Planned): string {
  const { placement: p } = planned;
  const turned = planned.orientation >= 5 && planned.orientation <= 8;
  const whole = p.crop.width === planned.width && p.crop.height === planned.height;
  const lines = [
    planned.file,
    `  image   ${planned.width}x${planned.height} ${planned.format}` +
      (turned ? ` (stored ${planned.stored.width}x${planned.stored.height}, EXIF orientation ${planned.orientation})` : ''),
    `  canvas  ${p.canvas.width}x${p.canvas.height}`,
    `  crop    ${whole ? 'none (the whole image)' : rectText(p.crop)}`,
    `  shrink  ${p.cpuDownscale ? `on the CPU to ${p.cpuDownscale.width}x${p.cpuDownscale.height}` : 'none'}`,
    `  target  ${rectText(p.target)} (${p.growth < 1 ? 'shrinks to' : 'grows'} ${p.growth.toFixed(2)}x)`,
    `  SR      ${p.srSteps === 0 ? 'none' : `${p.srSteps === 1 ? '1 x2 step' : '2 x2 steps (x4)'}, then one resample to ${p.target.width}x${p.target.height}`}`,
    `  reason  ${p.reason}`,
  ];
  return lines.join('\n');
}

export async function main(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(args);
  } catch (error) {
    stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  const { values, positionals: files } = parsed;
  if (values.help) {
    stdout.write(USAGE);
    return 0;
  }
  if (files.length === 0) {
    stderr.write(`uprez plan: no image files given\n\n${USAGE}`);
    return 2;
  }

  // The same options, defaults and checks as uprez run: its configuration loader does it all.
  const configArgs: string[] = [];
  for (const key of ['size', 'fit', 'rotate', 'model', 'config'] as const) {
    const value = values[key];
    if (value !== undefined) configArgs.push(`--${key}=${value}`);
  }
  let config: DaemonConfig;
  try {
    config = loadConfig(configArgs).config;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    stderr.write(`${error.problems.map((problem) => `uprez plan: ${problem}`).join('\n')}\n(see uprez plan --help)\n`);
    return 2;
  }

  const screen = screenOf(config, values.size !== undefined);
  const model = modelOf(config);
  const results: (Planned | Failed)[] = [];
  for (const file of files) {
    const result = await planFile(file, screen.size, config, model.srAvailable);
    if ('error' in result) stderr.write(`uprez plan: ${file}: ${result.error}\n`);
    results.push(result);
  }

  if (values.json) {
    const settings = { screen: screen.size, fit: config.fit, rotate: config.rotate, model: model.name, srAvailable: model.srAvailable, modelProblem: model.problem };
    const entries = results.map((result) => ('error' in result ? result : { ...result, ...settings }));
    stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
  } else {
    const header = [
      `screen ${screen.size.width}x${screen.size.height} (${screen.from})`,
      `fit ${config.fit}, rotate ${config.rotate}, model ${model.name}` +
        (model.problem ? ` (cannot be loaded: ${model.problem})` : model.srAvailable ? '' : ' (no SR steps)'),
    ];
    const planned = results.filter((result): result is Planned => !('error' in result)).map(fileText);
    stdout.write(`${[header.join('\n'), ...planned].join('\n\n')}\n`);
  }
  return results.some((result) => 'error' in result) ? 1 : 0;
}

function parseOptions(args: string[]) {
  return parseCommandArgs('plan', args, {
    size: { type: 'string' },
    fit: { type: 'string' },
    rotate: { type: 'string' },
    model: { type: 'string' },
    config: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
}
