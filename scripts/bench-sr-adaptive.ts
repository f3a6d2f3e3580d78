// The adaptive-compute rows of `npm run bench:sr` (src/sr/adaptive.ts, issue 19): for each effort,
// ms per 1920x1080 -> 3840x2160 x2 step and the speed-up over effort 1 (the full engine), the share
// of heavy pixels, and the Y-PSNR lost against the full model: on Set5 + Set14 with the bicubic
// protocol (models/training/data/bench/, fetched by models/training/fetch_data.py; the sample
// photos in config/ when they are absent) and on a text picture rendered from SVG.
// Timed runs alternate between efforts, so a change in the machine's load hits all of them alike.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { GL } from 'node-drm-gbm-egl';
import { createGpuUpscaler, type GpuUpscalerOptions } from '../src/sr/gpu/gpu-engine.js';
import { adaptivePlan, heavyShare } from '../src/sr/adaptive.js';
import type { RasterImage, SrModel } from '../src/sr/model.js';
import { decodeImage } from '../src/decode/decode.js';
import { evenCropRgb, yPsnr } from '../src/quality/protocols.js';
import { pillowBicubicResize } from '../src/quality/pillow-resize.js';
import { EVAL_SHAVE } from '../src/quality/evaluate.js';
import { modelsDir, repoRoot } from '../src/service/paths.js';

export const BENCH_EFFORTS = [1, 0.8, 0.7, 0.65, 0.6, 0.5, 0.4, 0.2];
const [WIDTH, HEIGHT] = [1920, 1080];
const samplePhotos = join(repoRoot, 'config', 'sample-photos');

/** 1920x1080 of photos at their own resolution: the sample photos side by side, row after row. */
async function photoMosaic(): Promise<RasterImage> {
  const photos = await Promise.all(readdirSync(samplePhotos).filter((f) => f.endsWith('.jpg')).sort()
    .map((f) => decodeImage(join(samplePhotos, f), f)));
  const data = new Uint8Array(WIDTH * HEIGHT * 3);
  let index = 0;
  for (let top = 0; top < HEIGHT; top += 300) {
    for (let left = 0; left < WIDTH; left += 450) {
      const photo = photos[index++ % photos.length]!;
      for (let y = 0; y < 300 && top + y < HEIGHT; y++) {
        for (let x = 0; x < 450 && left + x < WIDTH; x++) {
          for (let c = 0; c < 3; c++) data[((top + y) * WIDTH + left + x) * 3 + c] = photo.data[(y * photo.width + x) * photo.channels + c]!;
        }
      }
    }
  }
  return { width: WIDTH, height: HEIGHT, channels: 3, data };
}

/** A screenshot-like picture at 3840x2160: text of several sizes, a title bar, a table, on flat colours. */
async function textPicture(): Promise<RasterImage> {
  const [w, h] = [WIDTH * 2, HEIGHT * 2];
  const lines: string[] = [];
  const words = 'The quick brown fox jumps over the lazy dog 0123456789 uprez super-resolution on GLES2 shaders';
  let y = 200;
  for (const size of [28, 34, 40, 48, 56, 72, 96]) {
    lines.push(`<text x="80" y="${y}" font-family="DejaVu Sans" font-size="${size}" fill="#202020">${words}</text>`);
    y += size * 1.6;
  }
  for (let row = 0; row < 12; row++) {
    for (let col = 0; col < 5; col++) {
      lines.push(`<text x="${2000 + col * 360}" y="${y + row * 60}" font-family="DejaVu Sans Mono" font-size="36" fill="#1a3060">${(row * 37 + col * 11) % 997}.${row}${col}</text>`);
    }
    lines.push(`<line x1="1980" x2="3780" y1="${y + row * 60 + 16}" y2="${y + row * 60 + 16}" stroke="#b0b0b0" stroke-width="2"/>`);
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">
    <rect width="${w}" height="${h}" fill="#f4f4f0"/><rect width="${w}" height="110" fill="#2d4f7c"/>
    <text x="60" y="78" font-family="DejaVu Sans" font-size="54" fill="#ffffff">uprez — status</text>
    <rect x="80" y="${y - 40}" width="1700" height="760" rx="24" fill="#ffffff" stroke="#c8c8c8" stroke-width="3"/>
    ${Array.from({ length: 14 }, (_, i) => `<text x="120" y="${y + 20 + i * 52}" font-family="DejaVu Sans" font-size="32" fill="#333">line ${i + 1}: ${words.slice(0, 40 + (i * 7) % 50)}</text>`).join('')}
    ${lines.join('\n')}</svg>`;
  const { data, info } = await sharp(Buffer.from(svg)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: 3, data: new Uint8Array(data) };
}

/** HR photos of the validation sets (even-cropped), and what they are. */
async function validationPhotos(): Promise<{ label: string; photos: RasterImage[] }> {
  const sets = ['set5', 'set14'].map((s) => join(modelsDir, 'training', 'data', 'bench', s));
  const dirs = sets.every((d) => existsSync(d)) ? sets : [samplePhotos];
  const label = dirs === sets ? 'Set5 + Set14' : 'the sample photos (config/sample-photos; no Set5/Set14: models/training/fetch_data.py gets them)';
  const photos: RasterImage[] = [];
  for (const dir of dirs) {
    for (const file of readdirSync(dir).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort()) {
      photos.push(evenCropRgb(await decodeImage(join(dir, file), file)));
    }
  }
  return { label, photos };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

export async function benchAdaptive(gl: GL, model: SrModel, runs: number, engineOptions: GpuUpscalerOptions): Promise<void> {
  const efforts = BENCH_EFFORTS;
  const timed = createGpuUpscaler(gl, model, { ...engineOptions, cacheDir: null });
  const probe = createGpuUpscaler(gl, model, { ...engineOptions, cacheDir: null, keepMasks: true });
  const firstReach = adaptivePlan(model).layerReach[0]!;
  /** Shares of heavy pixels, and of pixels the first layer runs on (within its reach of a heavy one). */
  const heavyAt = (image: RasterImage, effort: number): { heavy: number; run: number } => {
    if (effort === 1) return { heavy: 1, run: 1 };
    probe.upscale(image, { steps: 1, effort });
    const mask = probe.lastMasks()[0]!;
    return { heavy: heavyShare(mask), run: mask.distance.filter((d) => d <= firstReach).length / mask.distance.length };
  };

  const textHr = await textPicture();
  const pictures = [
    { label: 'photos', lr: await photoMosaic(), hr: null as RasterImage | null },
    { label: 'text', lr: pillowBicubicResize(textHr, WIDTH, HEIGHT), hr: textHr },
  ];
  const rows = pictures.map(({ label, lr, hr }) => {
    for (const effort of efforts) timed.upscale(lr, { steps: 1, effort }); // warm-up: llvmpipe compiles at first draw
    const times = new Map<number, number[]>(efforts.map((e) => [e, []]));
    const cpuTimes = new Map<number, number[]>(efforts.map((e) => [e, []]));
    for (let run = 0; run < runs; run++) {
      for (const effort of efforts) {
        const startedCpu = process.cpuUsage();
        const started = performance.now();
        timed.upscale(lr, { steps: 1, effort });
        times.get(effort)!.push(performance.now() - started);
        const used = process.cpuUsage(startedCpu);
        cpuTimes.get(effort)!.push((used.user + used.system) / 1000);
      }
    }
    const full = hr ? yPsnr(timed.upscale(lr, { steps: 1 }), hr, EVAL_SHAVE) : 0;
    return {
      label,
      cells: efforts.map((effort) => ({
        ms: median(times.get(effort)!),
        cpuMs: median(cpuTimes.get(effort)!),
        ...heavyAt(lr, effort),
        lost: hr ? full - yPsnr(timed.upscale(lr, { steps: 1, effort }), hr, EVAL_SHAVE) : null,
      })),
    };
  });

  const validation = await validationPhotos();
  const lrs = validation.photos.map((hr) => pillowBicubicResize(hr, hr.width / 2, hr.height / 2));
  const psnrAt = (effort: number): number => mean(validation.photos.map((hr, i) => yPsnr(timed.upscale(lrs[i]!, { steps: 1, effort }), hr, EVAL_SHAVE)));
  const fullPsnr = psnrAt(1);
  const quality = efforts.map((effort) => ({
    lost: fullPsnr - psnrAt(effort),
    heavy: mean(lrs.map((lr) => heavyAt(lr, effort).heavy)),
  }));
  timed.close();
  probe.close();

  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`.padStart(6);
  const db = (x: number): string => `${x.toFixed(3)}`.padStart(6);
  console.log(`\nadaptive compute (--effort; 1 = the full engine), x2 of ${WIDTH}x${HEIGHT} -> ${WIDTH * 2}x${HEIGHT * 2}, ` +
    `median of ${runs} runs (efforts alternate); speed-up from CPU time (this process, llvmpipe's threads ` +
    'included), which other processes\' load moves far less than wall-clock time:');
  console.log(`  photos: the sample photos at their own size, tiled to ${WIDTH}x${HEIGHT}; text: a screenshot-like picture rendered ` +
    `at ${WIDTH * 2}x${HEIGHT * 2} from SVG, bicubic-downscaled; dB lost: mean Y-PSNR (bicubic protocol) against effort 1 on ` +
    `${validation.label} (${validation.photos.length} photos, full model ${fullPsnr.toFixed(3)} dB), and on the text picture`);
  console.log('  (heavy: share of heavy pixels; run: share within the first layer\'s reach of one, where the network runs)');
  console.log('  effort | photos: wall ms  CPU ms  speed-up  heavy    run | text: wall ms  CPU ms  speed-up  heavy    run  dB lost | validation: dB lost  heavy');
  const speedUp = (row: (typeof rows)[number], i: number): number => row.cells[0]!.cpuMs / row.cells[i]!.cpuMs;
  efforts.forEach((effort, i) => {
    const [photo, text] = [rows[0]!.cells[i]!, rows[1]!.cells[i]!];
    console.log(`  ${String(effort).padStart(6)} | ${photo.ms.toFixed(0).padStart(15)} ${photo.cpuMs.toFixed(0).padStart(7)} ` +
      `${speedUp(rows[0]!, i).toFixed(2).padStart(8)}x ${pct(photo.heavy)} ${pct(photo.run)} |` +
      ` ${text.ms.toFixed(0).padStart(13)} ${text.cpuMs.toFixed(0).padStart(7)} ${speedUp(rows[1]!, i).toFixed(2).padStart(8)}x ${pct(text.heavy)} ${pct(text.run)} ${db(text.lost!)}  |` +
      ` ${db(quality[i]!.lost).padStart(19)} ${pct(quality[i]!.heavy)}`);
  });
  const target = efforts.map((effort, i) => ({ effort, i })).filter(({ i }) => quality[i]!.lost <= 0.05).at(-1)!;
  console.log(`  lowest effort listed losing <= 0.05 dB on ${validation.label}: ${target.effort}; there the photos take ` +
    `${speedUp(rows[0]!, target.i).toFixed(2)}x less CPU time (${(rows[0]!.cells[0]!.ms / rows[0]!.cells[target.i]!.ms).toFixed(2)}x wall) than at effort 1`);
}
