// The SR thread: owns a headless GL context and the GPU SR engine, and runs one job at a time.
// A 1080p -> 4K job takes seconds on a small GPU; in a worker it never stalls the event loop
// (HTTP, the watchdog) nor the display thread's frames.
//
// An engine that breaks (its GL context is lost, or a job fails in GL) is dropped and opened
// again, with its shaders compiled again, at the next job: SR recovers by itself on retry.
import { parentPort, workerData } from 'node:worker_threads';
import { deprioritiseNewRasterizerThreads, deprioritiseThisThread, threadIds } from './background-priority.js';
import { loadModel } from './load-model.js';
import type { SrModel, Upscaler } from './model.js';
import { openEngine, type Engine } from './open-engine.js';
import type { SrJobRequest, SrWorkerData, SrWorkerEvent } from './sr-protocol.js';
import { sharedSeen, transferList } from './shared-pixels.js';

const port = parentPort!;
const input = workerData as SrWorkerData;

function post(event: SrWorkerEvent, transfer: ArrayBuffer[] = []): void {
  port.postMessage(event, transfer);
}

/** Test hooks: engine opens left that compile broken shaders; jobs left that fail in JS. */
let brokenShaderOpens = 0;
let failNext = 0;

// A tiny job per model: the driver compiles its shader variants at the first draw (seconds on
// llvmpipe), which would otherwise land on the first picture's SR.
function warmUp(upscaler: Upscaler): void {
  const warm = { width: 24, height: 16, channels: 3 as const, data: new Uint8Array(24 * 16 * 3).fill(128) };
  upscaler.upscale(warm, { steps: 1, size: { width: 60, height: 40 } });
}

/**
 * The main model, and its JPEG variant in the same GL context when there is one. At start-up
 * only the main model is warmed before 'ready' (the daemon shows no picture before it, and a
 * cold warm-up takes seconds), the variant right after; a reopened engine warms both.
 */
async function openWarmEngine(warmVariants: boolean): Promise<Engine> {
  const brokenShaders = brokenShaderOpens > 0;
  if (brokenShaders) brokenShaderOpens--;
  const opened = await openEngine(model, { backend: 'gpu', tile: input.tile, brokenShaders, variants: jpegModel ? [jpegModel] : [] });
  try {
    warmUp(opened.upscaler);
    if (warmVariants) opened.variants.forEach(warmUp);
  } catch (error) {
    opened.close();
    throw error;
  }
  return opened;
}

let model: SrModel;
let jpegModel: SrModel | null = null;
let jpegProblem: string | null = null;
let engine: Engine | null;
try {
  model = loadModel(input.modelPath);
  if (input.jpegModelPath) {
    // A broken variant file costs JPEGs their better model, not SR: the main model serves them.
    try {
      jpegModel = loadModel(input.jpegModelPath);
    } catch (error) {
      jpegProblem = (error as Error).message;
    }
  }
  const started = performance.now();
  const threadsBefore = threadIds();
  engine = await openWarmEngine(false);
  const lowered = deprioritiseNewRasterizerThreads(threadsBefore) + (deprioritiseThisThread() ? 1 : 0);
  const description = lowered > 0 ? `${engine.description}, ${lowered} thread${lowered === 1 ? '' : 's'} at low CPU priority` : engine.description;
  post({ type: 'ready', model: model.name, jpegModel: jpegModel?.name ?? null, jpegProblem, description, ms: performance.now() - started });
} catch (error) {
  post({ type: 'open-failed', message: (error as Error).message });
  process.exit(0);
}

function dropEngine(): void {
  engine?.close();
  engine = null;
}

async function runJob(request: Extract<SrJobRequest, { type: 'job' }>): Promise<void> {
  const started = performance.now();
  try {
    if (failNext > 0) {
      failNext--;
      throw new Error('SR failed (forced by a test hook)');
    }
    if (engine && !engine.contextAlive()) {
      dropEngine();
      throw new Error('the SR engine lost its GL context; it is opened again at the next job');
    }
    if (!engine) {
      try {
        engine = await openWarmEngine(true);
      } catch (error) {
        throw new Error(`the SR engine could not be opened again: ${(error as Error).message}`);
      }
      post({ type: 'reopened', description: engine.description });
    }
    const upscaler = request.model === 'jpeg' ? engine.variants[0] : engine.upscaler;
    if (!upscaler) throw new Error('SR job for the JPEG variant, but no JPEG variant is loaded');
    let image;
    try {
      image = upscaler.upscale(request.image, { steps: request.steps, size: request.size, effort: request.effort });
    } catch (error) {
      // A GL error may leave the context in any state: start the next job on a fresh engine.
      if ((error as Error).name.startsWith('GL')) dropEngine();
      throw error;
    }
    post({ type: 'done', jobId: request.jobId, image, ms: performance.now() - started }, transferList(image.data));
  } catch (error) {
    post({ type: 'failed', jobId: request.jobId, message: (error as Error).message, ms: performance.now() - started });
  }
  sharedSeen(request.image.data); // done with the picture: this thread's handle on it goes at a collection
}

// One message at a time, in order: a job that reopens the engine finishes before the next starts.
// First of all, the variants' warm-up that start-up left for after 'ready'.
let handling: Promise<void> = Promise.resolve().then(() => {
  try {
    engine?.variants.forEach(warmUp);
  } catch {
    dropEngine(); // opened again, and warmed, at the next job, which reports what fails then
  }
});
port.on('message', (request: SrJobRequest) => {
  handling = handling.then(async () => {
    switch (request.type) {
      case 'close':
        dropEngine();
        port.close();
        return;
      case 'fail-next':
        failNext = request.count;
        return;
      case 'break':
        // The engine breaks now; it is opened again at the next job (with broken shaders `count` times).
        if (request.fault === 'context') engine?.loseContext();
        else {
          brokenShaderOpens = request.count;
          dropEngine();
        }
        return;
      case 'job':
        await runJob(request);
    }
  });
});
