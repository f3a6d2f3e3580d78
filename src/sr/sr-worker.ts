// The SR thread: owns a headless GL context and the GPU SR engine, and runs one job at a time.
// A 1080p -> 4K job takes seconds on a small GPU; in a worker it never stalls the event loop
// (HTTP, the watchdog) nor the display thread's frames.
import { parentPort, workerData } from 'node:worker_threads';
import { deprioritiseNewRasterizerThreads, deprioritiseThisThread, threadIds } from './background-priority.js';
import { loadModel } from './load-model.js';
import { openEngine, type Engine } from './open-engine.js';
import type { SrJobRequest, SrWorkerData, SrWorkerEvent } from './sr-protocol.js';

const port = parentPort!;
const input = workerData as SrWorkerData;

function post(event: SrWorkerEvent, transfer: ArrayBuffer[] = []): void {
  port.postMessage(event, transfer);
}

let engine: Engine;
try {
  const model = loadModel(input.modelPath);
  const started = performance.now();
  const threadsBefore = threadIds();
  engine = await openEngine(model, { backend: 'gpu', tile: input.tile });
  // A tiny job first: the driver compiles its shader variants at the first draw (seconds on
  // llvmpipe), which would otherwise land on the first picture's SR.
  const warm = { width: 24, height: 16, channels: 3 as const, data: new Uint8Array(24 * 16 * 3).fill(128) };
  engine.upscaler.upscale(warm, { steps: 1, size: { width: 60, height: 40 } });
  const lowered = deprioritiseNewRasterizerThreads(threadsBefore) + (deprioritiseThisThread() ? 1 : 0);
  const description = lowered > 0 ? `${engine.description}, ${lowered} thread${lowered === 1 ? '' : 's'} at low CPU priority` : engine.description;
  post({ type: 'ready', model: model.name, description, ms: performance.now() - started });
} catch (error) {
  post({ type: 'open-failed', message: (error as Error).message });
  process.exit(0);
}

/** Test hook: the next jobs fail as a shader that does not compile or a lost context would. */
let failNext = 0;

port.on('message', (request: SrJobRequest) => {
  if (request.type === 'close') {
    engine.close();
    port.close();
    return;
  }
  if (request.type === 'fail-next') {
    failNext = request.count;
    return;
  }
  const started = performance.now();
  try {
    if (failNext > 0) {
      failNext--;
      throw new Error('SR failed (forced by a test hook)');
    }
    const image = engine.upscaler.upscale(request.image, { steps: request.steps, size: request.size });
    post({ type: 'done', jobId: request.jobId, image, ms: performance.now() - started }, [image.data.buffer as ArrayBuffer]);
  } catch (error) {
    post({ type: 'failed', jobId: request.jobId, message: (error as Error).message, ms: performance.now() - started });
  }
});
