// Super-resolves a batch of image files into PNGs: decode each file (orientation, sRGB, the
// pixel limit), choose its SR steps, upscale it through one Upscaler (the caller opens and
// closes the engine, so one GL context serves the whole batch), write DIR/<name>.png.
// A file that fails is reported in its result and the batch goes on.
import { mkdirSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import type { RasterImage, Upscaler } from './model.js';
import { decodeImage } from '../decode/decode.js';
import { writePng } from '../decode/encode.js';

export interface UpscaleFilesSettings {
  /** SR steps for every file (x2 per step); when absent: 1, or with `size` the fewest that reach it. */
  steps?: 0 | 1 | 2;
  /** Resample to exactly this size after the SR steps. */
  size?: { width: number; height: number };
  /** Share of the network's work to spend, 0..1 (default 1: all of it); see ../sr/adaptive.ts. */
  effort?: number;
  /** Refuse inputs with more pixels than this, before decoding them. */
  maxPixels: number;
  /** How the user raises `maxPixels`, for the message (e.g. "--max-pixels N"). */
  maxPixelsSetting?: string;
  /** Output folder (created if missing). */
  outDir: string;
  files: string[];
}

/** What became of one file. Times are in milliseconds. */
export type FileResult =
  | {
      ok: true;
      file: string;
      outPath: string;
      input: { width: number; height: number };
      output: { width: number; height: number };
      steps: 0 | 1 | 2;
      /** Whether a resample to `size` followed the SR steps. */
      resampled: boolean;
      decodeMs: number;
      upscaleMs: number;
      encodeMs: number;
    }
  | {
      ok: false;
      file: string;
      outPath: string;
      /** What failed and why, starting with the file's name. */
      message: string;
    };

export type UpscaleFilesEvent =
  | { kind: 'start'; index: number; total: number; file: string }
  | { kind: 'done'; index: number; total: number; result: FileResult };

/** The SR steps for one image: `steps` when given, else the fewest that reach `size` (at most 2). */
export function stepsFor(image: { width: number; height: number }, settings: Pick<UpscaleFilesSettings, 'steps' | 'size'>): 0 | 1 | 2 {
  if (settings.steps !== undefined) return settings.steps;
  if (!settings.size) return 1;
  for (const steps of [0, 1] as const) {
    const factor = 2 ** steps;
    if (image.width * factor >= settings.size.width && image.height * factor >= settings.size.height) return steps;
  }
  return 2;
}

/** Where a file's result goes: DIR/<name without extension>.png. */
export function outputPathFor(file: string, outDir: string): string {
  return join(outDir, `${basename(file, extname(file))}.png`);
}

/**
 * Upscales `settings.files` one after the other; `onProgress` hears when each starts and how
 * it ended. Never throws for a bad file: its result says what went wrong. Two inputs that
 * would write the same output (a.jpg and a.png) fail the second one rather than overwrite.
 */
export async function upscaleFiles(
  upscaler: Upscaler,
  settings: UpscaleFilesSettings,
  onProgress: (event: UpscaleFilesEvent) => void = () => {},
): Promise<FileResult[]> {
  mkdirSync(settings.outDir, { recursive: true });
  const total = settings.files.length;
  const written = new Map<string, string>();
  const results: FileResult[] = [];
  for (const [index, file] of settings.files.entries()) {
    onProgress({ kind: 'start', index, total, file });
    const outPath = outputPathFor(file, settings.outDir);
    let result: FileResult;
    try {
      const earlier = written.get(resolve(outPath));
      if (earlier !== undefined) {
        throw new Error(`${file}: its output ${outPath} was already written for ${earlier} in this batch; rename one of them`);
      }
      let t = performance.now();
      const image: RasterImage = await decodeImage(file, file, { maxPixels: settings.maxPixels, limitSetting: settings.maxPixelsSetting });
      const decodeMs = performance.now() - t;
      const steps = stepsFor(image, settings);
      t = performance.now();
      const upscaled = upscaler.upscale(image, { steps, size: settings.size, effort: settings.effort });
      const upscaleMs = performance.now() - t;
      t = performance.now();
      await writePng(upscaled, outPath);
      const encodeMs = performance.now() - t;
      written.set(resolve(outPath), file);
      result = {
        ok: true,
        file,
        outPath,
        input: { width: image.width, height: image.height },
        output: { width: upscaled.width, height: upscaled.height },
        steps,
        resampled: settings.size !== undefined,
        decodeMs,
        upscaleMs,
        encodeMs,
      };
    } catch (error) {
      result = { ok: false, file, outPath, message: error instanceof Error ? error.message : String(error) };
    }
    results.push(result);
    onProgress({ kind: 'done', index, total, result });
  }
  return results;
}
