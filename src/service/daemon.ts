// The daemon: wires the data flow together.
//
//   FolderSource ──> images ──> preparePicture (decode, plan, crop/shrink; decoding thread) ──> preview on screen
//        │                                   └──> cache hit? ──> SR thread ──> SR version crossfades in
//        └── slideshow order + interval timer, prefetching the next picture's SR ahead of its turn
//   HTTP (/status, /screen.png, /healthz) · state file · systemd notify + watchdog · schedule
//
// The screen (display thread) and SR (SR thread) run in workers; this thread only decides.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import sharp from 'sharp';
import { sdNotify } from 'node-drm-gbm-egl';
import { isScheduledOn, type DaemonConfig } from './config.js';
import { HttpService, json, text, type Route } from './http.js';
import { createMetrics, type Metrics } from './metrics.js';
import { webRoutes } from './web.js';
import { WebsocketSource } from '../sources/websocket.js';
import { log } from './log.js';
import { StateFile } from './state.js';
import { SrCache, cacheKey, type CacheStats } from './cache.js';
import { EventEmitter } from 'node:events';
import { FolderSource, type FolderFile } from '../sources/folder-source.js';
import { PushStore, type PushedImage } from '../sources/push-store.js';
import { moveToRejected } from '../sources/reject.js';
import { ImageDecodeError } from '../decode/decode.js';
import {
  ControlError, type Accepted, type Controller, type DaemonEvent, type ImageInfo, type ImageSource, type PictureState, type PushOptions,
} from './controller.js';
import type { PreparedPicture, PrepareOptions } from '../plan/prepare.js';
import { PrepareThread } from '../plan/prepare-thread.js';
import { FileChangedWhileRead, FileReader, FileReadTimeout } from '../plan/read-file.js';
import { canvasSize, rectText } from '../plan/placement.js';
import type { PictureSpec } from '../show/compositor.js';
import { renderIdleCard } from '../show/idle-card.js';
import { ScreenThread, type ShownReport } from '../show/screen-thread.js';
import { Slideshow } from '../show/slideshow.js';
import type { RasterImage } from '../sr/model.js';
import { SrCancelled, SrThread, type SrPriority, type SrResult } from '../sr/sr-thread.js';
import type { SrModelChoice } from '../sr/sr-protocol.js';
import { jpegVariantPath } from '../sr/load-model.js';
import { lowerOtherThreads } from './main-thread-first.js';

/** The SR version replaces the preview with a short crossfade (a cut when transitions are cuts). */
const SR_CROSSFADE_MS = 500;
/** /healthz and the watchdog: frames are "being produced" when the last one is this recent (the display thread presents at least once a second). */
const FRAME_STALE_MS = 3000;
const RECENT_TIMINGS = 12;
/** Pushed images being decoded at once, over all clients: a burst cannot exhaust memory. */
const MAX_PUSHES_IN_FLIGHT = 8;
/** Pushes that may wait for room in the push store at once (pushWaitS); one more is busy at once. */
const MAX_PUSHES_WAITING_FOR_ROOM = 8;
const THUMBNAIL_SIZE = 160;
/** Thumbnails kept in memory (about 5 kB each). */
const MAX_THUMBNAILS = 500;
/** Refused files listed in /status (`rejections`), newest first. */
const RECENT_REJECTIONS = 100;

/** An image the daemon knows: a file of the folder, or a pushed image (kept in the state directory). */
interface ImageRecord {
  id: string;
  source: ImageSource;
  name: string;
  path: string;
  /** The path's bytes where a name is not UTF-8 (see FolderFile.rawPath): read through this. */
  rawPath?: Buffer;
  size: number;
  mtimeMs: number;
  /** Times the file was taken (read after it was complete). */
  takes: number;
  /** Why it cannot be shown, until the file changes. */
  rejected: string | null;
  decoded: { width: number; height: number } | null;
  /** Pushed images: their own options. */
  push: PushedImage | null;
}

interface OnScreen {
  id: string;
  token: number;
  prepared: PreparedPicture;
  key: string;
  state: Exclude<PictureState, 'waiting' | 'rejected'>;
  shownAt: number;
  srJobId: number | null;
}

interface Ahead {
  id: string;
  mtimeMs: number;
  prepared: Promise<PreparedPicture>;
  /** The SR version (null when SR is not needed or failed), once known. */
  final: Promise<RasterImage | null>;
  srJobId: number | null;
}

interface Timing {
  id: string;
  takenAt: string;
  decodeMs: number | null;
  /** From the start of the take to the first frame with the picture. */
  previewMs: number | null;
  srMs: number | null;
  /** From the start of the take to the first frame with the SR version. */
  srShownMs: number | null;
  /** ahead: the SR version was made (or read from the cache) before its turn. */
  cache: 'hit' | 'miss' | 'off' | 'ahead';
  steps: number;
  /** Longest frame interval while the picture faded in (preview, then SR version). */
  previewLongestFrameMs: number | null;
  srLongestFrameMs: number | null;
  /** sr-done waits for preview-shown: events keep their documented order even when SR is quicker. */
  pendingSrDone?: DaemonEvent;
}

export class Daemon implements Controller {
  readonly events = new EventEmitter();
  private pausedFlag = false;
  private pushes!: PushStore;
  private pushCount = 0;
  /** Pushes being decoded now (a bound on the memory a burst of pushes can take). */
  private pushesInFlight = 0;
  /** Pushes let in (room reserved in the push store) and not stored yet: their count and bytes. */
  private pushesAdmitted = { count: 0, bytes: 0 };
  /** Pushes waiting for room in the push store (their bytes held), and how to wake them. */
  private pushesWaitingForRoom = 0;
  private readonly roomWaiters = new Set<() => void>();
  private screen!: ScreenThread;
  private sr: SrThread | null = null;
  private srProblem: string | null = null;
  /** When SR worked again after failing (null: it never failed). */
  private srRecoveredAt: string | null = null;
  private cache!: SrCache;
  private source!: FolderSource;
  private http: HttpService | null = null;
  private websocket: WebsocketSource | null = null;
  private metrics: Metrics | null = null;
  private httpAddress: { host: string; port: number } | null = null;
  private readonly state: StateFile;
  private readonly slideshow: Slideshow;
  private readonly images = new Map<string, ImageRecord>();
  private onScreen: OnScreen | null = null;
  private ahead: Ahead | null = null;
  private showToken = 0;
  /** Numbers showImage calls; a picture decoded after a newer one was shown is not shown. */
  private showRequest = 0;
  private lastShownRequest = 0;
  /** showImage calls still decoding. */
  private showsPending = 0;
  /** A new file to show once the decoding ones are done (a burst of files: the latest wins, one decode at a time). */
  private newShowNext: { id: string; why: 'new' | 'changed' } | null = null;
  /** Files refused lately: why, and where they went (rejected/, or left in place). */
  /** Each model in cache keys: its file name and a hash of its content (the JPEG variant's own, so the two never share entries). */
  private readonly modelKeys: Record<SrModelChoice, string> = { main: 'none', jpeg: 'none' };
  /** Resolves once the SR thread is open, or known not to be (it never rejects). */
  private srOpening: Promise<void> = Promise.resolve();
  private readonly rejections: { id: string; source: ImageSource; reason: string; at: string; movedTo: string | null; leftInPlace: string | null }[] = [];
  private slideTimer: NodeJS.Timeout | null = null;
  private srRetryTimer: NodeJS.Timeout | null = null;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly pictureTimings = new Map<number, { timing: Timing; kind: 'preview' | 'final'; started: number }>();
  private readonly recent: Timing[] = [];
  private readonly thumbnails = new Map<string, Buffer>();
  /** A picture id: prefetch the next picture once this one is on screen. */
  private prefetchAfter: number | null = null;
  private readonly srInFlight = new Map<string, { jobId: number; result: Promise<SrResult> }>();
  private readonly counters = { taken: 0, rejected: 0, shown: 0, srDone: 0, srFailed: 0, cacheHits: 0 };
  private scanned = false;
  private scheduledOn = true;
  private offHoursNext: string | null = null;
  private ready = false;
  private stopping = false;
  private readonly startedAt = Date.now();
  private readonly loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  private watchdogWithheld = false;
  /** Pictures' files are read through this: one at a time, with a timeout, never on libuv's pool. */
  private readonly reader = new FileReader();
  /** Pictures are decoded and prepared in a worker: their pixels never pass through this thread's event loop. */
  private readonly preparer = new PrepareThread();
  /** Test hook: pauses before opening a file and between opening and reading it (to replace or delete it meanwhile). */
  private testReadDelays = { beforeOpenMs: 0, afterOpenMs: 0 };
  /** Test hook: added to the wall clock that the schedule reads (a clock jump). Intervals use monotonic timers, never this. */
  private wallClockOffsetMs = 0;

  constructor(private readonly config: DaemonConfig, private readonly version: string) {
    this.state = new StateFile(config.stateDir);
    this.slideshow = new Slideshow(config.order);
  }

  /** Starts everything; resolves once the first frame is on screen. Throws when the screen cannot be opened. */
  async start(): Promise<void> {
    const { config } = this;
    this.loopDelay.enable();
    // The event loop before bulk work: the other threads run at a lower priority, swept now and
    // then for the ones started since (src/service/main-thread-first.ts).
    lowerOtherThreads();
    this.timers.push(setInterval(() => lowerOtherThreads(), 2000));
    this.screen = await ScreenThread.open({
      backend: config.backend, card: config.card ?? undefined, connector: config.connector ?? undefined,
      mode: config.mode ?? undefined, headlessSize: config.size,
    }, config.rotate);
    const opened = this.screen.opened;
    log.info('display.opened', {
      backend: opened.info.backend, mode: opened.info.mode, card: opened.info.card, connector: opened.info.connector,
      rotate: config.rotate, reason: opened.headlessReason ?? undefined,
    });
    log.info('gpu', { renderer: opened.gl.renderer, version: opened.gl.version, maxTexture: opened.gl.maxTextureSize });
    this.screen.on('first-frame', (pictureId, at) => this.onFirstFrame(pictureId, at));
    this.screen.on('shown', (report) => this.onShown(report));
    this.screen.on('error-message', (message) => log.warn('display.error', { message }));
    this.screen.on('screen-lost', (connector) => {
      log.warn('display.disconnected', { connector });
      sdNotify(`STATUS=the screen on ${connector} is disconnected; waiting for it`);
    });
    this.screen.on('screen-back', (back) => {
      log.info('display.reconnected', { connector: back.connector, mode: back.mode, modeBefore: back.modeBefore, note: back.note ?? undefined });
      this.notifyStatus();
      // Another size: the picture on screen is planned and composed again for it.
      if (back.resized && this.onScreen) void this.showImage(this.onScreen.id, 'resume');
    });
    this.screen.on('failed', (message) => {
      log.error('display.failed', { message });
      sdNotify(`STATUS=display failed: ${message}`);
      // Without the screen there is nothing to do: exit and let systemd restart us.
      void this.stop('display-failed').then(() => process.exit(1));
    });

    // Opening SR (compiling the network's shaders, a warm-up job) takes seconds on a Pi: the
    // idle card does not wait for it.
    this.srOpening = this.openSr();
    const [cache, saved] = await Promise.all([
      SrCache.open(config.cacheDir, config.cacheBytes).catch((error: Error) => {
        log.warn('cache.unavailable', { message: error.message });
        return SrCache.open(config.cacheDir, 0);
      }),
      this.state.load(),
      this.startHttp(),
    ]);
    this.cache = cache;
    this.pushes = await PushStore.open(config.stateDir, { maxImages: config.pushMaxImages, maxBytes: config.pushMaxBytes });
    for (const pushed of this.pushes.list()) this.addPushedRecord(pushed);

    // The idle card is the first frame, whatever comes next.
    await this.showIdleCard();
    await this.srOpening;

    this.source = new FolderSource({
      folder: config.folder, recursive: config.recursive, settleMs: config.settleMs,
      log: (event, fields) => (event === 'source.error' ? log.warn(event, fields) : log.info(event, fields)),
    });
    this.source.on('add', (file) => this.onFileReady(file, 'add'));
    this.source.on('change', (file) => this.onFileReady(file, 'change'));
    this.source.on('remove', (id) => this.onFileRemoved(id));
    await this.source.start();
    this.scanned = true;
    log.info('slideshow.ready', { images: this.images.size, folder: config.folder, order: config.order, interval: config.interval });

    if (saved?.slideshow) this.slideshow.restore(saved.slideshow);
    const resume = saved?.current && this.images.has(saved.current) ? saved.current : null;
    if (resume) log.info('state.resumed', { id: resume });
    if (config.schedule) {
      this.checkSchedule();
      this.timers.push(setInterval(() => this.checkSchedule(), 15_000));
    }
    const first = resume ?? this.slideshow.peekNext();
    if (first) void this.showImage(first, resume ? 'resume' : 'slideshow');
  }

  private async openSr(): Promise<void> {
    const { model } = this.config;
    if (model.kind === 'none') {
      this.srProblem = 'off (--model none): pictures are resampled';
      return;
    }
    try {
      // The cache key names the model by its content: a retrained model of the same name
      // must not be served the pictures its predecessor made.
      const keyOf = async (path: string) => `${basename(path)}:${createHash('sha256').update(await readFile(path)).digest('hex').slice(0, 16)}`;
      // X-jpeg.json next to X.json: the variant trained on JPEG-degraded inputs, for JPEG pictures.
      const jpegModelPath = jpegVariantPath(model.path);
      this.modelKeys.main = await keyOf(model.path);
      if (jpegModelPath) this.modelKeys.jpeg = await keyOf(jpegModelPath);
      this.sr = await SrThread.open(model.path, { jpegModelPath });
      if (this.sr.jpegProblem) log.warn('sr.jpeg-variant-unusable', { file: jpegModelPath, message: this.sr.jpegProblem, fallback: `JPEGs use ${this.sr.model}` });
      log.info('sr.ready', {
        model: this.sr.model, jpegVariant: this.sr.jpegModel ?? 'none', engine: this.sr.description, effort: this.config.effort, ms: Math.round(this.sr.readyMs),
      });
      this.sr.onReopened = (engine) => log.info('sr.reopened', { engine });
    } catch (error) {
      this.srProblem = `the SR engine could not start: ${(error as Error).message}`;
      log.error('sr.unavailable', { message: (error as Error).message, fallback: 'resampled pictures' });
    }
  }

  private async startHttp(): Promise<void> {
    const address = this.config.http;
    if (!address) return;
    const routes = new Map<string, Route>([
      ['GET /status', () => json(this.status())],
      ['GET /healthz', () => (this.framesAlive() ? text('ok') : text(`no frame for ${Math.round(this.screen.lastFrameAgeMs())} ms`, 503))],
      ['GET /screen.png', async () => {
        const capture = await this.screen.capture();
        const png = await sharp(Buffer.from(capture.data.buffer, capture.data.byteOffset, capture.data.length), {
          raw: { width: capture.width, height: capture.height, channels: 4 },
        }).removeAlpha().png({ compressionLevel: 3 }).toBuffer();
        return { status: 200, type: 'image/png', body: png };
      }],
      ['GET /thumb.jpg', async (_request, url) => {
        const thumb = await this.thumbnail(url.searchParams.get('image') ?? '');
        return thumb ? { status: 200, type: 'image/jpeg', body: thumb } : json({ error: { code: 'not-found', message: 'no such image, or it does not decode' } }, 404);
      }],
    ]);
    if (process.env.UPREZ_TEST_HOOKS === '1') {
      // Fault injection for the tests only (never enabled by the config).
      routes.set('POST /test/freeze-display', () => {
        log.warn('test.freeze-display');
        this.screen.freeze();
        return text('frozen');
      });
      routes.set('POST /test/slow-frames', async (_request, url) => {
        const ms = Number(url.searchParams.get('ms') ?? 3000);
        const frames = Number(url.searchParams.get('frames') ?? 1);
        log.warn('test.slow-frames', { ms, frames });
        await this.screen.slowFrames(ms, frames); // answered once the first slow frame has started
        return text(`the display thread is in a ${ms} ms frame`);
      });
      routes.set('POST /test/delay-reads', (_request, url) => {
        this.testReadDelays = { beforeOpenMs: Number(url.searchParams.get('beforeOpen') ?? 0), afterOpenMs: Number(url.searchParams.get('afterOpen') ?? 0) };
        return text(`reads pause ${JSON.stringify(this.testReadDelays)}`);
      });
      routes.set('POST /test/clock-offset', (_request, url) => {
        this.wallClockOffsetMs = Number(url.searchParams.get('ms') ?? 0);
        log.warn('test.clock-offset', { ms: this.wallClockOffsetMs });
        this.checkSchedule(); // a real jump is seen at the next check, within 15 s
        return text(`the schedule's clock is ${this.wallClockOffsetMs} ms off`);
      });
      // A bug that escapes every handler: a promise rejected with nobody waiting, or an exception thrown from a timer.
      routes.set('POST /test/escape', (_request, url) => {
        const kind = url.searchParams.get('kind') === 'exception' ? 'exception' : 'rejection';
        log.warn('test.escape', { kind });
        const error = new Error(`test: an escaped ${kind}`);
        if (kind === 'exception') setImmediate(() => { throw error; });
        else void Promise.reject(error);
        return text(`an ${kind} escapes`);
      });
      routes.set('POST /test/reset-loop-delay', () => {
        this.loopDelay.reset();
        return text('reset');
      });
      routes.set('POST /test/fail-sr', (_request, url) => {
        const count = Number(url.searchParams.get('count') ?? 1);
        this.sr?.failNext(count);
        return text(`the next ${count} SR jobs fail`);
      });
      // Breaks the SR engine through GL: its context destroyed, or reopened `count` times with shaders that do not compile.
      routes.set('POST /test/break-sr', (_request, url) => {
        const fault = url.searchParams.get('fault') === 'context' ? 'context' : 'shader';
        const count = Number(url.searchParams.get('count') ?? 1);
        log.warn('test.break-sr', { fault, count });
        this.sr?.breakEngine(fault, count);
        return text(`SR engine broken: ${fault}`);
      });
    }
    // Remote control: the websocket, the web page, Prometheus metrics.
    const { config } = this;
    this.websocket = new WebsocketSource(this, {
      maxMessageBytes: config.maxMessageBytes, maxClients: config.maxClients, maxRequestsPerSecond: config.maxRequestsPerSecond,
      maxPendingPushes: config.maxPendingPushes, idleTimeoutS: config.idleTimeoutS,
    }, log);
    const websocket = this.websocket;
    this.metrics = createMetrics(this, { wsClients: () => websocket.clients });
    routes.set('GET /metrics', this.metrics.route);
    const page = webRoutes();
    for (const [key, route] of page) routes.set(key, route);
    // The page itself and /healthz need no token (the page asks for it; health says nothing).
    const publicRoutes = new Set(['GET /healthz', ...page.keys()]);
    this.http = new HttpService(routes, (message) => log.warn('http.error', { message }), { token: config.token, publicRoutes, log });
    this.http.onUpgrade('/ws', (request, socket, head) => websocket.handleUpgrade(request, socket, head));
    try {
      this.httpAddress = await this.http.listen(address.host, address.port);
    } catch (error) {
      // The screen matters more than the status page: go on without HTTP, loudly.
      log.error('http.unavailable', {
        address: `${address.host}:${address.port}`, message: (error as Error).message,
        advice: 'another program (or another uprez) uses the port: choose another with --http HOST:PORT, or --http off',
      });
      this.http = null;
      return;
    }
    const base = `http://${this.httpAddress.host.includes(':') ? `[${this.httpAddress.host}]` : this.httpAddress.host}:${this.httpAddress.port}`;
    log.info('http.listening', { status: `${base}/status`, screen: `${base}/screen.png`, health: `${base}/healthz` });
  }

  private async showIdleCard(): Promise<void> {
    const canvas = canvasSize({ width: this.screen.width, height: this.screen.height }, this.config.rotate);
    const lines = [
      'waiting for pictures',
      `put images into ${this.config.folder}`,
      this.httpAddress ? `status: http://${this.httpAddress.host}:${this.httpAddress.port}/status` : '',
    ].filter(Boolean);
    const image = await renderIdleCard(canvas, lines);
    const shown = new Promise<void>((resolve) => {
      const pictureId = this.screen.show({ canvas, background: { kind: 'colour', rgb: [0, 0, 0] }, image, target: { x: 0, y: 0, ...canvas } }, 0);
      const onShown = (report: ShownReport) => {
        if (report.pictureId !== pictureId) return;
        this.screen.off('shown', onShown);
        resolve();
      };
      this.screen.on('shown', onShown);
    });
    await shown;
    log.info('frame.shown', { what: 'idle card' });
    if (!this.ready) {
      this.ready = true;
      sdNotify('READY=1');
      this.notifyStatus();
      // systemd's watchdog counts from READY=1: feed it from now on, not after SR has opened
      // (minutes of shader compiles on a Pi without its shader cache) and the folder scan.
      this.startWatchdog();
    }
  }

  // ---- the folder ----

  private onFileReady(file: FolderFile, kind: 'add' | 'change'): void {
    const existing = this.images.get(file.id);
    this.images.set(file.id, {
      id: file.id, source: 'folder', name: file.id, path: file.path, rawPath: file.rawPath, size: file.size, mtimeMs: file.mtimeMs,
      takes: existing?.takes ?? 0, rejected: null, decoded: null, push: null,
    });
    this.slideshow.add({ id: file.id, mtimeMs: file.mtimeMs });
    if (this.ahead?.id === file.id) this.dropAhead();
    if (!this.scanned) return; // the initial scan: the slideshow starts once it is done
    log.info(kind === 'add' ? 'image.seen' : 'image.changed', { id: file.id, bytes: file.size });
    const isCurrent = this.onScreen?.id === file.id;
    if (isCurrent || this.config.onNew === 'show' || !this.onScreen) this.showNew(file.id, kind === 'add' ? 'new' : 'changed');
  }

  /**
   * Shows a new (or changed) file at once, unless a picture is being decoded: then the newest
   * such file waits for that decode. 5,000 files dropped at once decode one after the other,
   * the latest winning, instead of 5,000 decodes at the same time.
   */
  private showNew(id: string, why: 'new' | 'changed'): void {
    if (this.showsPending > 0) {
      this.newShowNext = { id, why };
      return;
    }
    void this.showImage(id, why);
  }

  private decodeSettled(): void {
    this.showsPending--;
    const next = this.newShowNext;
    if (this.showsPending > 0 || !next) return;
    this.newShowNext = null;
    if (this.images.has(next.id)) void this.showImage(next.id, next.why);
  }

  private onFileRemoved(id: string): void {
    if (!this.images.delete(id)) return;
    this.slideshow.remove(id);
    if (this.ahead?.id === id) this.dropAhead();
    // The picture on screen stays there until the next change.
    log.info('image.removed', { id, onScreen: this.onScreen?.id === id });
  }

  // ---- showing a picture ----

  private async take(record: ImageRecord): Promise<PreparedPicture> {
    record.takes++;
    this.counters.taken++;
    log.info('image.taken', { id: record.id, source: record.source, bytes: record.size, takes: record.takes });
    const bytes = await this.readBytes(record);
    if (bytes.length === 0) throw new ImageDecodeError(`${record.name}: the file is empty (0 bytes)`);
    const prepared = await this.prepare(bytes, record.name, record.push?.fit ?? null);
    record.decoded = prepared.decoded;
    return prepared;
  }

  private readBytes(record: ImageRecord): Promise<Buffer> {
    // Pushed pictures are in our own state directory, not on a share that may hang: read them
    // directly (spawning a reader costs the event loop a fork of the whole daemon).
    if (record.source === 'push') return readFile(record.path);
    return this.reader.read(record.rawPath ?? record.path, {
      timeoutMs: this.config.readTimeoutS * 1000, delayBeforeOpenMs: this.testReadDelays.beforeOpenMs, delayAfterOpenMs: this.testReadDelays.afterOpenMs,
      onOpened: this.testReadDelays.afterOpenMs ? () => log.info('test.read-opened', { id: record.id }) : undefined,
    });
  }

  private prepare(bytes: Buffer, label: string, fit: PushedImage['fit']): Promise<PreparedPicture> {
    return this.preparer.prepareMoving(bytes, label, this.prepareOptions(fit)); // `bytes` is empty afterwards
  }

  private prepareOptions(fit: PushedImage['fit']): PrepareOptions {
    const { config } = this;
    return {
      screen: { width: this.screen.width, height: this.screen.height }, fit: fit ?? config.fit, rotate: config.rotate,
      background: config.background, srAvailable: this.sr !== null, maxPixels: config.maxPixels,
    };
  }

  /** JPEG pictures get the model's JPEG variant when there is one; everything else the model itself. */
  private modelFor(prepared: PreparedPicture): SrModelChoice {
    return prepared.format === 'jpeg' && this.sr?.jpegModel ? 'jpeg' : 'main';
  }

  private modelName(choice: SrModelChoice): string | null {
    return (choice === 'jpeg' ? this.sr?.jpegModel : this.sr?.model) ?? null;
  }

  private keyFor(prepared: PreparedPicture): string {
    const { placement } = prepared;
    return cacheKey({
      contentHash: prepared.contentHash, model: this.sr ? this.modelKeys[this.modelFor(prepared)] : 'none', width: placement.target.width, height: placement.target.height,
      fit: prepared.fit, rotate: this.config.rotate,
      // Effort 1 keeps the keys of the entries made before effort existed.
      variant: `steps${placement.srSteps}:${rectText(placement.crop)}${this.config.effort < 1 ? `:effort${this.config.effort}` : ''}`,
    });
  }

  private spec(prepared: PreparedPicture, image: RasterImage): PictureSpec {
    const { placement } = prepared;
    return { canvas: placement.canvas, background: prepared.background, image, target: placement.target };
  }

  /** Shows picture `id`: the preview at once, the SR version when it is ready (or at once from the cache or a prefetch). */
  private async showImage(id: string, why: 'new' | 'changed' | 'slideshow' | 'resume' | 'command' | 'pushed',
    alreadyPrepared?: PreparedPicture, takenAt?: number): Promise<void> {
    const record = this.images.get(id);
    if (!record || this.stopping) return;
    if (!this.scheduledOn) {
      // Off hours: nothing is prepared nor super-resolved; this picture comes first when it is on again.
      this.offHoursNext = id;
      return;
    }
    // Nothing of the picture on screen changes (its SR job, the slide timer, the prefetch) until
    // the new one is decoded: a file that cannot be shown leaves the screen as it was.
    const request = ++this.showRequest;
    const started = takenAt ?? performance.now();
    const timing: Timing = {
      id, takenAt: new Date().toISOString(), decodeMs: null, previewMs: null, srMs: null, srShownMs: null,
      cache: this.cache.stats().maxBytes > 0 ? 'miss' : 'off', steps: 0, previewLongestFrameMs: null, srLongestFrameMs: null,
    };

    // A prefetched picture arrives ready; anything else is taken now.
    const ahead = this.ahead?.id === id && this.ahead.mtimeMs === record.mtimeMs ? this.ahead : null;
    if (ahead) this.ahead = null;
    let prepared: PreparedPicture;
    this.showsPending++;
    try {
      prepared = alreadyPrepared ?? (ahead ? await ahead.prepared : await this.take(record));
    } catch (error) {
      this.decodeSettled();
      if (!ahead) this.refuse(record, error as Error); // a prefetch's failure is refused where it was fetched
      // The slideshow goes on: at once when its turn went to the bad picture, else after the interval.
      if (this.slideTimer === null && this.showsPending === 0) this.scheduleNext(why === 'slideshow' ? 1 : undefined);
      return;
    }
    this.decodeSettled();
    if (request < this.lastShownRequest) return; // a newer picture took its place meanwhile
    this.lastShownRequest = request;
    const token = ++this.showToken;
    this.clearSlideTimer();
    this.prefetchAfter = null;
    if (!ahead) this.dropAhead(); // fetched ahead for nothing: its queued SR job goes
    if (this.onScreen?.srJobId && this.sr) this.sr.cancel(this.onScreen.srJobId);
    timing.decodeMs = Math.round(prepared.decodeMs);
    timing.steps = prepared.placement.srSteps;
    this.emit({ type: 'accepted', id, name: record.name, source: record.source, width: prepared.decoded.width, height: prepared.decoded.height, ms: Math.round(performance.now() - started) });
    if (this.config.explain) log.info('image.plan', { id, plan: prepared.placement.reason });

    this.slideshow.setCurrent(id);
    void this.state.save({ current: id, slideshow: this.slideshow.state() });
    // A push in the first seconds waits for the SR thread to be open (or not): keys and jobs need it.
    await this.srOpening;
    if (token !== this.showToken) return;
    const key = this.keyFor(prepared);
    const needsSr = this.sr !== null && prepared.placement.srSteps > 0;
    const onScreen: OnScreen = { id, token, prepared, key, state: 'preview', shownAt: Date.now(), srJobId: null };
    this.onScreen = onScreen;
    const transitionMs = this.config.transition === 'cut' ? 0 : this.config.transitionMs;

    let final: RasterImage | null = null;
    if (needsSr) {
      final = ahead ? await ahead.final : await this.cache.get(key);
      if (token !== this.showToken) return;
      if (final && ahead) timing.cache = 'ahead';
      if (final && !ahead) {
        timing.cache = 'hit';
        this.counters.cacheHits++;
        log.info('cache.hit', { id });
      }
      if (final) this.emitSrDone(timing, { type: 'sr-done', id, ms: Math.round(performance.now() - started), srMs: 0, cache: 'hit' });
    }
    if (final) {
      onScreen.state = 'super-resolved';
      // Straight from the cache, it is needed nowhere else: its memory moves to the display thread
      // (a prefetched one may still be being written to the cache, so that one is copied).
      const pictureId = this.showPicture(this.spec(prepared, final), transitionMs, timing, 'final', started, !ahead);
      // The next picture is fetched once this one is on screen, not while it is being composed.
      this.prefetchAfter = pictureId;
    } else {
      onScreen.state = needsSr ? 'preview' : 'resampled';
      this.showPicture(this.spec(prepared, prepared.source), transitionMs, timing, 'preview', started);
    }
    this.pushTiming(timing);
    this.notifyStatus();
    // A pushed image may say how long it stays; then the slideshow resumes.
    const durationS = record.push?.durationS;
    this.scheduleNext(durationS ? durationS * 1000 : undefined);

    if (needsSr && !final) await this.superResolve(onScreen, timing, started);
    if (token === this.showToken && this.prefetchAfter === null) this.prefetchNext();
  }

  private showPicture(spec: PictureSpec, transitionMs: number, timing: Timing, kind: 'preview' | 'final', started: number, handOver = false): number {
    const pictureId = this.screen.show(spec, transitionMs, handOver);
    this.pictureTimings.set(pictureId, { timing, kind, started });
    this.counters.shown++;
    return pictureId;
  }

  private async superResolve(onScreen: OnScreen, timing: Timing, started: number): Promise<void> {
    const { prepared, key } = onScreen;
    const job = this.runSr(key, prepared, 'now');
    onScreen.srJobId = job.jobId;
    try {
      const result = await job.result;
      onScreen.srJobId = null;
      timing.srMs = Math.round(result.ms);
      this.counters.srDone++;
      const recovered = this.srProblem !== null;
      if (recovered) {
        log.info('sr.recovered', { id: onScreen.id, failures: this.counters.srFailed, was: this.srProblem });
        this.srProblem = null;
        this.srRecoveredAt = new Date().toISOString();
      }
      log.info('sr.done', {
        id: onScreen.id, ms: timing.srMs, steps: prepared.placement.srSteps, size: `${result.image.width}x${result.image.height}`, model: this.modelName(this.modelFor(prepared)),
      });
      this.emitSrDone(timing, { type: 'sr-done', id: onScreen.id, ms: Math.round(performance.now() - started), srMs: timing.srMs, cache: 'miss' });
      void this.cache.put(key, result.image);
      if (onScreen.token !== this.showToken) return;
      onScreen.state = 'super-resolved';
      this.showPicture(this.spec(prepared, result.image), this.config.transition === 'cut' ? 0 : SR_CROSSFADE_MS, timing, 'final', started);
      this.notifyStatus(recovered ? 'SR works again' : undefined);
    } catch (error) {
      onScreen.srJobId = null;
      if (error instanceof SrCancelled) return;
      this.counters.srFailed++;
      const retryS = this.config.srRetryS;
      this.srProblem = `SR failed: ${(error as Error).message}; showing the resampled picture, retrying in ${retryS} s`;
      log.error('sr.failed', { id: onScreen.id, message: (error as Error).message, fallback: 'resampled picture', retryInS: retryS });
      if (onScreen.token !== this.showToken) return;
      onScreen.state = 'sr-failed';
      this.notifyStatus();
      if (this.srRetryTimer) clearTimeout(this.srRetryTimer);
      this.srRetryTimer = setTimeout(() => {
        this.srRetryTimer = null;
        if (onScreen.token !== this.showToken || onScreen.state !== 'sr-failed') return;
        log.info('sr.retry', { id: onScreen.id });
        void this.superResolve(onScreen, timing, started);
      }, retryS * 1000);
    }
  }

  /**
   * An SR job for this cache key, or the one already running for it: a started job cannot be
   * cancelled, so a picture that comes back while its SR still runs waits for that job.
   */
  private runSr(key: string, prepared: PreparedPicture, priority: SrPriority): { jobId: number; result: Promise<SrResult> } {
    const running = this.srInFlight.get(key);
    if (running) {
      if (priority === 'now') this.sr!.prioritise(running.jobId);
      return running;
    }
    const job = this.sr!.run({ model: this.modelFor(prepared), image: prepared.source, steps: prepared.placement.srSteps, size: prepared.placement.target, effort: this.config.effort, priority });
    this.srInFlight.set(key, job);
    const forget = () => {
      if (this.srInFlight.get(key) === job) this.srInFlight.delete(key);
    };
    job.result.then(forget, forget);
    return job;
  }

  /** Decodes the next picture and runs its SR before its turn, so it arrives super-resolved. */
  private prefetchNext(): void {
    if (this.ahead || !this.scheduledOn) return;
    const id = this.slideshow.peekNext();
    if (!id || id === this.onScreen?.id) return;
    const record = this.images.get(id);
    if (!record || record.rejected) return;
    const prepared = this.take(record);
    const ahead: Ahead = { id, mtimeMs: record.mtimeMs, prepared, final: Promise.resolve(null), srJobId: null };
    ahead.final = prepared.then(async (p) => {
      if (!this.sr || p.placement.srSteps === 0) return null;
      const key = this.keyFor(p);
      const cached = await this.cache.get(key);
      if (cached) {
        this.counters.cacheHits++;
        log.info('cache.hit', { id, ahead: true });
        return cached;
      }
      if (this.ahead !== ahead) return null;
      const job = this.runSr(key, p, 'ahead');
      ahead.srJobId = job.jobId;
      const result = await job.result;
      ahead.srJobId = null;
      this.counters.srDone++;
      log.info('sr.done', { id, ms: Math.round(result.ms), steps: p.placement.srSteps, ahead: true, model: this.modelName(this.modelFor(p)) });
      void this.cache.put(key, result.image);
      return result.image;
    }).catch((error: Error) => {
      if (!(error instanceof SrCancelled)) log.warn('prefetch.failed', { id, message: error.message });
      return null;
    });
    prepared.catch((error: Error) => {
      if (this.ahead === ahead) this.ahead = null;
      this.refuse(record, error);
    });
    this.ahead = ahead;
  }

  private dropAhead(): void {
    if (this.ahead?.srJobId && this.sr) this.sr.cancel(this.ahead.srJobId);
    this.ahead = null;
  }

  /**
   * A picture that could not be taken. A file gone between the watcher's event and the read is
   * forgotten (its unlink follows); anything else is rejected, and a file of the folder whose
   * content is bad (does not decode, over the pixel limit, empty) is moved to rejected/.
   */
  private refuse(record: ImageRecord, error: Error): void {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !(error instanceof ImageDecodeError)) {
      this.slideshow.remove(record.id);
      log.info('image.vanished', { id: record.id, source: record.source, message: 'deleted or renamed before or while it was read; forgotten' });
      return;
    }
    if (error instanceof FileChangedWhileRead) {
      // Not bad, only in motion: the watcher reports the new version once it is complete, and that is shown.
      log.info('image.changed-while-read', { id: record.id, message: error.message, then: 'the new version is taken when the watcher reports it' });
      return;
    }
    if (error instanceof FileReadTimeout) {
      log.warn('image.read-timeout', { id: record.id, timeoutS: this.config.readTimeoutS, message: error.message, then: 'refused until the file changes; the other pictures go on' });
      this.reject(record, new Error(`${record.name}: ${error.message}`));
      return;
    }
    this.reject(record, error);
    if (record.source === 'folder' && error instanceof ImageDecodeError) void this.moveRejected(record, error.message);
  }

  private reject(record: ImageRecord, error: Error): void {
    record.rejected = error.message;
    this.counters.rejected++;
    this.slideshow.remove(record.id);
    log.warn('image.rejected', { id: record.id, source: record.source, reason: error.message });
    this.emit({ type: 'rejected', id: record.id, name: record.name, source: record.source, code: 'bad-image', message: error.message });
  }

  private async moveRejected(record: ImageRecord, reason: string): Promise<void> {
    const entry = { id: record.id, source: record.source, reason, at: new Date().toISOString(), movedTo: null as string | null, leftInPlace: null as string | null };
    this.rejections.unshift(entry);
    this.rejections.length = Math.min(this.rejections.length, RECENT_REJECTIONS);
    const outcome = await moveToRejected(this.config.folder, record.id, record.rawPath ?? record.path, reason);
    if (outcome.moved) {
      entry.movedTo = outcome.to;
      log.info('image.moved-to-rejected', { id: record.id, to: outcome.to, reasonFile: outcome.reasonFile ?? undefined, reasonError: outcome.reasonError });
    } else {
      entry.leftInPlace = `${outcome.code ?? 'error'}: ${outcome.message}`;
      log.warn('image.rejected-in-place', {
        id: record.id, code: outcome.code, message: outcome.message,
        hint: 'the folder cannot be written: the file stays where it is, listed in /status (images[].rejected) until it changes',
      });
    }
  }

  private emit(event: DaemonEvent): void {
    this.events.emit('event', event);
  }

  private emitSrDone(timing: Timing, event: DaemonEvent): void {
    if (timing.previewMs === null) timing.pendingSrDone = event;
    else this.emit(event);
  }

  // ---- remote control (Controller: the websocket, the web page, uprez push) ----

  private addPushedRecord(pushed: PushedImage): ImageRecord {
    const record: ImageRecord = {
      id: pushed.id, source: 'push', name: pushed.name, path: this.pushes.pathOf(pushed.id), size: pushed.bytes,
      mtimeMs: Date.parse(pushed.addedAt), takes: 0, rejected: null, decoded: null, push: pushed,
    };
    this.images.set(pushed.id, record);
    if (pushed.keep) this.slideshow.add({ id: pushed.id, mtimeMs: record.mtimeMs });
    return record;
  }

  async push(bytes: Buffer, options: PushOptions, client: string): Promise<Accepted> {
    if (!this.pushes) throw new ControlError('busy', 'uprez is starting; send the image again in a moment');
    const size = bytes.length; // the bytes move to the decoding thread: `bytes` is empty then
    const name = (options.name ?? '').replace(/[\u0000-\u001f/\\]/g, '_').slice(0, 200) || `pushed-${++this.pushCount}`;
    if (this.pushesInFlight >= MAX_PUSHES_IN_FLIGHT) {
      throw new ControlError('busy', `${MAX_PUSHES_IN_FLIGHT} pushes are being decoded already; wait for their replies and send again`);
    }
    await this.reserveRoom(size);
    try {
      return await this.admittedPush(bytes, name, options, client);
    } finally {
      this.pushesAdmitted.count--;
      this.pushesAdmitted.bytes -= size;
      this.wakeRoomWaiters();
    }
  }

  /**
   * Reserves room in the push store for one more picture of `size` bytes. An accepted picture is
   * shown or kept, never evicted unseen, so while pictures not yet shown fill the store a push
   * waits for one of them to come on screen, up to pushWaitS (its client is answered then: a client
   * pushing faster than the screen shows need not send its bytes again and again), and is busy after.
   */
  private async reserveRoom(size: number): Promise<void> {
    const deadline = performance.now() + this.config.pushWaitS * 1000;
    let waiting = false;
    try {
      for (;;) {
        const room = this.pushes.room(this.pushesAdmitted.count + 1, this.pushesAdmitted.bytes + size);
        if (room.fits) {
          this.pushesAdmitted.count++;
          this.pushesAdmitted.bytes += size;
          return;
        }
        const left = deadline - performance.now();
        if (left <= 0 || this.stopping || (!waiting && this.pushesWaitingForRoom >= MAX_PUSHES_WAITING_FOR_ROOM)) {
          throw new ControlError('busy', `${room.waiting} pushed pictures (${Math.round(room.waitingBytes / 1e6)} MB) still wait for their first turn on screen ` +
            `(pushMaxImages ${this.config.pushMaxImages}, pushMaxBytes ${this.config.pushMaxBytes}); send again once one has been shown (the "shown" event)`);
        }
        if (!waiting) {
          waiting = true;
          this.pushesWaitingForRoom++;
        }
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer);
            this.roomWaiters.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, left);
          this.roomWaiters.add(wake);
        });
      }
    } finally {
      if (waiting) this.pushesWaitingForRoom--;
    }
  }

  /** Room in the push store may have changed (a picture came on screen, was deleted, or a push ended). */
  private wakeRoomWaiters(): void {
    for (const wake of [...this.roomWaiters]) wake();
  }

  private async admittedPush(pushedBytes: Buffer, name: string, options: PushOptions, client: string): Promise<Accepted> {
    this.pushesInFlight++;
    const started = performance.now();
    const size = pushedBytes.length;
    let prepared: PreparedPicture;
    let bytes: Buffer;
    try {
      // Decoded before it is stored: a bad image is refused and changes nothing. The bytes go to
      // the decoding thread and come back with the picture (moved both ways, never copied here).
      ({ prepared, bytes } = await this.preparer.prepareKeepingBytes(pushedBytes, name, this.prepareOptions(options.fit ?? null)));
    } catch (error) {
      const message = (error as Error).message;
      this.counters.rejected++;
      log.warn('image.rejected', { source: 'push', name, client, bytes: size, reason: message });
      this.emit({ type: 'rejected', id: null, name, source: 'push', code: 'bad-image', message });
      throw new ControlError('bad-image', message);
    } finally {
      this.pushesInFlight--;
    }
    const pushed: PushedImage = {
      id: PushStore.newId(), name, bytes: bytes.length, addedAt: new Date().toISOString(), keep: options.keep ?? true,
      fit: options.fit ?? null, durationS: options.durationS ?? null, shownAt: null,
    };
    // The picture on screen is never evicted (a prefetched one may be: forget() drops it).
    const protect = new Set([this.onScreen?.id].filter((id): id is string => Boolean(id)));
    let evicted: string[] = [];
    try {
      evicted = await this.pushes.add(pushed, bytes, protect);
    } catch (error) {
      // Not stored (the disk is full, say): shown now all the same, once, like keep: false.
      pushed.keep = false;
      log.warn('push.not-stored', { id: pushed.id, name, message: (error as Error).message, shown: 'once, not kept in the slideshow' });
    }
    for (const id of evicted) this.forget(id);
    const record = this.addPushedRecord(pushed);
    record.takes++;
    this.counters.taken++;
    record.decoded = prepared.decoded;
    const decodeMs = Math.round(performance.now() - started);
    log.info('image.pushed', { id: pushed.id, name, client, bytes: bytes.length, decoded: `${prepared.decoded.width}x${prepared.decoded.height}`, ms: decodeMs, evicted: evicted.length || undefined });
    void this.showImage(pushed.id, 'pushed', prepared, started);
    return { id: pushed.id, name, width: prepared.decoded.width, height: prepared.decoded.height, decodeMs };
  }

  async show(id: string): Promise<void> {
    const record = this.images.get(id);
    if (!record) throw new ControlError('not-found', `no image with id ${JSON.stringify(id)} (list them with the list command)`);
    if (record.rejected) throw new ControlError('bad-image', record.rejected);
    await this.showImage(id, 'command');
  }

  async next(): Promise<void> {
    const id = this.slideshow.peekNext();
    if (!id) throw new ControlError('not-found', 'the slideshow is empty');
    await this.showImage(id, 'command');
  }

  async prev(): Promise<void> {
    const id = this.slideshow.prev();
    if (!id) throw new ControlError('not-found', 'the slideshow is empty');
    await this.showImage(id, 'command');
  }

  get paused(): boolean {
    return this.pausedFlag;
  }

  pause(): void {
    this.pausedFlag = true;
    this.clearSlideTimer();
    log.info('slideshow.paused');
    this.notifyStatus();
  }

  resume(): void {
    if (!this.pausedFlag) return;
    this.pausedFlag = false;
    log.info('slideshow.resumed');
    this.scheduleNext();
    this.notifyStatus();
  }

  list(): ImageInfo[] {
    const order = new Map(this.slideshow.list().map((slide, index) => [slide.id, index]));
    return [...this.images.values()]
      .sort((a, b) => (order.get(a.id) ?? Infinity) - (order.get(b.id) ?? Infinity) || a.mtimeMs - b.mtimeMs)
      .map((r) => {
        const onScreen = this.onScreen?.id === r.id;
        return {
          id: r.id, source: r.source, name: r.name, bytes: r.size, width: r.decoded?.width ?? null, height: r.decoded?.height ?? null,
          state: r.rejected ? 'rejected' : onScreen ? this.onScreen!.state : 'waiting', onScreen, rejected: r.rejected,
          addedAt: new Date(r.mtimeMs).toISOString(),
        };
      });
  }

  async delete(id: string): Promise<void> {
    const record = this.images.get(id);
    if (!record) throw new ControlError('not-found', `no image with id ${JSON.stringify(id)}`);
    if (record.source !== 'push') throw new ControlError('not-allowed', `${id} is a file of the watched folder: delete the file instead`);
    this.forget(id);
    await this.pushes.delete(id);
    this.wakeRoomWaiters();
    log.info('image.deleted', { id, onScreen: this.onScreen?.id === id });
  }

  /** Forgets an image (the picture on screen stays until the next). */
  private forget(id: string): void {
    this.images.delete(id);
    this.slideshow.remove(id);
    if (this.ahead?.id === id) this.dropAhead();
  }

  /** A small JPEG of an image (the web page's list), made once per image version and kept in memory. */
  async thumbnail(id: string): Promise<Buffer | null> {
    const record = this.images.get(id);
    if (!record || record.rejected) return null;
    const key = `${id}\u0000${record.mtimeMs}\u0000${record.size}`;
    const known = this.thumbnails.get(key);
    if (known) return known;
    try {
      const thumb = await sharp(await this.readBytes(record), { limitInputPixels: this.config.maxPixels }).rotate()
        .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside' }).jpeg({ quality: 75 }).toBuffer();
      if (this.thumbnails.size >= MAX_THUMBNAILS) this.thumbnails.delete(this.thumbnails.keys().next().value!);
      this.thumbnails.set(key, thumb);
      return thumb;
    } catch {
      return null;
    }
  }

  // ---- the slideshow clock ----

  private clearSlideTimer(): void {
    if (this.slideTimer) clearTimeout(this.slideTimer);
    this.slideTimer = null;
  }

  /** The next picture after the interval (or sooner, when the current one could not be shown). */
  private scheduleNext(afterMs = this.config.interval * 1000): void {
    this.clearSlideTimer();
    if (this.pausedFlag) return;
    this.slideTimer = setTimeout(() => {
      this.slideTimer = null;
      if (!this.scheduledOn) return;
      const next = this.slideshow.peekNext();
      if (!next || next === this.onScreen?.id) {
        this.scheduleNext();
        return;
      }
      void this.showImage(next, 'slideshow');
    }, afterMs);
  }

  private checkSchedule(): void {
    const on = isScheduledOn(this.config.schedule, new Date(Date.now() + this.wallClockOffsetMs));
    if (on === this.scheduledOn) return;
    this.scheduledOn = on;
    this.screen.setBlank(!on);
    log.info(on ? 'schedule.on' : 'schedule.off', { schedule: this.config.schedule?.text });
    if (on) {
      const id = this.offHoursNext ?? this.onScreen?.id ?? this.slideshow.peekNext();
      this.offHoursNext = null;
      if (id) void this.showImage(id, 'resume');
    } else {
      this.clearSlideTimer();
      this.dropAhead();
    }
    this.notifyStatus();
  }

  // ---- display events ----

  private onFirstFrame(pictureId: number, at: number): void {
    const entry = this.pictureTimings.get(pictureId);
    if (!entry) return;
    const ms = Math.round(performance.now() - entry.started - (Date.now() - at));
    if (entry.kind === 'preview') entry.timing.previewMs = ms;
    else {
      entry.timing.srShownMs = ms;
      entry.timing.previewMs ??= ms;
    }
    log.info(entry.kind === 'preview' ? 'preview.shown' : 'sr.shown', { id: entry.timing.id, ms });
    if (this.images.get(entry.timing.id)?.source === 'push') {
      this.pushes.markShown(entry.timing.id);
      this.wakeRoomWaiters();
    }
    if (entry.kind === 'preview' || entry.timing.srShownMs === entry.timing.previewMs) {
      this.emit({ type: 'preview-shown', id: entry.timing.id, ms });
      const pending = entry.timing.pendingSrDone;
      entry.timing.pendingSrDone = undefined;
      if (pending) this.emit(pending);
    }
  }

  private onShown(report: ShownReport): void {
    if (report.pictureId === this.prefetchAfter) {
      this.prefetchAfter = null;
      this.prefetchNext();
    }
    const entry = this.pictureTimings.get(report.pictureId);
    if (!entry) return;
    this.pictureTimings.delete(report.pictureId);
    if (entry.kind === 'preview') entry.timing.previewLongestFrameMs = Math.round(report.longestFrameMs);
    else entry.timing.srLongestFrameMs = Math.round(report.longestFrameMs);
    const state = this.onScreen?.id === entry.timing.id ? this.onScreen.state : entry.kind === 'final' ? 'super-resolved' : 'preview';
    // A picture that needs no SR has one version only: the last one, 'final'.
    const version = entry.kind === 'preview' && state === 'resampled' ? 'final' : entry.kind;
    this.emit({ type: 'shown', id: entry.timing.id, ms: Math.round(performance.now() - entry.started), version, state });
    log.info('shown', { id: entry.timing.id, version: entry.kind, frames: report.frames, longestFrameMs: Math.round(report.longestFrameMs), composeMs: Math.round(report.composeMs) });
  }

  private pushTiming(timing: Timing): void {
    this.recent.unshift(timing);
    this.recent.length = Math.min(this.recent.length, RECENT_TIMINGS);
  }

  // ---- systemd, status ----

  private framesAlive(): boolean {
    return this.screen.lastFrameAgeMs() < FRAME_STALE_MS;
  }

  private startWatchdog(): void {
    const usec = Number(process.env.WATCHDOG_USEC ?? 0);
    const pid = process.env.WATCHDOG_PID;
    if (!(usec > 0) || (pid && Number(pid) !== process.pid)) return;
    // Fed only while the display thread presents frames: a hung GPU or flip gets us restarted.
    // Checked often (up to once a second, at least 4 times per WatchdogSec) and fed at once, so a
    // single slow frame (a read-back, a first 4K frame) costs one missed feed, not the process:
    // only a stall of nearly WatchdogSec gets it killed.
    const feed = (): void => {
      if (this.framesAlive()) {
        sdNotify('WATCHDOG=1');
        this.watchdogWithheld = false;
      } else if (!this.watchdogWithheld) {
        this.watchdogWithheld = true;
        log.error('watchdog.withheld', { lastFrameMsAgo: Math.round(this.screen.lastFrameAgeMs()) });
      }
    };
    feed();
    this.timers.push(setInterval(feed, Math.max(100, Math.min(1000, usec / 4000))));
  }

  /** STATUS= for systemctl status: one line (a driver's multi-line log is flattened and cut). */
  private notifyStatus(note?: string): void {
    const what = !this.scheduledOn ? 'screen off (schedule)'
      : this.onScreen ? `showing ${this.onScreen.id} (${this.onScreen.state})` : 'waiting for pictures';
    const extra = this.srProblem && this.sr ? this.srProblem : note;
    const line = `${what}${extra ? `; ${extra}` : ''}`.replace(/\s+/g, ' ');
    sdNotify(`STATUS=${line.length > 300 ? `${line.slice(0, 299)}…` : line}`);
  }

  status(): Record<string, unknown> {
    const opened = this.screen.opened;
    const cache: CacheStats = this.cache?.stats();
    const current = this.onScreen;
    const record = current ? this.images.get(current.id) : undefined;
    return {
      version: this.version,
      uptimeS: Math.round((Date.now() - this.startedAt) / 1000),
      display: {
        backend: opened.info.backend, mode: opened.info.mode, card: opened.info.card ?? null, connector: opened.info.connector ?? null,
        width: opened.width, height: opened.height, refreshHz: opened.refreshHz, rotate: this.config.rotate,
        headlessReason: opened.headlessReason, framesPresented: this.screen.framesPresented(),
        lastFrameMsAgo: Math.round(this.screen.lastFrameAgeMs()), on: this.scheduledOn,
      },
      gpu: opened.gl,
      model: this.sr ? { name: this.sr.model, engine: this.sr.description, jpegVariant: this.sr.jpegModel } : null,
      sr: {
        available: this.sr !== null, working: this.sr !== null && this.srProblem === null, pending: this.sr?.pending ?? 0, effort: this.config.effort,
        problem: this.srProblem, failures: this.counters.srFailed, recoveredAt: this.srRecoveredAt,
      },
      paused: this.pausedFlag,
      current: current ? {
        id: current.id, source: record?.source ?? null, name: record?.name ?? null, path: record?.path ?? null, state: current.state,
        decoded: current.prepared.decoded, format: current.prepared.format, steps: current.prepared.placement.srSteps,
        model: current.prepared.placement.srSteps > 0 ? this.modelName(this.modelFor(current.prepared)) : null,
        plan: current.prepared.placement.reason, shownAt: new Date(current.shownAt).toISOString(),
      } : null,
      queue: {
        images: this.slideshow.size, order: this.config.order, intervalS: this.config.interval, next: this.slideshow.peekNext(),
        ahead: this.ahead?.id ?? null, folder: this.config.folder, paused: this.pausedFlag,
        pushed: this.pushes?.list().length ?? 0,
      },
      counters: { ...this.counters },
      images: [...this.images.values()].slice(0, 1000).map((r) => ({ id: r.id, source: r.source, bytes: r.size, takes: r.takes, rejected: r.rejected })),
      rejections: this.rejections,
      recent: this.recent.map(({ pendingSrDone: _pending, ...timing }) => timing),
      cache,
      eventLoopDelayMs: { p50: this.loopDelay.percentile(50) / 1e6, p99: this.loopDelay.percentile(99) / 1e6, max: this.loopDelay.max / 1e6 },
      memory: { rssMB: Math.round(process.memoryUsage().rss / 1e6) },
    };
  }

  /**
   * Stops: at once when nothing is in flight; otherwise once the frame in flight is done (a 4K
   * composition takes seconds on a loaded Pi), the rest of a crossfade skipped, at most
   * SCREEN_CLOSE_TIMEOUT_MS (src/show/screen-thread.ts). The display thread restores the CRTC it
   * found. src/cli/run.ts waits for this, up to 15 s.
   */
  async stop(signal: string): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.wakeRoomWaiters(); // pushes waiting for room are answered busy now
    sdNotify('STOPPING=1');
    this.clearSlideTimer();
    if (this.srRetryTimer) clearTimeout(this.srRetryTimer);
    for (const timer of this.timers) clearInterval(timer);
    this.metrics?.close();
    await Promise.allSettled([
      this.source?.close(),
      this.websocket?.close(),
      this.http?.close(),
      this.sr?.close(),
      this.screen?.close().then((outcome) => {
        if (outcome === 'closed') log.info('display.closed', { backend: this.screen.opened.info.backend });
        else log.warn('display.closed', { backend: this.screen.opened.info.backend, outcome, message: 'the display thread did not give the screen back' });
      }),
      this.preparer.close(),
    ]);
    this.loopDelay.disable();
    log.info('stopped', { signal });
  }
}
