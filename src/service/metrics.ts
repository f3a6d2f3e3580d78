// GET /metrics: what a Prometheus server scrapes from each screen of a signage fleet, in the
// Prometheus text format (prom-client, on a registry of our own, never the global one).
// Counters and histograms follow the daemon's events (controller.events: DaemonEvent); the
// cache, websocket, event-loop and screen figures are read from controller.status() at scrape
// time, so they are never stale; the GPU memory from the GL binding's own count. prom-client's default process metrics (CPU, memory, GC, event
// loop lag, handles) come along.
import { gpuMemory } from 'node-drm-gbm-egl';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Controller, DaemonEvent } from './controller.js';
import type { Route } from './http.js';

export interface MetricsExtra {
  /** Websocket connections open now. */
  wsClients(): number;
}

export interface Metrics {
  /** The `GET /metrics` route. */
  route: Route;
  registry: Registry;
  /** Stops following the controller's events. */
  close(): void;
}

/** SR on llvmpipe or a Pi: from tens of milliseconds (small, x2) to a minute (4K, x4). */
const SR_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64];
/** Taking a picture to its first frame: decode + plan + upload + transition start. */
const PREVIEW_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16];

/** A number at `path` in the status object, or null when it is not there (e.g. no cache). */
function numberAt(value: unknown, ...path: string[]): number | null {
  let node = value;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return null;
    node = (node as Record<string, unknown>)[key];
  }
  return typeof node === 'number' && Number.isFinite(node) ? node : null;
}

export function createMetrics(controller: Controller, extra: MetricsExtra): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // One status() per scrape, shared by every collect() of that scrape.
  let snapshot: { at: number; status: Record<string, unknown> } | null = null;
  const status = (): Record<string, unknown> => {
    const now = Date.now();
    if (!snapshot || now - snapshot.at > 100) snapshot = { at: now, status: controller.status() };
    return snapshot.status;
  };
  /** A gauge whose value is read from status() when scraped; absent values leave it unset. */
  const statusGauge = (name: string, help: string, read: (s: Record<string, unknown>) => number | null) =>
    new Gauge({
      name, help, registers: [registry],
      collect() {
        const value = read(status());
        if (value === null) this.reset();
        else this.set(value);
      },
    });
  /** A counter kept by the daemon itself (status().counters, cache stats): exposed as it is. */
  const statusCounter = (name: string, help: string, read: (s: Record<string, unknown>) => number | null) =>
    new Counter({
      name, help, registers: [registry],
      collect() {
        this.reset();
        const value = read(status());
        if (value !== null && value > 0) this.inc(value);
      },
    });

  const shown = new Counter({ name: 'uprez_images_shown_total', help: 'Pictures put on the screen (each time one is shown: its first frame)', registers: [registry] });
  const accepted = new Counter({ name: 'uprez_images_accepted_total', help: 'Images decoded and queued, by source (folder, push)', labelNames: ['source'], registers: [registry] });
  const rejected = new Counter({ name: 'uprez_images_rejected_total', help: 'Images refused, by reason code (bad-image, busy, ...)', labelNames: ['reason', 'source'], registers: [registry] });
  const srSeconds = new Histogram({ name: 'uprez_sr_seconds', help: 'Super-resolution time of a picture on the SR thread (cache misses only)', buckets: SR_BUCKETS, registers: [registry] });
  const srResults = new Counter({ name: 'uprez_sr_results_total', help: 'SR versions ready for the screen, by where they came from (cache hit or computed: miss)', labelNames: ['cache'], registers: [registry] });
  const previewSeconds = new Histogram({ name: 'uprez_preview_seconds', help: 'From taking a picture to its first frame on screen', buckets: PREVIEW_BUCKETS, registers: [registry] });
  for (const source of ['folder', 'push']) accepted.inc({ source }, 0);
  srResults.inc({ cache: 'hit' }, 0);
  srResults.inc({ cache: 'miss' }, 0);

  statusCounter('uprez_cache_hits_total', 'SR cache hits (SR versions read from the disk cache)', (s) => numberAt(s, 'cache', 'hits'));
  statusCounter('uprez_cache_misses_total', 'SR cache misses', (s) => numberAt(s, 'cache', 'misses'));
  statusGauge('uprez_cache_bytes', 'Bytes of SR results in the disk cache', (s) => numberAt(s, 'cache', 'bytes'));
  statusGauge('uprez_cache_max_bytes', 'The disk cache\'s size limit in bytes', (s) => numberAt(s, 'cache', 'maxBytes'));
  statusGauge('uprez_cache_entries', 'SR results in the disk cache', (s) => numberAt(s, 'cache', 'entries'));
  statusCounter('uprez_sr_failed_total', 'SR jobs that failed (the resampled preview stayed)', (s) => numberAt(s, 'counters', 'srFailed'));
  statusGauge('uprez_sr_pending', 'SR jobs queued or running', (s) => numberAt(s, 'sr', 'pending'));
  statusCounter('uprez_frames_presented_total', 'Frames presented on the screen', (s) => numberAt(s, 'display', 'framesPresented'));
  statusGauge('uprez_last_frame_age_seconds', 'Time since the last frame was presented', (s) => {
    const ms = numberAt(s, 'display', 'lastFrameMsAgo');
    return ms === null ? null : ms / 1000;
  });
  statusGauge('uprez_slideshow_images', 'Pictures in the slideshow', (s) => numberAt(s, 'queue', 'images'));
  statusGauge('uprez_paused', '1 while the slideshow is paused', () => (controller.paused ? 1 : 0));
  statusGauge('uprez_event_loop_delay_p99_seconds', 'Main thread event-loop delay, 99th percentile', (s) => {
    const ms = numberAt(s, 'eventLoopDelayMs', 'p99');
    return ms === null ? null : ms / 1000;
  });
  new Gauge({
    // Counted by the GL binding for every thread's context (on llvmpipe, also part of the RSS).
    name: 'uprez_gpu_memory_bytes', help: 'GPU memory the process holds in textures, renderbuffers and buffers, by kind (window-system buffers not included)',
    labelNames: ['kind'], registers: [registry],
    collect() {
      const memory = gpuMemory();
      this.set({ kind: 'texture' }, memory.textureBytes);
      this.set({ kind: 'renderbuffer' }, memory.renderbufferBytes);
      this.set({ kind: 'buffer' }, memory.bufferBytes);
    },
  });
  new Gauge({
    name: 'uprez_websocket_clients', help: 'Websocket connections open now', registers: [registry],
    collect() {
      this.set(extra.wsClients());
    },
  });

  const onEvent = (event: DaemonEvent): void => {
    switch (event.type) {
      case 'accepted':
        accepted.inc({ source: event.source });
        break;
      case 'rejected':
        rejected.inc({ reason: event.code, source: event.source });
        break;
      case 'preview-shown':
        shown.inc();
        previewSeconds.observe(event.ms / 1000);
        break;
      case 'sr-done':
        srResults.inc({ cache: event.cache });
        if (event.cache === 'miss') srSeconds.observe(event.srMs / 1000);
        break;
      case 'shown':
        break;
    }
  };
  controller.events.on('event', onEvent);

  const route: Route = async () => {
    snapshot = null;
    const body = await registry.metrics();
    return { status: 200, type: registry.contentType, body };
  };
  return {
    route,
    registry,
    close: () => {
      controller.events.off('event', onEvent);
    },
  };
}
