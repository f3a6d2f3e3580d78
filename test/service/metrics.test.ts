// /metrics from createMetrics: a fake Controller (events from an EventEmitter, fixed status())
// and the Prometheus text output read back line by line.
import t from 'tap';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Controller, DaemonEvent } from '../../src/service/controller.js';
import { createMetrics } from '../../src/service/metrics.js';

function fakeController(status: Record<string, unknown>): Controller & { emitEvent(e: DaemonEvent): void } {
  const events = new EventEmitter();
  return {
    events,
    paused: false,
    emitEvent: (e) => void events.emit('event', e),
    push: async () => { throw new Error('not used'); },
    show: async () => {},
    next: async () => {},
    prev: async () => {},
    pause: () => {},
    resume: () => {},
    list: () => [],
    delete: async () => {},
    status: () => status,
  };
}

/** name{labels} -> value, from the text format (comments skipped). */
function samples(text: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    map.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return map;
}

async function scrape(route: ReturnType<typeof createMetrics>['route']) {
  const reply = await route({} as IncomingMessage, new URL('http://localhost/metrics'));
  return { reply, text: String(reply.body) };
}

t.test('every metric with its value after events', async (t) => {
  let ws = 3;
  const status: Record<string, unknown> = {
    display: { framesPresented: 1234, lastFrameMsAgo: 250 },
    sr: { pending: 2 },
    queue: { images: 7 },
    counters: { srFailed: 1 },
    cache: { entries: 5, bytes: 123456, maxBytes: 1000000, hits: 9, misses: 4 },
    eventLoopDelayMs: { p50: 1.2, p99: 42, max: 80 },
  };
  const controller = fakeController(status);
  const metrics = createMetrics(controller, { wsClients: () => ws });
  t.teardown(() => metrics.close());

  controller.emitEvent({ type: 'accepted', id: 'a', name: 'a.jpg', source: 'push', width: 10, height: 10, ms: 12 });
  controller.emitEvent({ type: 'accepted', id: 'b', name: 'b.jpg', source: 'folder', width: 10, height: 10, ms: 12 });
  controller.emitEvent({ type: 'rejected', id: null, name: 'x.jpg', source: 'push', code: 'bad-image', message: 'no' });
  controller.emitEvent({ type: 'rejected', id: null, name: 'y.jpg', source: 'push', code: 'bad-image', message: 'no' });
  controller.emitEvent({ type: 'rejected', id: null, name: 'z.jpg', source: 'push', code: 'busy', message: 'wait' });
  controller.emitEvent({ type: 'preview-shown', id: 'a', ms: 80 });
  controller.emitEvent({ type: 'preview-shown', id: 'b', ms: 300 });
  controller.emitEvent({ type: 'sr-done', id: 'a', ms: 900, srMs: 700, cache: 'miss' });
  controller.emitEvent({ type: 'sr-done', id: 'b', ms: 310, srMs: 0, cache: 'hit' });
  controller.emitEvent({ type: 'shown', id: 'a', ms: 1500, version: 'final', state: 'super-resolved' });

  const { reply, text } = await scrape(metrics.route);
  t.equal(reply.status, 200);
  t.match(reply.type, /^text\/plain; version=0\.0\.4/);
  const s = samples(text);
  const expect: [string, number][] = [
    ['uprez_images_shown_total', 2],
    ['uprez_images_accepted_total{source="push"}', 1],
    ['uprez_images_accepted_total{source="folder"}', 1],
    ['uprez_images_rejected_total{reason="bad-image",source="push"}', 2],
    ['uprez_images_rejected_total{reason="busy",source="push"}', 1],
    ['uprez_sr_seconds_count', 1],
    ['uprez_sr_seconds_sum', 0.7],
    ['uprez_sr_seconds_bucket{le="0.5"}', 0],
    ['uprez_sr_seconds_bucket{le="1"}', 1],
    ['uprez_sr_results_total{cache="hit"}', 1],
    ['uprez_sr_results_total{cache="miss"}', 1],
    ['uprez_preview_seconds_count', 2],
    ['uprez_preview_seconds_sum', 0.38],
    ['uprez_preview_seconds_bucket{le="0.1"}', 1],
    ['uprez_preview_seconds_bucket{le="0.25"}', 1],
    ['uprez_preview_seconds_bucket{le="0.5"}', 2],
    ['uprez_cache_hits_total', 9],
    ['uprez_cache_misses_total', 4],
    ['uprez_cache_bytes', 123456],
    ['uprez_cache_max_bytes', 1000000],
    ['uprez_cache_entries', 5],
    ['uprez_sr_failed_total', 1],
    ['uprez_sr_pending', 2],
    ['uprez_frames_presented_total', 1234],
    ['uprez_last_frame_age_seconds', 0.25],
    ['uprez_slideshow_images', 7],
    ['uprez_paused', 0],
    ['uprez_event_loop_delay_p99_seconds', 0.042],
    ['uprez_websocket_clients', 3],
  ];
  for (const [name, value] of expect) t.equal(s.get(name), value, name);
  t.match(text, /# TYPE uprez_sr_seconds histogram/);
  t.match(text, /# TYPE uprez_cache_hits_total counter/);
  t.match(text, /# TYPE uprez_cache_bytes gauge/);
  t.match(text, /# HELP uprez_images_rejected_total /);
  // prom-client's default process metrics are there too.
  t.ok([...s.keys()].some((k) => k.startsWith('process_cpu_user_seconds_total')), 'process CPU');
  t.ok([...s.keys()].some((k) => k.startsWith('nodejs_eventloop_lag_p99_seconds')), 'event loop lag');
  t.ok([...s.keys()].some((k) => k.startsWith('process_resident_memory_bytes') || k.startsWith('nodejs_heap_size_used_bytes')), 'memory');

  // Read at scrape time: new numbers show at the next scrape.
  ws = 0;
  (status.cache as Record<string, number>).bytes = 99;
  (status.cache as Record<string, number>).hits = 10;
  (status.eventLoopDelayMs as Record<string, number>).p99 = 5;
  controller.emitEvent({ type: 'preview-shown', id: 'c', ms: 50 });
  const again = samples((await scrape(metrics.route)).text);
  t.equal(again.get('uprez_websocket_clients'), 0);
  t.equal(again.get('uprez_cache_bytes'), 99);
  t.equal(again.get('uprez_cache_hits_total'), 10);
  t.equal(again.get('uprez_event_loop_delay_p99_seconds'), 0.005);
  t.equal(again.get('uprez_images_shown_total'), 3);
});

t.test('no cache, no events: zeroes, not errors; its own registry', async (t) => {
  const controller = fakeController({ eventLoopDelayMs: { p99: 1 } });
  const first = createMetrics(controller, { wsClients: () => 0 });
  const second = createMetrics(controller, { wsClients: () => 1 });
  t.teardown(() => { first.close(); second.close(); });
  t.not(first.registry, second.registry, 'a registry each (two daemons in one process do not clash)');
  const s = samples((await scrape(first.route)).text);
  t.equal(s.get('uprez_images_shown_total'), 0);
  t.equal(s.get('uprez_sr_seconds_count'), 0);
  t.equal(s.get('uprez_images_accepted_total{source="push"}'), 0);
  t.equal(s.get('uprez_cache_hits_total'), 0);
  t.equal(s.get('uprez_cache_bytes'), 0, 'no cache: 0 bytes');
  t.equal(s.get('uprez_websocket_clients'), 0);
  t.equal(samples((await scrape(second.route)).text).get('uprez_websocket_clients'), 1);
  // After close() the events no longer count.
  first.close();
  controller.events.emit('event', { type: 'preview-shown', id: 'x', ms: 1 } satisfies DaemonEvent);
  t.equal(samples((await scrape(first.route)).text).get('uprez_images_shown_total'), 0);
  t.equal(samples((await scrape(second.route)).text).get('uprez_images_shown_total'), 1);
});
