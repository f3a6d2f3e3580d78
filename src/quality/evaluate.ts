// How much a model gains over bicubic upscaling on a folder of photos, measured through an
// engine's Upscaler (what the screen shows), under the evaluation protocols of
// models/README.md (protocols.ts): a row per photo and degraded case, and the means per protocol.
import { readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { decodeImage } from '../decode/decode.js';
import type { Upscaler } from '../sr/model.js';
import { pillowBicubicResize } from './pillow-resize.js';
import { degradedCases, evenCropRgb, yPsnr, type Protocol } from './protocols.js';

/** Border pixels shaved before the Y-PSNR (the scale, 2). */
export const EVAL_SHAVE = 2;

export interface EvalRow {
  image: string;
  protocol: Protocol;
  case: string;
  /** Y-PSNR in dB of the model's x2 against the photo. */
  model: number;
  /** Y-PSNR in dB of bicubic x2 (Pillow's, as the academic protocol's reference) against the photo. */
  bicubic: number;
}

export interface EvalMean {
  protocol: Protocol;
  cases: number;
  model: number;
  bicubic: number;
  gain: number;
}

export interface EvalResult {
  shave: number;
  rows: EvalRow[];
  /** One per protocol asked for, in that order (NaN means where a protocol has no rows). */
  means: EvalMean[];
  /** Files that could not be decoded plus cases that failed. */
  failures: number;
}

export type EvalEvent =
  | { kind: 'row'; row: EvalRow }
  | { kind: 'skipped'; file: string; message: string }
  | { kind: 'failed'; file: string; case: string; message: string };

/** The files (not folders) in `dir`, sorted by name: the photos `evaluateFolder` will try. */
export function listPhotos(dir: string): string[] {
  return readdirSync(dir).filter((name) => statSync(join(dir, name)).isFile()).sort();
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * For every file of `files` in `dir`: crops the photo to even size, makes the low-resolution
 * case(s) of each protocol, upscales them x2 with `upscaler` and with bicubic, and measures
 * both against the photo. A file that is not an image, or a case that fails, is counted and
 * reported through `onEvent`, and the evaluation goes on.
 */
export async function evaluateFolder(
  upscaler: Upscaler,
  dir: string,
  files: string[],
  protocols: Protocol[],
  onEvent: (event: EvalEvent) => void = () => {},
): Promise<EvalResult> {
  const rows: EvalRow[] = [];
  let failures = 0;
  for (const file of files) {
    const name = basename(file, extname(file));
    let hr;
    try {
      hr = evenCropRgb(await decodeImage(join(dir, file), file));
    } catch (error) {
      onEvent({ kind: 'skipped', file, message: messageOf(error) });
      failures++;
      continue;
    }
    for (const protocol of protocols) {
      for (const { label, lr } of await degradedCases(name, hr, protocol)) {
        try {
          const upscaled = upscaler.upscale(lr, { steps: 1 });
          const bicubic = pillowBicubicResize(lr, hr.width, hr.height);
          const row: EvalRow = { image: name, protocol, case: label, model: yPsnr(upscaled, hr, EVAL_SHAVE), bicubic: yPsnr(bicubic, hr, EVAL_SHAVE) };
          rows.push(row);
          onEvent({ kind: 'row', row });
        } catch (error) {
          onEvent({ kind: 'failed', file, case: label, message: messageOf(error) });
          failures++;
        }
      }
    }
  }

  const means = protocols.map((protocol): EvalMean => {
    const of = rows.filter((row) => row.protocol === protocol);
    const model = mean(of.map((row) => row.model));
    const bicubic = mean(of.map((row) => row.bicubic));
    return { protocol, cases: of.length, model, bicubic, gain: model - bicubic };
  });
  return { shave: EVAL_SHAVE, rows, means, failures };
}
