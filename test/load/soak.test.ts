// The short soak (test/load/soak-run.ts; the long one is `npm run bench:soak`): 100 pushed
// pictures of mixed sizes and formats into the real daemon (headless, small screen), as fast as it
// takes them, with a slideshow running and 4 websocket clients subscribed. It asserts what must
// hold whatever the machine's speed: none lost, the same fds at the end, every subscriber got every
// event, no crash. The figures are printed, never asserted (timing belongs to the benchmark).
import t from 'tap';
import { mb, runSoak } from './soak-run.js';

t.test('100 pushes under load: none lost, fds back where they were, no crash', async (t) => {
  const report = await runSoak({ size: '640x360', images: 100, minutes: 0, clients: 4, intervalS: 1, poolSize: 12, sampleS: 2 });
  t.comment(`${report.accepted} accepted in ${report.seconds.toFixed(1)} s (${report.imagesPerSecond.toFixed(2)}/s), ` +
    `${report.busyRetries} busy retries; preview p50/p90/p99 ${report.previewMs.p50}/${report.previewMs.p90}/${report.previewMs.p99} ms; ` +
    `SR (${report.srDone}) p50/p90/p99 ${report.srMs.p50}/${report.srMs.p90}/${report.srMs.p99} ms; ` +
    `loop p99 max ${Math.max(...report.loopP99Ms).toFixed(1)} ms; RSS ${mb(report.cold.rssBytes)}/${mb(report.warm.rssBytes)}/${mb(report.end.rssBytes)} MB ` +
    `(cold/warm/end); GPU ${mb(report.warm.gpuBytes)}/${mb(report.end.gpuBytes)} MB; fds ${report.cold.fds}/${report.end.fds}`);
  t.equal(report.pushed, 100, '100 pictures pushed');
  t.same(report.refused, [], 'none refused (each is a valid picture)');
  t.equal(report.accepted, 100, 'every push accepted in the end (busy ones sent again)');
  t.same(report.lost, [], 'every accepted picture was shown or is listed');
  t.equal(report.end.fds, report.cold.fds, `the same open fds at the end (${report.end.fds}) as at the start${report.end.fds !== report.cold.fds ? `: ${report.fdsAtEnd.join(' ')}` : ''}`);
  t.ok(report.eventsPerClient.every((n) => n === report.eventsPerClient[0] && n > 0), `every subscriber got every event (${report.eventsPerClient.join(', ')})`);
  t.ok(report.warm.gpuBytes > 0, 'the GPU memory is counted');
  t.same(report.daemonErrors, [], 'no error in the daemon\'s log');
  t.equal(report.exitCode, 0, 'SIGTERM at the end: exit 0 (it did not crash)');
});
