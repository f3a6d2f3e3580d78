// `uprez upscale` end to end: the real bin/uprez in a child process, real sharp files in and out.
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import type { RasterImage } from '../../src/sr/model.js';
import { repoRoot } from '../../src/service/paths.js';
import { createCpuUpscaler } from '../../src/sr/cpu/cpu-reference.js';
import { DEFAULT_MODEL_FILE } from '../../src/sr/load-model.js';
import { randomImage, randomModel, writeModelFile } from '../sr/helpers/random-model.js';

const uprez = join(repoRoot, 'bin', 'uprez');
const model = randomModel({ seed: 42, layers: [{ out: 8, kernel: 3 }, { out: 4, kernel: 1 }], residual: 'bicubic' });
const modelPath = writeModelFile(model);
const dir = mkdtempSync(join(tmpdir(), 'uprez-upscale-'));
// The GPU engine's program-binary cache goes here, not into the user's ~/.cache.
const cacheHome = join(dir, 'cache');

interface Run { code: number; stdout: string; stderr: string }

/** The exit-code assertion's message carries stderr when the code is not the expected one. */
function exitMessage(result: Run, expected: number): string {
  return result.code === expected ? `exit code ${expected}` : `exit code ${expected}, got ${result.code}: ${result.stderr}`;
}

function run(args: string[]): Promise<Run> {
  return new Promise((done) => {
    const env = { ...process.env, XDG_CACHE_HOME: cacheHome };
    execFile(process.execPath, [uprez, 'upscale', ...args], { cwd: dir, env }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

function sharpOf(image: RasterImage): Sharp {
  const { width, height, channels, data } = image;
  return sharp(Buffer.from(data), { raw: { width, height, channels } });
}

async function readRaw(path: string): Promise<RasterImage> {
  const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: info.channels as 3 | 4, data: new Uint8Array(data) };
}

const photo = randomImage(1, 24, 16, 3);
const png = join(dir, 'photo.png');
const jpeg = join(dir, 'rotated.jpg');
const webp = join(dir, 'transparent.webp');
const corrupt = join(dir, 'corrupt.png');
const truncated = join(dir, 'truncated.jpg');
const inputs = (async () => {
  await sharpOf(photo).png().toFile(png);
  // Stored 24x16 landscape, EXIF orientation 6 (rotate 90 degrees clockwise to view): 16x24 upright.
  await sharpOf(photo).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toFile(jpeg);
  await sharpOf(randomImage(2, 20, 14, 4)).webp({ lossless: true }).toFile(webp);
  // A PNG signature followed by garbage: looks like a PNG, decodes as nothing.
  writeFileSync(corrupt, Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 7)]));
  // A JPEG whose header is fine but whose data stops half way.
  const whole = await sharpOf(photo).jpeg().toBuffer();
  writeFileSync(truncated, whole.subarray(0, whole.length >> 1));
})();

for (const backend of ['gpu', 'cpu'] as const) {
  t.test(`${backend}: PNG, EXIF-rotated JPEG and WebP with alpha in one batch`, async (t) => {
    await inputs;
    const out = join(dir, `out-${backend}`);
    const result = await run(['--model', modelPath, '--backend', backend, '--out', out, png, jpeg, webp]);
    t.equal(result.code, 0, exitMessage(result, 0));
    t.match(result.stdout, /photo\.png: 24x16 -> 48x32 .*photo\.png \(decode \d+ ms, x2 \d+ ms, encode \d+ ms\)/);
    t.equal(result.stdout.trim().split('\n').length, 3, 'one line of timing per image');

    const up = await readRaw(join(out, 'photo.png'));
    t.same([up.width, up.height, up.channels], [48, 32, 3]);
    // Lossless in, lossless out: the file holds exactly what the CPU reference computes.
    const expected = createCpuUpscaler(model).upscale(photo, { steps: 1 });
    let worst = 0;
    up.data.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - expected.data[i]!)); });
    // The GPU runs float32 and may land one level off where the reference sits on a rounding edge.
    t.ok(worst <= (backend === 'cpu' ? 0 : 1), `pixels equal the CPU reference (worst difference ${worst})`);
    if (backend === 'gpu') t.match(result.stderr, /gpu \(.+, \d+ programs/, 'says which GL renderer and programs it used');

    const rotated = await sharp(join(out, 'rotated.png')).metadata();
    t.same([rotated.width, rotated.height], [32, 48], 'EXIF orientation 6 applied: 16x24 upright, doubled');
    const transparent = await readRaw(join(out, 'transparent.png'));
    t.same([transparent.width, transparent.height, transparent.channels], [40, 28, 4], 'alpha kept');
    t.ok(transparent.data.some((v, i) => i % 4 === 3 && v < 255), 'alpha is not just opaque');
  });

  t.test(`${backend}: --size and --scale 4`, async (t) => {
    await inputs;
    const out = join(dir, `sized-${backend}`);
    const sized = await run(['--model', modelPath, '--backend', backend, '--size', '50x30', '--out', out, png]);
    t.equal(sized.code, 0, exitMessage(sized, 0));
    const meta = await sharp(join(out, 'photo.png')).metadata();
    t.same([meta.width, meta.height], [50, 30], 'exactly --size (needs x4: 48x32 is not enough)');
    t.match(sized.stdout, /-> 50x30 .*x4 \+ resample/);

    const x4 = await run(['--model', modelPath, '--backend', backend, '--scale', '4', '--out', join(out, 'x4'), webp]);
    t.equal(x4.code, 0, exitMessage(x4, 0));
    const meta4 = await sharp(join(out, 'x4', 'transparent.png')).metadata();
    t.same([meta4.width, meta4.height, meta4.channels], [80, 56, 4]);
  });
}

t.test('grey PNG and CMYK JPEG come out as sRGB', async (t) => {
  await inputs;
  const grey = join(dir, 'grey.png');
  const cmyk = join(dir, 'cmyk.jpg');
  await sharp({ create: { width: 12, height: 8, channels: 3, background: { r: 90, g: 90, b: 90 } } }).toColourspace('b-w').png().toFile(grey);
  await sharp({ create: { width: 12, height: 8, channels: 3, background: { r: 200, g: 30, b: 60 } } }).toColourspace('cmyk').jpeg().toFile(cmyk);
  t.equal((await sharp(cmyk).metadata()).space, 'cmyk', 'the input really is CMYK');
  const out = join(dir, 'colourspaces');
  const result = await run(['--model', modelPath, '--backend', 'cpu', '--out', out, grey, cmyk]);
  t.equal(result.code, 0, exitMessage(result, 0));
  const g = await readRaw(join(out, 'grey.png'));
  t.same([g.width, g.height, g.channels], [24, 16, 3]);
  t.ok(g.data.every((v, i) => v === g.data[i - (i % 3)]), 'grey stays grey');
  const c = await readRaw(join(out, 'cmyk.png'));
  t.same([c.width, c.height, c.channels], [24, 16, 3]);
  // What sharp makes of the CMYK file in sRGB, upscaled by the reference, is what the file holds.
  const { data, info } = await sharp(cmyk).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  t.equal(info.channels, 3);
  const expected = createCpuUpscaler(model).upscale({ width: 12, height: 8, channels: 3, data: new Uint8Array(data) }, { steps: 1 });
  t.ok(Buffer.from(c.data).equals(Buffer.from(expected.data)), 'converted to sRGB before the network');
  t.ok(c.data[0]! > c.data[1]! + 60 && c.data[0]! > c.data[2]! + 60, `red stays red (${c.data.subarray(0, 3).join(',')})`);
});

t.test('corrupt files are reported and the batch goes on', async (t) => {
  await inputs;
  const out = join(dir, 'with-corrupt');
  const result = await run(['--model', modelPath, '--backend', 'cpu', '--out', out, corrupt, truncated, png]);
  t.equal(result.code, 1, 'non-zero exit at the end');
  t.match(result.stderr, /corrupt\.png: not a readable image \(.+\)/, 'names the file and what is wrong');
  t.match(result.stderr, /truncated\.jpg: (not a readable image|cannot decode the jpeg image) \(.*premature end of JPEG/, 'a truncated JPEG too');
  t.match(result.stderr, /2 of 3 files failed/);
  t.ok(existsSync(join(out, 'photo.png')), 'the good file after it was still written');
  t.notOk(existsSync(join(out, 'corrupt.png')), 'nothing written for the corrupt one');
});

t.test('gpu: --tile 16 gives the same bytes as one tile', async (t) => {
  await inputs;
  const whole = await run(['--model', modelPath, '--out', join(dir, 'whole'), png]);
  const tiled = await run(['--model', modelPath, '--tile', '16', '--out', join(dir, 'tiled'), png]);
  t.equal(whole.code, 0, exitMessage(whole, 0));
  t.equal(tiled.code, 0, exitMessage(tiled, 0));
  const a = await readRaw(join(dir, 'whole', 'photo.png'));
  const b = await readRaw(join(dir, 'tiled', 'photo.png'));
  t.ok(Buffer.from(a.data).equals(Buffer.from(b.data)), 'byte for byte');
});

t.test('too many pixels is refused before decoding, with the way to raise the limit', async (t) => {
  await inputs;
  const result = await run(['--model', modelPath, '--backend', 'cpu', '--max-pixels', '100', '--out', join(dir, 'bomb'), png]);
  t.equal(result.code, 1);
  t.match(result.stderr, /photo\.png: 24x16 is 384 pixels, over the limit of 100 pixels \(a guard against decompression bombs\).*--max-pixels/);
});

t.test('usage errors and a missing model', async (t) => {
  const noOut = await run(['--model', modelPath, png]);
  t.equal(noOut.code, 2);
  t.match(noOut.stderr, /--out DIR is required[\s\S]*usage: uprez upscale/);
  const badScale = await run(['--scale', '3', '--out', dir, png]);
  t.equal(badScale.code, 2);
  t.match(badScale.stderr, /--scale must be 2 or 4, got '3'/);
  const badSize = await run(['--size', '100', '--out', dir, png]);
  t.match(badSize.stderr, /--size expects WxH/);
  const missing = await run(['--model', join(dir, 'nope.json'), '--out', dir, png]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /cannot read model file .*nope\.json/);
  if (!existsSync(join(repoRoot, 'models', DEFAULT_MODEL_FILE))) {
    const noDefault = await run(['--backend', 'cpu', '--out', dir, png]);
    t.equal(noDefault.code, 1);
    t.match(noDefault.stderr, /no default model: .*uprez-x2\.json does not exist.*--model FILE/);
  }
});
