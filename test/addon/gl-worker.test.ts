// The addon from worker threads: each worker opens its own headless display and
// EGL context and draws the known pattern exactly, also while others (and the main
// thread) have theirs open.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import t, { type Test } from 'tap';
import { openHeadless } from 'node-drm-gbm-egl';
import { drawPattern, expectedPattern, firstDifference } from './fixtures/gl-pattern.js';
import type { GLWorkerInput, GLWorkerResult } from './fixtures/gl-worker.js';

const workerFile = new URL('./fixtures/gl-worker.js', import.meta.url);

async function runWorker(input: GLWorkerInput): Promise<GLWorkerResult> {
  const worker = new Worker(workerFile, { workerData: input });
  const failed = once(worker, 'error').then(([error]) => Promise.reject(error));
  const [result] = (await Promise.race([once(worker, 'message'), failed])) as [GLWorkerResult];
  const [exitCode] = await once(worker, 'exit');
  if (exitCode !== 0) throw new Error(`worker exited with ${exitCode}`);
  return result;
}

function checkPattern(t: Test, result: GLWorkerResult, width: number, height: number, label: string): void {
  const pixels = Buffer.from(result.pixels.buffer, result.pixels.byteOffset, result.pixels.byteLength);
  t.equal(firstDifference(pixels, expectedPattern(width, height), width), null, `${label}: every pixel as computed`);
}

t.test('a worker draws the pattern exactly', async (t) => {
  const result = await runWorker({ width: 41, height: 29 });
  t.ok(result.renderer.length > 0, `worker renderer: ${result.renderer}`);
  checkPattern(t, result, 41, 29, 'worker');
});

t.test('two workers at once, each with its own context, while the main thread has one too', async (t) => {
  const main = openHeadless({ width: 43, height: 30 });
  t.teardown(() => main.close());
  const barrier = new Int32Array(new SharedArrayBuffer(4));
  const sizes: Array<[number, number]> = [[44, 31], [47, 28]];
  const results = await Promise.all(
    sizes.map(([width, height]) => runWorker({ width, height, barrier, parties: sizes.length })),
  );
  t.equal(Atomics.load(barrier, 0), 2, 'both workers had a display open at the same time');
  results.forEach((result, i) => checkPattern(t, result, sizes[i]![0], sizes[i]![1], `worker ${i + 1}`));

  // The main thread's display is untouched by the workers' contexts coming and going.
  main.gl.bindFramebuffer(main.gl.FRAMEBUFFER, null);
  drawPattern(main.gl, 43, 30);
  await main.present();
  t.equal(firstDifference(main.readPixels(), expectedPattern(43, 30), 43), null, 'main thread: every pixel as computed');
});

t.test('a worker that exits without close() does not disturb others', async (t) => {
  const main = openHeadless({ width: 40, height: 28 });
  t.teardown(() => main.close());
  const result = await runWorker({ width: 40, height: 28, leaveOpen: true });
  checkPattern(t, result, 40, 28, 'worker');
  drawPattern(main.gl, 40, 28);
  await main.present();
  t.equal(firstDifference(main.readPixels(), expectedPattern(40, 28), 40), null, 'main thread still draws');
  // And a new worker can still open a display afterwards.
  checkPattern(t, await runWorker({ width: 41, height: 29 }), 41, 29, 'next worker');
});
