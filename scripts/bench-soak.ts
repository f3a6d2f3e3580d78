// npm run bench:soak: the daemon under a long stream of pushes (test/load/soak-run.ts does the
// work; test/load/soak.test.ts is its short version). Headless at 3840x2160 by default: 2,000
// pictures of mixed sizes and formats pushed as fast as the daemon takes them, for at least 10
// minutes, a slideshow running, 20 websocket clients subscribed. Prints a table; exits 1 when a
// goal is missed (event-loop p99 under 50 ms in every window, RSS and GPU memory growth under
// 30 MB from the warm-up to the end, the same fds, none lost).
// Usage: npm run bench:soak [-- --size WxH --images N --minutes M --clients N --interval S --pool N --rest S --client-nice N --model M --malloc jemalloc|glibc --keep
//   --daemon-log FILE]
// Profiling the daemon: UPREZ_DAEMON_NODE_FLAGS="--cpu-prof --cpu-prof-dir=DIR" (and --trace-gc, whose lines --daemon-log keeps).
// Trying jemalloc's settings: UPREZ_SOAK_MALLOC_CONF (default background_thread:true, as the unit).
import { parseArgs } from 'node:util';
import { mb, runSoak } from '../test/load/soak-run.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '3840x2160' },
    images: { type: 'string', default: '2000' },
    minutes: { type: 'string', default: '10' },
    clients: { type: 'string', default: '20' },
    interval: { type: 'string', default: '2' },
    pool: { type: 'string', default: '36' },
    sample: { type: 'string', default: '10' },
    // Seconds the daemon rests before warm and end are read: jemalloc's background thread gives
    // back what was freed over about 15 s.
    rest: { type: 'string', default: '20' },
    // The benchmark's own priority (its pushers and subscribers).
    'client-nice': { type: 'string', default: '5' },
    keep: { type: 'boolean', default: false },
    'daemon-log': { type: 'string' },
    model: { type: 'string' },
    // The daemon's allocator: jemalloc as the systemd unit and npm start run it (with its background thread), or glibc's.
    malloc: { type: 'string', default: 'jemalloc' },
  },
});

const report = await runSoak({
  size: values.size!, images: Number(values.images), minutes: Number(values.minutes), clients: Number(values.clients),
  intervalS: Number(values.interval), poolSize: Number(values.pool), sampleS: Number(values.sample), keep: values.keep,
  model: values.model, daemonLog: values['daemon-log'], restS: Number(values.rest), clientNice: Number(values['client-nice']),
  env: values.malloc === 'jemalloc' ? { LD_PRELOAD: 'libjemalloc.so.2', MALLOC_CONF: process.env.UPREZ_SOAK_MALLOC_CONF ?? 'background_thread:true' } : {},
  progress: (line) => process.stderr.write(`${line}\n`),
});

const GOAL_LOOP_MS = 50;
const GOAL_GROWTH_BYTES = 30e6;
const loopWorst = Math.max(...report.loopP99Ms);
const rssGrowth = report.end.rssBytes - report.warm.rssBytes;
// RSS while it works, after the warm-up: the median of the first and of the last third of the
// windows shows whether it plateaus (warm and end are at rest, these are not).
const during = report.rssDuring;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
const third = Math.max(1, Math.floor(during.length / 3));
const gpuGrowth = report.end.gpuBytes - report.warm.gpuBytes;
const rows: [string, string, string, boolean | null][] = [
  ['pictures pushed / accepted', `${report.pushed} / ${report.accepted} (and ${report.resting} before the rests; ${report.busyRetries} busy and ${report.rateLimitedRetries} rate-limited retries, ${report.refused.length} refused)`, '', null],
  ['images per second', report.imagesPerSecond.toFixed(2), '', null],
  ['preview ms p50 / p90 / p99 / max', `${report.previewMs.p50} / ${report.previewMs.p90} / ${report.previewMs.p99} / ${report.previewMs.max} (${report.previewMs.count})`, '', null],
  ['SR ms p50 / p90 / p99 / max (jobs)', `${report.srMs.p50} / ${report.srMs.p90} / ${report.srMs.p99} / ${report.srMs.max} (${report.srDone})`, '', null],
  ['slideshow turns', String(report.slideshowTurns), '', null],
  ['event-loop p99 ms, worst window', `${loopWorst.toFixed(1)} (${report.loopP99Ms.length} windows of ${values.sample} s, median ${[...report.loopP99Ms].sort((a, b) => a - b)[Math.floor(report.loopP99Ms.length / 2)]?.toFixed(1)})`, `< ${GOAL_LOOP_MS}`, loopWorst < GOAL_LOOP_MS],
  ['event-loop p99 ms in each window, in order', report.loopP99Ms.map((ms) => ms.toFixed(0)).join(' '), '', null],
  // Why a window was slow: the main thread's own work, its wait for a CPU, or its page faults.
  ['main thread per window: CPU ms / waiting for a CPU ms / minor faults (first 6; median)',
    `${report.mainThread.slice(0, 6).map((w) => `${w.cpuMs.toFixed(0)}/${w.waitMs.toFixed(0)}/${w.minorFaults}`).join(' ')}; ` +
    `${median(report.mainThread.map((w) => w.cpuMs)).toFixed(0)}/${median(report.mainThread.map((w) => w.waitMs)).toFixed(0)}/${median(report.mainThread.map((w) => w.minorFaults))}`, '', null],
  ['RSS MB cold / warm / end', `${mb(report.cold.rssBytes)} / ${mb(report.warm.rssBytes)} / ${mb(report.end.rssBytes)} (growth ${mb(rssGrowth)})`, 'growth < 30', rssGrowth < GOAL_GROWTH_BYTES],
  ['RSS MB anonymous + file-backed, cold / warm / end', `${mb(report.cold.anonBytes)}+${mb(report.cold.fileBytes)} / ${mb(report.warm.anonBytes)}+${mb(report.warm.fileBytes)} / ${mb(report.end.anonBytes)}+${mb(report.end.fileBytes)}`, '', null],
  ['RSS MB each second at rest, warm; end', `${report.warm.restRssBytes.map(mb).join(' ')}; ${report.end.restRssBytes.map(mb).join(' ')}`, '', null],
  ['RSS MB while working: min / median / max; median of the first / last third', during.length === 0 ? '-'
    : `${mb(Math.min(...during))} / ${mb(median(during))} / ${mb(Math.max(...during))}; ${mb(median(during.slice(0, third)))} / ${mb(median(during.slice(-third)))} (${during.length} samples)`, '', null],
  ['main thread JS heap / external MB, cold / warm / end', `${mb(report.cold.heapBytes)}+${mb(report.cold.externalBytes)} / ${mb(report.warm.heapBytes)}+${mb(report.warm.externalBytes)} / ${mb(report.end.heapBytes)}+${mb(report.end.externalBytes)}`, '', null],
  ['GPU MB cold / warm / end', `${mb(report.cold.gpuBytes)} / ${mb(report.warm.gpuBytes)} / ${mb(report.end.gpuBytes)} (growth ${mb(gpuGrowth)})`, 'growth < 30', gpuGrowth < GOAL_GROWTH_BYTES],
  ['open fds start / end', `${report.cold.fds} / ${report.end.fds}`, 'equal', report.cold.fds === report.end.fds],
  ['accepted but lost', String(report.lost.length), '0', report.lost.length === 0],
  ['events per client', `${Math.min(...report.eventsPerClient)}..${Math.max(...report.eventsPerClient)}`, 'all equal', Math.min(...report.eventsPerClient) === Math.max(...report.eventsPerClient)],
  ['daemon error lines / exit', `${report.daemonErrors.length} / ${report.exitCode}`, '0 / 0', report.daemonErrors.length === 0 && report.exitCode === 0],
];
process.stdout.write(`uprez soak: headless ${report.screen}, model ${report.model ?? 'none'}, malloc ${values.malloc}, ${report.renderer}, ${report.seconds.toFixed(0)} s, ` +
  `${values.clients} subscribers, slideshow interval ${values.interval} s, the daemon's main thread at nice ${report.nice.main} and its others at ` +
  `${report.nice.othersMin}-${report.nice.othersMax}, the soak at ${values['client-nice']}. GPU memory is what the GL binding holds in textures, ` +
  `renderbuffers and buffers (on llvmpipe it is also part of the RSS); warm = after ${report.warmAfter} pictures (the pool once, or 5% of them), ` +
  `warm and end read at rest (last picture shown, SR idle, slideshow paused, ${values.rest} s).\n\n`);
process.stdout.write('| figure | value | goal | met |\n|---|---|---|---|\n');
for (const [name, value, goal, met] of rows) process.stdout.write(`| ${name} | ${value} | ${goal} | ${met === null ? '' : met ? 'yes' : 'NO'} |\n`);
if (report.lost.length > 0) process.stdout.write(`\nlost: ${report.lost.join(' ')}\n`);
if (report.cold.fds !== report.end.fds) process.stdout.write(`\nfds at the end: ${report.fdsAtEnd.join(' ')}\n`);
if (report.daemonErrors.length > 0) process.stdout.write(`\ndaemon errors:\n${report.daemonErrors.slice(0, 20).join('\n')}\n`);
process.exitCode = rows.every(([, , , met]) => met !== false) ? 0 : 1;
