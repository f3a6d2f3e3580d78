// npm run bench:daemon: the daemon as people run it, measured. Headless at 3840x2160 with the
// default model (llvmpipe here; a Pi's V3D through the same code): a 960x540 and a 1920x1080
// JPEG land in the watched folder (renamed into place, as a copy tool does), and it prints
// time to the preview and to the SR version on screen, the main thread's event-loop delay and
// the longest frame interval during the crossfade while SR runs, the time of a cache hit, and
// the memory. Usage: npm run bench:daemon [-- --size WxH --photo FILE --settle-ms N --log]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { repoRoot } from '../src/service/paths.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '3840x2160' },
    photo: { type: 'string', default: join(repoRoot, 'config', 'sample-photos', 'coffee.jpg') },
    'settle-ms': { type: 'string', default: '500' },
    keep: { type: 'boolean', default: false },
    log: { type: 'boolean', default: false },
  },
});

const root = mkdtempSync(join(tmpdir(), 'uprez-bench-daemon-'));
const folder = join(root, 'photos');
mkdirSync(folder);

async function makeJpeg(width: number, height: number): Promise<Buffer> {
  // A stand-in for a low-resolution photo: the sample photo at that size.
  return sharp(values.photo).resize(width, height, { fit: 'cover' }).jpeg({ quality: 90 }).toBuffer();
}

const child = spawn(process.execPath, [join(repoRoot, 'bin', 'uprez'), 'run', '--backend', 'headless', '--size', values.size!,
  '--folder', folder, '--state-dir', join(root, 'state'), '--cache-dir', join(root, 'cache'), '--http', '127.0.0.1:0',
  '--interval', '3600', '--on-new', 'show', '--transition', 'crossfade', '--transition-ms', '1000', '--settle-ms', values['settle-ms']!,
  '--log', 'text'], { env: { ...process.env, UPREZ_TEST_HOOKS: '1' }, stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
child.stdout.on('data', (chunk) => (out += chunk));
const port = await new Promise<number>((resolve, reject) => {
  const timer = setInterval(() => {
    const match = /event=http.listening status=http:\/\/127.0.0.1:(\d+)/.exec(out);
    if (match) {
      clearInterval(timer);
      resolve(Number(match[1]));
    }
  }, 50);
  child.once('exit', (code) => reject(new Error(`the daemon exited (${code}):\n${out}`)));
});
const base = `http://127.0.0.1:${port}`;
const status = async () => (await (await fetch(`${base}/status`)).json()) as Record<string, any>;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check: (s: Record<string, any>) => boolean, what: string, timeoutMs = 300_000): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await status();
    if (check(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Drops `jpeg` into the folder as `name` (written elsewhere, renamed into place) and measures it. */
async function drop(name: string, jpeg: Buffer) {
  await waitFor((s) => s.sr.pending === 0, 'the SR thread to be idle');
  await fetch(`${base}/test/reset-loop-delay`, { method: 'POST' });
  const temporary = join(root, `${name}.tmp`);
  writeFileSync(temporary, jpeg);
  const landed = Date.now();
  renameSync(temporary, join(folder, name));
  // Meanwhile an HTTP client asks for /healthz: how long it waits while SR runs.
  let longestHttpMs = 0;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const started = performance.now();
      await fetch(`${base}/healthz`);
      longestHttpMs = Math.max(longestHttpMs, performance.now() - started);
      await sleep(20);
    }
  })();
  const done = await waitFor((s) => s.recent[0]?.id === name && s.recent[0].srShownMs !== null && s.recent[0].srLongestFrameMs !== null, `${name} super-resolved on screen`);
  polling = false;
  await poller;
  const timing = done.recent[0];
  const taken = Date.parse(timing.takenAt);
  return {
    name,
    settle: taken - landed,
    preview: timing.previewMs as number,
    landedToPreview: taken + timing.previewMs - landed,
    sr: timing.srMs as number | null,
    srShown: timing.srShownMs as number,
    landedToSr: taken + timing.srShownMs - landed,
    cache: timing.cache as string,
    loopP99: done.eventLoopDelayMs.p99 as number,
    loopMax: done.eventLoopDelayMs.max as number,
    previewFrame: timing.previewLongestFrameMs as number | null,
    srFrame: timing.srLongestFrameMs as number | null,
    httpMs: longestHttpMs,
    rss: done.memory.rssMB as number,
  };
}

try {
  await waitFor((s) => s.model !== null && s.display.framesPresented > 0, 'the daemon to be ready');
  const first = await status();
  const small = await makeJpeg(960, 540);
  const large = await makeJpeg(1920, 1080);
  const rows = [
    await drop('photo-960x540.jpg', small),
    await drop('photo-1920x1080.jpg', large),
    // The same bytes under another name: the SR result comes from the cache.
    await drop('photo-1920x1080-again.jpg', large),
  ];
  const f = (n: number | null) => (n === null ? '-' : String(Math.round(n)));
  process.stdout.write(`uprez daemon benchmark: headless ${first.display.width}x${first.display.height}, model ${first.model.name}, ` +
    `${first.gpu.renderer}, settle ${values['settle-ms']} ms, crossfade 1000 ms\n\n`);
  process.stdout.write('| image | settle ms | take→preview ms | landed→preview ms | SR ms | take→SR shown ms | landed→SR shown ms | cache | loop p99 ms | loop max ms | longest frame (preview fade / SR fade) ms | longest /healthz ms | RSS MB |\n');
  process.stdout.write('|---|---|---|---|---|---|---|---|---|---|---|---|---|\n');
  for (const r of rows) {
    process.stdout.write(`| ${r.name} | ${f(r.settle)} | ${f(r.preview)} | ${f(r.landedToPreview)} | ${f(r.sr)} | ${f(r.srShown)} | ${f(r.landedToSr)} | ${r.cache} | ` +
      `${r.loopP99.toFixed(1)} | ${r.loopMax.toFixed(1)} | ${f(r.previewFrame)} / ${f(r.srFrame)} | ${f(r.httpMs)} | ${r.rss} |\n`);
  }
  // --log: the daemon's own lines about each picture (compose times, SR, cache).
  if (values.log) process.stdout.write(`\n${out.split('\n').filter((l) => /event=(image.taken|preview.shown|shown|sr.done|sr.shown|cache.hit)/.test(l)).join('\n')}\n`);
} finally {
  child.kill('SIGTERM');
  await once(child, 'exit');
  if (!values.keep) rmSync(root, { recursive: true, force: true });
}
