// The soak: the real daemon (headless) takes a long stream of pushed pictures of mixed sizes
// and formats, as fast as it accepts them, with a slideshow running and websocket clients
// subscribed to its events; what it holds (memory, GPU memory, fds) is compared between start
// and end, and every accepted picture must have been shown or still be listed. Run in full by
// `npm run bench:soak` (scripts/bench-soak.ts) and in short by test/load/soak.test.ts.
import { copyFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { repoRoot } from '../../src/service/paths.js';
import { daemonDirs, startDaemon, type RunningDaemon } from '../helpers/daemon.js';
import { fdTargets, openFds, residentBytes, residentParts, threadPriorities, threadUsage } from '../helpers/proc.js';
import { openWs, type Message, type WsClient } from '../helpers/ws-client.js';

export interface SoakOptions {
  /** The headless screen, e.g. '3840x2160'. */
  size: string;
  /** Pictures to push (at least). */
  images: number;
  /** Minutes to keep pushing (at least; the pool of pictures repeats, each push unique). */
  minutes: number;
  /** Websocket clients subscribed to every event. */
  clients: number;
  /** Slideshow interval in seconds. */
  intervalS: number;
  /** Distinct pictures generated before the run (each push is made unique on top). */
  poolSize: number;
  /** How often the event-loop delay is read (and reset), in seconds. */
  sampleS: number;
  /** Progress lines (to stderr, say). */
  progress?: (line: string) => void;
  /** Keep the daemon's directories (for a look afterwards). */
  keep?: boolean;
  /** The daemon's --model (default: its own default; 'none': no SR thread). */
  model?: string;
  /** More environment for the daemon (e.g. LD_PRELOAD for its allocator). */
  env?: NodeJS.ProcessEnv;
  /**
   * The soak's own priority (its pushers and subscribers stand for other machines, and compete
   * here for the CPU with the daemon's threads), set once the daemon runs: a child inherits its
   * parent thread's nice, and the daemon's main thread must start at the normal priority, as
   * under systemd.
   */
  clientNice?: number;
  /** How long the daemon rests before warm and end are read (s; default 5). */
  restS?: number;
  /** Write every line the daemon printed here at the end (its log; and V8's, e.g. with --trace-gc in UPREZ_DAEMON_NODE_FLAGS). */
  daemonLog?: string;
}

export interface Holdings {
  rssBytes: number;
  /** RSS split: anonymous (heaps, pixels, GL buffers) and file-backed (code, libraries). */
  anonBytes: number;
  fileBytes: number;
  /** RSS once a second while it rested before this reading (whether it was still falling). */
  restRssBytes: number[];
  gpuBytes: number;
  /** The main thread's JS heap in use and its external memory (buffers outside the heap): where RSS went. */
  heapBytes: number;
  externalBytes: number;
  fds: number;
}

export interface SoakReport {
  screen: string;
  renderer: string;
  model: string | null;
  /** The nice values of the daemon's threads at the end: main, and the others' lowest and highest. */
  nice: { main: number; othersMin: number; othersMax: number };
  seconds: number;
  pushed: number;
  accepted: number;
  /** Pictures pushed before each rest, so that warm and end are read with the same picture on screen. */
  resting: number;
  busyRetries: number;
  rateLimitedRetries: number;
  refused: { id: string; message: string }[];
  imagesPerSecond: number;
  previewMs: Percentiles;
  srMs: Percentiles;
  srDone: number;
  slideshowTurns: number;
  /** p99 of the main thread's event-loop delay in each sampling window (ms). */
  loopP99Ms: number[];
  /** The main thread in each of those windows: CPU time, time waiting for a CPU, minor page faults. */
  mainThread: { cpuMs: number; waitMs: number; minorFaults: number }[];
  /**
   * Before the first push; after the warm-up (every picture of the pool pushed once: each size and
   * format seen); at the end. Warm and end are taken the same way, at rest (the last picture shown,
   * SR idle, the slideshow paused, then restS seconds), so that they compare what the daemon holds.
   */
  cold: Holdings;
  warm: Holdings;
  /** When warm was taken, in pictures accepted. */
  warmAfter: number;
  /** The daemon's RSS read at every event-loop window after the warm-up, while it works (bytes). */
  rssDuring: number[];
  end: Holdings;
  /** Accepted pictures neither shown (preview-shown) nor in the daemon's list. */
  lost: string[];
  /** Events each subscribed client got (all equal when none was dropped). */
  eventsPerClient: number[];
  fdsAtEnd: string[];
  daemonErrors: string[];
  exitCode: number | null;
}

export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
  return { count: sorted.length, p50: at(50), p90: at(90), p99: at(99), max: sorted.at(-1) ?? NaN };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- the pictures ----

interface PoolImage {
  bytes: Buffer;
  format: 'jpeg' | 'png' | 'webp';
  width: number;
  height: number;
}

/** Sizes as fractions of the screen's width and height: tiny, small, about the screen, larger than it; portrait too. */
const SIZES: [number, number][] = [
  [0.005, 0.008], [0.02, 0.05], [0.1, 0.1], [0.17, 0.3], [0.25, 0.25], [0.33, 0.6], [0.5, 0.5],
  [0.75, 0.75], [0.4, 1.2], [1, 1], [1.15, 1.15], [1.3, 1.1],
];
const FORMATS = ['jpeg', 'png', 'webp'] as const;

/**
 * `count` distinct photo-like pictures (the sample photos, cropped, tinted, resized, with film
 * grain so that large ones are not smooth), cycling through the sizes and the formats.
 */
export async function makePool(count: number, screenWidth: number, screenHeight: number): Promise<PoolImage[]> {
  const photoDir = join(repoRoot, 'config', 'sample-photos');
  const photos = readdirSync(photoDir).filter((name) => name.endsWith('.jpg')).map((name) => join(photoDir, name));
  const pool: PoolImage[] = [];
  for (let i = 0; i < count; i++) {
    const [fw, fh] = SIZES[i % SIZES.length]!;
    const width = Math.max(8, Math.round(screenWidth * fw));
    const height = Math.max(8, Math.round(screenHeight * fh));
    const format = FORMATS[i % FORMATS.length]!;
    const positions = ['centre', 'north', 'south', 'east', 'west'] as const;
    const base = await sharp(photos[i % photos.length]!)
      .resize(width, height, { fit: 'cover', position: positions[i % positions.length], kernel: 'lanczos3' })
      .modulate({ hue: (i * 47) % 360, saturation: 0.8 + (i % 5) * 0.1 })
      .toBuffer();
    const grain = await sharp({ create: { width, height, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 24 } } }).png().toBuffer();
    const image = sharp(base).composite([{ input: grain, blend: 'soft-light' }]);
    const bytes = format === 'jpeg' ? await image.jpeg({ quality: 88 }).toBuffer()
      : format === 'png' ? await image.png({ compressionLevel: 6 }).toBuffer()
      : await image.webp({ quality: 85 }).toBuffer();
    pool.push({ bytes, format, width, height });
  }
  return pool;
}

/**
 * `image` with `tag` written into a comment (JPEG COM segment, PNG tEXt chunk, WebP unknown
 * chunk): the same pixels, other bytes, so the daemon sees a new picture (its cache key is the
 * bytes' hash) without encoding it again.
 */
export function uniqueCopy(image: PoolImage, tag: string): Buffer {
  const text = Buffer.from(`uprez-soak ${tag}`);
  const { bytes } = image;
  if (image.format === 'jpeg') {
    const segment = Buffer.alloc(4 + text.length);
    segment.writeUInt16BE(0xfffe, 0);
    segment.writeUInt16BE(text.length + 2, 2);
    text.copy(segment, 4);
    return Buffer.concat([bytes.subarray(0, 2), segment, bytes.subarray(2)]);
  }
  if (image.format === 'png') {
    const body = Buffer.concat([Buffer.from('tEXtComment\0'), text]);
    const chunk = Buffer.alloc(body.length + 8);
    chunk.writeUInt32BE(body.length - 4, 0);
    body.copy(chunk, 4);
    chunk.writeUInt32BE(crc32(body), body.length + 4);
    return Buffer.concat([bytes.subarray(0, 33), chunk, bytes.subarray(33)]); // after the IHDR chunk
  }
  const padded = text.length % 2 === 1 ? Buffer.concat([text, Buffer.alloc(1)]) : text;
  const chunk = Buffer.alloc(8 + padded.length);
  chunk.write('UPRZ', 0, 'latin1');
  chunk.writeUInt32LE(text.length, 4);
  padded.copy(chunk, 8);
  const out = Buffer.concat([bytes, chunk]);
  out.writeUInt32LE(out.length - 8, 4); // the RIFF size
  return out;
}

// ---- talking to the daemon ----

/** GET or POST without keep-alive: the daemon's fds do not depend on our HTTP sockets. */
function request(url: string, method = 'GET'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(url, { method, agent: false, headers: { connection: 'close' } }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => (response.statusCode === 200 ? resolve(body) : reject(new Error(`${method} ${url}: ${response.statusCode} ${body}`))));
    });
    req.on('error', reject);
  });
}

/** GPU memory (all kinds) and the main thread's JS heap and external memory, from /metrics. */
async function memory(base: string): Promise<{ gpuBytes: number; heapBytes: number; externalBytes: number }> {
  const metrics = await request(`${base}/metrics`);
  const values = [...metrics.matchAll(/^uprez_gpu_memory_bytes\{kind="\w+"\} (\d+)$/gm)].map((m) => Number(m[1]));
  if (values.length !== 3) throw new Error('/metrics has no uprez_gpu_memory_bytes');
  const one = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
  return { gpuBytes: values.reduce((a, b) => a + b, 0), heapBytes: one('nodejs_heap_size_used_bytes'), externalBytes: one('nodejs_external_memory_bytes') };
}

/** Waits until the daemon's fd count holds still for a second (transient cache or state writes end). */
async function steadyFds(pid: number, expected: number | null): Promise<number> {
  let last = openFds(pid);
  let still = 0;
  for (let i = 0; i < 150; i++) {
    await sleep(100);
    const now = openFds(pid);
    if (expected !== null && now === expected) return now;
    still = now === last ? still + 1 : 0;
    last = now;
    if (expected === null && still >= 10) return now;
  }
  return last;
}

/** How long the daemon rests by default before warm and end are read (its threads collect after 2 s of quiet). */
const SETTLE_S = 5;

async function holdings(d: RunningDaemon, base: string, expectedFds: number | null, restRssBytes: number[] = []): Promise<Holdings> {
  const fds = await steadyFds(d.child.pid!, expectedFds);
  const parts = residentParts(d.child.pid!);
  return { rssBytes: parts.rss, anonBytes: parts.anon, fileBytes: parts.file, restRssBytes, ...(await memory(base)), fds };
}

// ---- the run ----

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const say = options.progress ?? (() => {});
  const [screenWidth, screenHeight] = options.size.split('x').map(Number) as [number, number];
  say(`making ${options.poolSize} pictures for a ${options.size} screen...`);
  const pool = await makePool(options.poolSize, screenWidth, screenHeight);

  const dirs = daemonDirs('uprez-soak-');
  // A few pictures in the folder: the slideshow has its own to show between pushes.
  const photoDir = join(repoRoot, 'config', 'sample-photos');
  for (const name of readdirSync(photoDir).filter((n) => n.endsWith('.jpg'))) copyFileSync(join(photoDir, name), join(dirs.folder, name));
  const d = startDaemon(dirs, ['--size', options.size, '--interval', String(options.intervalS), '--transition', 'crossfade',
    '--transition-ms', '500', '--settle-ms', '200',
    // The soak measures the pipeline, not the rate limiter (test/remote covers that): small
    // pictures go faster than the default 50 messages per second.
    '--max-requests-per-second', '500', ...(options.model ? ['--model', options.model] : [])], options.env);
  if (options.clientNice !== undefined) {
    try {
      setPriority(options.clientNice);
    } catch {
      // not allowed: the soak runs at the normal priority
    }
  }
  try {
    const base = await d.url('');
    const wsUrl = `${base.replace(/^http/, 'ws')}/ws`;
    await d.waitForLine(/event=slideshow\.ready/, 120_000);
    const status = JSON.parse(await request(`${base}/status`)) as Record<string, any>;

    // The subscribers: the first keeps every event (to find the pictures shown), the others count theirs.
    const subscribers: WsClient[] = [];
    const eventCounts: number[] = [];
    for (let i = 0; i < options.clients; i++) {
      const client = await openWs(wsUrl);
      client.keepMessages = i === 0;
      eventCounts.push(0);
      // Only the pushes' events: all come after every client subscribed, so each must get them all.
      client.onMessage((m) => {
        if ('event' in m && typeof m.id === 'string' && m.id.startsWith('p-')) eventCounts[i]!++;
      });
      await client.request({ id: 'subscribe', cmd: 'subscribe' });
      subscribers.push(client);
    }
    const tracker = subscribers[0]!;
    let shownWaiters: (() => void)[] = [];
    tracker.onMessage((m) => {
      if (m.event !== 'preview-shown') return;
      for (const wake of shownWaiters) wake();
      shownWaiters = [];
    });
    const nextShown = () => new Promise<void>((resolve) => shownWaiters.push(resolve));
    const pusher = await openWs(wsUrl);
    pusher.keepMessages = false;
    await sleep(1000);
    const cold = await holdings(d, base, null);
    say(`cold: RSS ${mb(cold.rssBytes)} MB, GPU ${mb(cold.gpuBytes)} MB, ${cold.fds} fds`);

    // The event loop's p99 per window, read and reset every sampleS.
    const loopP99Ms: number[] = [];
    const mainThread: SoakReport['mainThread'] = [];
    let mainBefore = threadUsage(d.child.pid!);
    /** The main thread's usage since the last call. */
    const mainSince = () => {
      const now = threadUsage(d.child.pid!);
      const delta = { cpuMs: now.cpuMs - mainBefore.cpuMs, waitMs: now.waitMs - mainBefore.waitMs, minorFaults: now.minorFaults - mainBefore.minorFaults };
      mainBefore = now;
      return delta;
    };
    let warm: Holdings | null = null;
    const rssDuring: number[] = [];
    await request(`${base}/test/reset-loop-delay`, 'POST');
    let sampling = true;
    let restingNow = false; // a window that holds the warm-up's rest is not counted
    const sampler = (async () => {
      while (sampling) {
        await sleep(options.sampleS * 1000);
        if (!sampling) break;
        try {
          const s = JSON.parse(await request(`${base}/status`)) as Record<string, any>;
          await request(`${base}/test/reset-loop-delay`, 'POST');
          const usage = mainSince();
          if (restingNow) continue;
          loopP99Ms.push(s.eventLoopDelayMs.p99 as number);
          mainThread.push(usage);
          if (warm !== null) rssDuring.push(residentBytes(d.child.pid!));
        } catch (error) {
          say(`event-loop sample failed: ${(error as Error).message}`);
        }
      }
    })();

    // The pusher keeps maxPendingPushes pushes in flight; busy or rate-limited: the same picture again, a little later.
    const maxPending = 4;
    const accepted: string[] = [];
    const refused: { id: string; message: string }[] = [];
    let pushed = 0;
    let busyRetries = 0;
    let rateLimitedRetries = 0;
    const warmAt = Math.max(options.poolSize, Math.round(options.images * 0.05));
    /** Set while the pushers wait for the warm-up's rest to end. */
    let resting: Promise<void> | null = null;
    let started = performance.now();
    let deadline = started + options.minutes * 60_000;
    let lastProgress = started;
    let inFlight = 0;
    const pushOne = async (n: number): Promise<void> => {
      const image = pool[n % pool.length]!;
      const bytes = uniqueCopy(image, String(n));
      for (let attempt = 0; ; attempt++) {
        const id = `push-${n}-${attempt}`;
        pusher.send(JSON.stringify({ id, cmd: 'push', name: `soak-${n}.${image.format === 'jpeg' ? 'jpg' : image.format}` }));
        pusher.send(bytes);
        const reply = await pusher.reply(id, 120_000).catch((error: Error) => {
          const ended = d.child.exitCode !== null || d.child.signalCode !== null ? `the daemon ended (code ${d.child.exitCode}, signal ${d.child.signalCode})` : 'the daemon still runs';
          throw new Error(`${error.message}; ${ended}; its stderr:\n${d.stderr.slice(-4000)}\nits last lines:\n${d.lines.slice(-30).join('\n')}`);
        });
        if (reply.ok) {
          accepted.push(reply.image.id as string);
          return;
        }
        // Busy: wait for the next picture on screen (room in the store, or a decode slot) or
        // 250 ms; rate-limited: back off for a second.
        if (reply.error.code === 'busy') busyRetries++;
        else if (reply.error.code === 'rate-limited') rateLimitedRetries++;
        else {
          refused.push({ id, message: `${reply.error.code}: ${reply.error.message}` });
          return;
        }
        if (reply.error.code === 'busy') await Promise.race([nextShown(), sleep(250)]);
        else await sleep(1000);
      }
    };
    let failed = false; // one worker's failure stops the others (and the sampler, below)
    let warmAfter = 0;
    let markers = 0;
    /** The pictures pushed before each rest (not counted in pushed or accepted; checked for loss too). */
    const restingPictures: string[] = [];
    /** The daemon at rest: the last accepted picture shown, SR idle, the slideshow paused, then restS seconds. */
    const atRest = async (expectedFds: number | null): Promise<Holdings> => {
      const last = accepted.at(-1);
      if (last) await tracker.wait((m) => m.event === 'preview-shown' && m.id === last, 'the last picture shown', 120_000).catch(() => {});
      await pusher.request({ id: `pause-${pushed}`, cmd: 'pause' });
      // The same picture on screen at each reading: what the daemon holds for the picture it shows
      // (its pixels, its SR version) depends on that picture's size, up to a 4K frame or two, and
      // the last of the run's pushes is any size. Pushes are still shown while paused.
      const marker = `rest-${markers++}`;
      pusher.send(JSON.stringify({ id: marker, cmd: 'push', name: `soak-${marker}.${pool[0]!.format === 'jpeg' ? 'jpg' : pool[0]!.format}` }));
      pusher.send(uniqueCopy(pool[0]!, marker));
      const markerReply = await pusher.reply(marker, 120_000);
      if (markerReply.ok) {
        restingPictures.push(markerReply.image.id as string);
        await tracker.wait((m) => m.event === 'preview-shown' && m.id === markerReply.image.id, 'the resting picture shown', 120_000);
      } else say(`the resting picture was refused: ${JSON.stringify(markerReply.error)}`);
      for (let i = 0; i < 240; i++) {
        const s = JSON.parse(await request(`${base}/status`)) as Record<string, any>;
        if (s.sr.pending === 0) break;
        await sleep(500);
      }
      const restRss: number[] = [];
      for (let second = 0; second < (options.restS ?? SETTLE_S); second++) {
        await sleep(1000);
        restRss.push(residentBytes(d.child.pid!));
      }
      return holdings(d, base, expectedFds, restRss);
    };
    // After the warm-up the pushers stop (the pushes in flight land), the daemon rests and warm is
    // read; the rest does not count in the run's time nor in its event-loop windows.
    const warmUpRest = async (): Promise<void> => {
      const restStarted = performance.now();
      restingNow = true;
      while (inFlight > 0) await sleep(50);
      warmAfter = accepted.length;
      warm = await atRest(null);
      say(`warm (after ${warmAfter} pictures, at rest): RSS ${mb(warm.rssBytes)} MB, GPU ${mb(warm.gpuBytes)} MB`);
      await pusher.request({ id: 'resume-after-warm-up', cmd: 'resume' });
      await request(`${base}/test/reset-loop-delay`, 'POST');
      mainSince();
      restingNow = false;
      const rest = performance.now() - restStarted;
      started += rest;
      deadline += rest;
    };
    const workers = Array.from({ length: maxPending }, async () => {
      while (!failed && (pushed < options.images || performance.now() < deadline)) {
        while (resting) await resting;
        const n = pushed++;
        inFlight++;
        await pushOne(n).finally(() => inFlight--);
        if (warm === null && !resting && accepted.length >= warmAt) resting = warmUpRest().finally(() => (resting = null));
        if (performance.now() - lastProgress > 30_000) {
          lastProgress = performance.now();
          const seconds = (lastProgress - started) / 1000;
          say(`${Math.round(seconds)} s: ${accepted.length} accepted (${(accepted.length / seconds).toFixed(2)}/s), RSS ${mb(residentBytes(d.child.pid!))} MB, ` +
            `loop p99 ${loopP99Ms.length ? Math.max(...loopP99Ms.slice(-3)).toFixed(1) : '-'} ms`);
        }
      }
    });
    try {
      await Promise.all(workers.map((worker) => worker.catch((error: Error) => {
        failed = true;
        throw error;
      })));
    } catch (error) {
      sampling = false;
      await Promise.allSettled(workers);
      throw error;
    }
    const seconds = (performance.now() - started) / 1000;
    say(`pushed ${pushed} in ${seconds.toFixed(0)} s; waiting for the daemon to settle...`);

    // The last accepted picture on screen, then the end figures at rest, as warm's were.
    const last = accepted.at(-1);
    if (last) await tracker.wait((m) => m.event === 'preview-shown' && m.id === last, 'the last picture shown', 120_000).catch(() => {});
    sampling = false;
    await sampler;
    // The last stretch of the run too (a short run may have had no full window).
    loopP99Ms.push((JSON.parse(await request(`${base}/status`)) as Record<string, any>).eventLoopDelayMs.p99 as number);
    mainThread.push(mainSince());
    const end = await atRest(cold.fds);
    // The priorities the run had (read at the end: the sweep has lowered every thread by then).
    const threads = threadPriorities(d.child.pid!);
    const others = threads.filter((thread) => thread.tid !== d.child.pid).map((thread) => thread.nice);
    const nice = { main: threads.find((thread) => thread.tid === d.child.pid)?.nice ?? NaN, othersMin: Math.min(...others), othersMax: Math.max(...others) };
    const fdsAtEnd = fdTargets(d.child.pid!);

    // None lost: shown (preview-shown) or listed.
    const shown = new Set(tracker.events.filter((m: Message) => m.event === 'preview-shown').map((m) => m.id as string));
    const listed = new Set(((await pusher.request({ id: 'list', cmd: 'list' })).images as Message[]).map((i) => i.id as string));
    const lost = [...accepted, ...restingPictures].filter((id) => !shown.has(id) && !listed.has(id));
    const previewMs = tracker.events.filter((m) => m.event === 'preview-shown').map((m) => m.ms as number);
    const srMs = tracker.events.filter((m) => m.event === 'sr-done' && m.cache === 'miss').map((m) => m.srMs as number);
    const acceptedSet = new Set([...accepted, ...restingPictures]);
    // Pictures the slideshow showed by itself: the folder's, or a pushed one again.
    const firstShown = new Set<string>();
    let slideshowTurns = 0;
    for (const m of tracker.events) {
      if (m.event !== 'preview-shown') continue;
      if (!acceptedSet.has(m.id) || firstShown.has(m.id)) slideshowTurns++;
      firstShown.add(m.id);
    }

    await sleep(200); // the last events reach every subscriber
    const eventsPerClient = [...eventCounts];
    for (const client of [...subscribers, pusher]) client.ws.close();
    const daemonErrors = d.lines.filter((line) => /level=error/.test(line));
    const exitCode = await d.stop('SIGTERM');
    return {
      screen: `${status.display.width}x${status.display.height}`,
      renderer: String(status.gpu?.renderer ?? '?'),
      model: status.model?.name ?? null,
      nice,
      seconds,
      pushed,
      accepted: accepted.length,
      resting: restingPictures.length,
      busyRetries,
      rateLimitedRetries,
      refused,
      imagesPerSecond: accepted.length / seconds,
      previewMs: percentiles(previewMs),
      srMs: percentiles(srMs),
      srDone: srMs.length,
      slideshowTurns,
      loopP99Ms,
      mainThread,
      cold,
      warm: warm ?? cold,
      warmAfter,
      rssDuring,
      end,
      lost,
      eventsPerClient,
      fdsAtEnd,
      daemonErrors,
      exitCode,
    };
  } finally {
    await d.stop('SIGKILL');
    if (options.daemonLog) writeFileSync(options.daemonLog, `${d.lines.join('\n')}\n${d.stderr}`);
    if (!options.keep) rmSync(dirs.root, { recursive: true, force: true });
  }
}

export const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
