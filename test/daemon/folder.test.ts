// The real daemon (`uprez run`, headless, llvmpipe) and its watched folder, seen over HTTP and
// in its log:
//   1. a file copied in slow chunks is taken exactly once, only after it is complete;
//   2. /screen.png shows the preview (a resample) and then the SR version, and the SR version
//      is what `uprez upscale` computes for the same file;
//   3. deleting the file on screen keeps it on screen, pixel for pixel;
//   4. the second loop over the folder comes from the SR cache, and so does the first picture
//      after a restart on the same cache;
//   5. a new file is shown at once with --on-new show, and only joins the slideshow with
//      --on-new queue.
import { execFile } from 'node:child_process';
import { appendFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import t, { type Test } from 'tap';
import { yPsnr } from '../../src/quality/protocols.js';
import { modelsDir, repoRoot } from '../../src/service/paths.js';
import { daemonDirs, startDaemon, uprez, type DaemonDirs, type RunningDaemon, readRaster, screenRaster } from '../helpers/daemon.js';

// A JPEG is super-resolved by the default model's JPEG variant (models/uprez-x2-jpeg.json).
const JPEG_MODEL = join(modelsDir, 'uprez-x2-jpeg.json');

type RGB = [number, number, number];

const PHOTOS = join(repoRoot, 'config', 'sample-photos');
const PHOTO = join(PHOTOS, 'coffee.jpg');
const IDLE_BACKGROUND: RGB = [0x15, 0x18, 0x1c];

/** A real photo (edges, gradients, texture) as a JPEG of exactly width x height. */
function photoJpeg(width: number, height: number, source = PHOTO): Promise<Buffer> {
  return sharp(source).resize(width, height, { fit: 'cover' }).jpeg({ quality: 90 }).toBuffer();
}

function solidPng(rgb: RGB, width = 160, height = 90): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toBuffer();
}

/** Writes next to the folder, then renames into it: the daemon only ever sees a complete file. */
async function drop(dirs: DaemonDirs, name: string, bytes: Buffer): Promise<void> {
  const temporary = join(dirs.root, `incoming-${name}`);
  await writeFile(temporary, bytes);
  await rename(temporary, join(dirs.folder, name));
}



const close = (actual: RGB, expected: RGB, tolerance = 10) => actual.every((v, i) => Math.abs(v - expected[i]!) <= tolerance);
const escape = (id: string) => id.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** A log line of `event` about picture `id` (the id field matched whole). */
const about = (event: string, id: string, rest = '') => new RegExp(`event=${escape(event)} id=${escape(id)}(?= |$)${rest}`);

function started(t: Test, dirs: DaemonDirs, args: string[]): RunningDaemon {
  const daemon = startDaemon(dirs, args);
  t.teardown(() => daemon.stop('SIGKILL'));
  return daemon;
}

/** `uprez upscale` in a child process, its GPU program cache in the test's own folder. */
function upscaleCli(args: string[], cacheHome: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [uprez, 'upscale', ...args], { env: { ...process.env, XDG_CACHE_HOME: cacheHome } }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

t.test('a file copied in slow chunks is taken exactly once, after it is complete', async (t) => {
  const dirs = daemonDirs();
  // The settle time is well above the writer's pauses (400 ms), so that a loaded machine
  // delaying the writer's timers does not make a pause look like a finished file.
  const settleMs = 1500;
  const daemon = started(t, dirs, ['--settle-ms', String(settleMs), '--model', 'none', '--transition', 'cut', '--interval', '60']);
  await daemon.waitForLine(/event=slideshow.ready images=0/);

  const bytes = await photoJpeg(320, 180);
  const chunks = 5;
  const gapMs = 400;
  const size = Math.ceil(bytes.length / chunks);
  const target = join(dirs.folder, 'slow.jpg');
  let readyAt = 0;
  const ready = daemon.waitForNewLine(about('source.file-ready', 'slow.jpg'), 30_000).then((line) => {
    readyAt = Date.now();
    return line;
  });
  // Each chunk on a fixed schedule (not "gap after the last write"), so delays do not add up.
  const begin = Date.now();
  const writtenAt: number[] = [];
  for (let i = 0; i < chunks; i++) {
    const wait = begin + i * gapMs - Date.now();
    if (wait > 0) await sleep(wait);
    const chunk = bytes.subarray(i * size, Math.min(bytes.length, (i + 1) * size));
    if (i === 0) await writeFile(target, chunk);
    else await appendFile(target, chunk);
    writtenAt.push(Date.now());
  }
  const lastWrite = writtenAt[writtenAt.length - 1]!;
  const longestGap = Math.max(...writtenAt.slice(1).map((at, i) => at - writtenAt[i]!));
  t.ok(longestGap < settleMs, `the writer kept every pause (longest ${longestGap} ms) under the settle time (${settleMs} ms)`);

  const readyLine = await ready;
  t.ok(readyAt >= lastWrite, `the file was ready ${readyAt - lastWrite} ms after the last chunk was written`);
  t.match(readyLine, new RegExp(`size=${bytes.length}(?= |$)`), `file-ready has the full size (${bytes.length} bytes)`);
  await daemon.waitForLine(about('image.taken', 'slow.jpg'), 20_000);
  await daemon.waitForLine(about('shown', 'slow.jpg'), 20_000);
  const status = await daemon.until((s) => s.current?.id === 'slow.jpg', 'slow.jpg on screen', 20_000);
  t.same(status.current.decoded, { width: 320, height: 180 }, 'the whole picture was decoded');
  // Give a (wrong) second take time to happen: a later settle window and a retake.
  await sleep(settleMs + 1000);
  const after = await daemon.status();
  t.equal(daemon.count(about('source.file-ready', 'slow.jpg')), 1, 'one file-ready for slow.jpg');
  t.equal(daemon.count(about('image.taken', 'slow.jpg')), 1, 'one image.taken for slow.jpg');
  t.equal(daemon.count(/event=image.rejected/), 0, 'nothing rejected');
  t.match(daemon.lines.find((line) => about('image.taken', 'slow.jpg').test(line)), / takes=1(?= |$)/, 'takes=1 in the log');
  const image = after.images.find((i: { id: string }) => i.id === 'slow.jpg');
  t.ok(image, 'slow.jpg is in /status images');
  t.equal(image?.takes, 1, '/status: taken once');
  t.equal(image?.bytes, bytes.length, '/status: the full size');
  t.equal(image?.rejected, null, '/status: not rejected');
  t.equal(after.counters.rejected, 0, '/status: counters.rejected is 0');
  t.equal(after.current?.id, 'slow.jpg', 'slow.jpg is on screen');
});

// The preview is caught with POST /test/fail-sr?count=1, not by racing the SR thread: the one
// SR job fails, the state becomes 'sr-failed' and the screen keeps the preview for as long as
// we like (the retry is 30 s away). Rewriting the file then takes it again, and this time SR
// succeeds: the SR version replaces the preview on the same screen.
t.test('/screen.png shows the preview, then the SR version that `uprez upscale` computes', async (t) => {
  const dirs = daemonDirs();
  const daemon = started(t, dirs, ['--size', '640x360', '--fit', 'contain', '--background', '#000000', '--transition', 'cut', '--interval', '60']);
  await daemon.waitForLine(/event=slideshow.ready images=0/);
  const idle = await daemon.screen();
  t.ok(close(idle.pixel(8, 8), IDLE_BACKGROUND), 'the idle card is on screen before the picture comes');

  const bytes = await photoJpeg(160, 90);
  const failing = await fetch(await daemon.url('/test/fail-sr?count=1'), { method: 'POST' });
  t.equal(failing.status, 200, 'the next SR job will fail');
  await drop(dirs, 'photo.jpg', bytes);

  // ---- the preview ----
  await daemon.waitForLine(about('shown', 'photo.jpg', ' version=preview'), 30_000);
  let status = await daemon.until((s) => s.current?.id === 'photo.jpg' && s.current.state === 'sr-failed', 'SR of photo.jpg to fail', 30_000);
  t.equal(status.current.steps, 2, '160x90 on 640x360 is a 4x growth: two SR steps');
  t.equal(status.counters.srFailed, 1, 'one SR failure counted');
  const preview = await daemon.screen();
  t.same([preview.width, preview.height], [640, 360], 'a 640x360 capture');
  t.notOk(close(preview.pixel(320, 180), IDLE_BACKGROUND, 4) && close(preview.pixel(100, 100), IDLE_BACKGROUND, 4), 'the idle card is gone');
  const idlePsnr = yPsnr(screenRaster(preview), screenRaster(idle), 0);
  t.ok(idlePsnr < 20, `the screen is not the idle card (Y-PSNR against it ${idlePsnr.toFixed(1)} dB)`);
  // 16:9 contained in 16:9 fills the screen: the whole capture is the target rectangle.
  const cubic = await readRaster(await sharp(bytes).resize(640, 360, { fit: 'fill', kernel: 'cubic' }).png().toBuffer());
  const previewPsnr = yPsnr(screenRaster(preview), cubic, 4);
  t.ok(previewPsnr >= 30, `the preview is a resample of the photo: Y-PSNR ${previewPsnr.toFixed(2)} dB against sharp's cubic resize (>= 30)`);
  t.equal(daemon.count(about('sr.shown', 'photo.jpg')), 0, 'no SR version was shown');

  // ---- the SR version ----
  const rewritten = join(dirs.root, 'rewrite.jpg');
  await writeFile(rewritten, bytes);
  await rename(rewritten, join(dirs.folder, 'photo.jpg'));
  await daemon.waitForLine(about('sr.shown', 'photo.jpg'), 60_000);
  await daemon.waitForLine(about('shown', 'photo.jpg', ' version=final'), 30_000);
  status = await daemon.until((s) => s.current?.id === 'photo.jpg' && s.current.state === 'super-resolved', 'photo.jpg super-resolved', 30_000);
  t.equal(daemon.count(about('sr.done', 'photo.jpg')), 1, 'one SR job finished');
  const final = await daemon.screen();

  const out = join(dirs.root, 'upscaled');
  const cli = await upscaleCli([join(dirs.folder, 'photo.jpg'), '--model', JPEG_MODEL, '--scale', '4', '--size', '640x360', '--out', out], join(dirs.root, 'xdg-cache'));
  t.equal(cli.code, 0, cli.code === 0 ? 'uprez upscale succeeded' : `uprez upscale failed: ${cli.stderr}`);
  const reference = await readRaster(join(out, 'photo.png'));
  t.same([reference.width, reference.height], [640, 360], 'uprez upscale made 640x360');
  const finalPsnr = yPsnr(screenRaster(final), reference, 0);
  t.ok(finalPsnr >= 45, `the SR version on screen is uprez upscale's: Y-PSNR ${finalPsnr.toFixed(2)} dB (>= 45)`);
  const previewVsSr = yPsnr(screenRaster(preview), reference, 0);
  t.ok(previewVsSr < 45, `the preview would not pass that check (Y-PSNR ${previewVsSr.toFixed(2)} dB): the SR version replaced it`);
  t.notOk(final.data.equals(preview.data), 'the screen changed from the preview to the SR version');
});

t.test('deleting the file on screen keeps it on screen', async (t) => {
  const dirs = daemonDirs();
  await writeFile(join(dirs.folder, 'only.jpg'), await photoJpeg(160, 90));
  // --interval 1: the slideshow clock ticks often, so a wrong reaction to the deletion would show.
  const daemon = started(t, dirs, ['--model', 'none', '--transition', 'cut', '--interval', '1', '--background', '#000000']);
  await daemon.waitForLine(about('shown', 'only.jpg', ' version=preview'), 30_000);
  const before = await daemon.screen();
  t.notOk(close(before.pixel(160, 90), IDLE_BACKGROUND, 4) && close(before.pixel(40, 40), IDLE_BACKGROUND, 4), 'the picture is on screen');

  await rm(join(dirs.folder, 'only.jpg'));
  const removed = await daemon.waitForLine(/event=image.removed /, 20_000);
  t.match(removed, about('image.removed', 'only.jpg', ' onScreen=true'), 'image.removed says it is on screen');
  await sleep(1500);
  const status = await daemon.status();
  t.equal(status.current?.id, 'only.jpg', '/status: still the current picture');
  t.equal(status.queue.images, 0, '/status: the slideshow has no pictures left');
  const after = await daemon.screen();
  t.same([after.width, after.height], [before.width, before.height], 'same capture size');
  t.ok(after.data.equals(before.data), 'the screen is unchanged, pixel for pixel');
  t.equal(daemon.count(/event=frame.shown what="idle card"/), 1, 'the idle card did not come back');
});

t.test('the second loop comes from the SR cache, and so does the first picture after a restart', async (t) => {
  const dirs = daemonDirs();
  await writeFile(join(dirs.folder, 'a.jpg'), await photoJpeg(160, 90));
  await writeFile(join(dirs.folder, 'b.jpg'), await photoJpeg(160, 90, join(PHOTOS, 'rocket.jpg')));
  const args = ['--transition', 'cut', '--background', '#000000'];
  const daemon = started(t, dirs, [...args, '--interval', '2']);

  // Read from the log, in its order: `sr.shown id=X` is the first frame of X's SR version
  // (fresh, prefetched or cached). The very first SR job of a daemon is slow on llvmpipe (shaders
  // are compiled at the first draw: 2-4 s, more than the interval), so the first loop may go
  // b, a or even show a twice before its SR version; what must hold is: once X has been on
  // screen super-resolved, no SR runs for X again, and its next showing comes from the cache.
  const shownAt = (id: string) => daemon.lines.flatMap((line, i) => (about('sr.shown', id).test(line) ? [i] : []));
  const ids = ['a.jpg', 'b.jpg'] as const;
  await daemon.waitForLine(about('sr.shown', 'a.jpg'), 60_000);
  await daemon.waitForLine(about('sr.shown', 'b.jpg'), 60_000);
  const deadline = Date.now() + 60_000;
  while (!ids.every((id) => shownAt(id).length >= 2)) {
    if (Date.now() > deadline) throw new Error(`a.jpg and b.jpg were not both shown super-resolved twice; log:\n${daemon.lines.slice(-40).join('\n')}`);
    await sleep(100);
  }
  const events = daemon.lines.filter((line) => /event=(image\.taken|sr\.done|sr\.shown|cache\.hit|preview\.shown) /.test(line))
    .map((line) => line.replace(/^.*event=/, '')).join('\n');
  for (const id of ids) {
    const [first, second] = shownAt(id) as [number, number];
    const after = daemon.lines.slice(first + 1);
    t.equal(after.filter((line) => about('sr.done', id).test(line)).length, 0, `no sr.done for ${id} after its SR version was first on screen`, { events });
    t.ok(daemon.lines.slice(first + 1, second).some((line) => about('cache.hit', id).test(line)), `its second showing came from the cache (cache.hit for ${id})`, { events });
    t.ok(daemon.count(about('sr.done', id)) >= 1, `SR did run for ${id} in the first loop`);
  }
  const status = await daemon.status();
  t.ok(status.counters.cacheHits >= 2, `/status: counters.cacheHits ${status.counters.cacheHits} >= 2`);
  t.equal(status.counters.srDone, daemon.count(/event=sr.done /), '/status: counters.srDone counts the sr.done lines');
  t.ok(status.cache.entries >= 2, `/status: ${status.cache.entries} cache entries`);
  t.equal(await daemon.stop('SIGTERM'), 0, 'stopped cleanly');

  const again = started(t, dirs, [...args, '--interval', '60']);
  const first = await again.until((s) => s.current?.state === 'super-resolved', 'the first picture super-resolved after the restart', 30_000);
  const id = first.current.id as string;
  await again.waitForLine(about('cache.hit', id), 10_000);
  t.ok(again.count(about('cache.hit', id)) >= 1, `the first picture (${id}) was a cache hit`);
  t.equal(again.count(about('sr.done', id)), 0, `no SR for ${id}`);
  t.equal(again.count(about('preview.shown', id)), 0, `${id} went straight to the SR version (no preview frame)`);
  t.equal(first.recent[0]?.cache, 'hit', '/status recent: cache hit');
  t.ok(first.counters.cacheHits >= 1, '/status: counters.cacheHits >= 1');
  t.equal(first.counters.srDone, 0, '/status: counters.srDone is 0');
});

t.test('--on-new show shows a new file at once; --on-new queue only adds it to the slideshow', async (t) => {
  const base = ['--model', 'none', '--transition', 'cut', '--interval', '60'];
  t.test('show', async (t) => {
    const dirs = daemonDirs();
    await writeFile(join(dirs.folder, 'a.png'), await solidPng([200, 0, 0]));
    await writeFile(join(dirs.folder, 'b.png'), await solidPng([0, 200, 0]));
    const daemon = started(t, dirs, [...base, '--on-new', 'show']);
    await daemon.until((s) => s.current?.id === 'a.png', 'a.png on screen', 30_000);
    const dropped = Date.now();
    await drop(dirs, 'new.png', await solidPng([0, 0, 200]));
    const status = await daemon.until((s) => s.current?.id === 'new.png', 'new.png on screen', 10_000);
    t.ok(Date.now() - dropped < 10_000, `new.png became current ${Date.now() - dropped} ms after it was dropped`);
    t.equal(status.queue.images, 3, '/status: three pictures in the slideshow');
    await daemon.waitForLine(about('shown', 'new.png'), 10_000);
    const screen = await daemon.screen();
    t.ok(close(screen.pixel(160, 90), [0, 0, 200]), `the screen shows it (centre ${screen.pixel(160, 90).join(',')})`);
  });

  t.test('queue', async (t) => {
    const dirs = daemonDirs();
    await writeFile(join(dirs.folder, 'a.png'), await solidPng([200, 0, 0]));
    await writeFile(join(dirs.folder, 'b.png'), await solidPng([0, 200, 0]));
    const daemon = started(t, dirs, [...base, '--on-new', 'queue']);
    const before = await daemon.until((s) => s.current?.id === 'a.png', 'a.png on screen', 30_000);
    t.equal(before.queue.images, 2, '/status: two pictures in the slideshow');
    await drop(dirs, 'new.png', await solidPng([0, 0, 200]));
    await daemon.waitForLine(/event=image.seen id=new.png/, 10_000);
    const joined = await daemon.until((s) => s.queue.images === 3, 'new.png to join the slideshow', 10_000);
    t.ok(joined.images.some((i: { id: string }) => i.id === 'new.png'), '/status images has new.png');
    await sleep(1500);
    const status = await daemon.status();
    t.equal(status.current?.id, 'a.png', 'a.png stays on screen');
    t.equal(status.queue.images, 3, '/status: three pictures in the slideshow');
    t.equal(daemon.count(about('image.taken', 'new.png')), 0, 'new.png was not taken yet');
    const screen = await daemon.screen();
    t.ok(close(screen.pixel(160, 90), [200, 0, 0]), `the screen still shows a.png (centre ${screen.pixel(160, 90).join(',')})`);
  });
});
