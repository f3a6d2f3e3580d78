// The main thread's handle on the SR thread (sr-worker.ts): a queue of SR jobs, run one at a
// time, the picture on screen before the ones fetched ahead. A job not started yet can be
// cancelled (its picture left the screen or was replaced).
import { Worker } from 'node:worker_threads';
import type { RasterImage } from './model.js';
import type { SrFault, SrJobRequest, SrModelChoice, SrWorkerData, SrWorkerEvent } from './sr-protocol.js';
import { isShared, sharedSeen, transferList } from './shared-pixels.js';

export type SrPriority = 'now' | 'ahead';

/**
 * The SR thread's largest tile side. The GPU runs one pass at a time whoever asked for it (and
 * llvmpipe serialises contexts too), so a pass over a whole 1080p picture would hold back the
 * display's frames for its whole duration; tiles this size keep each pass short.
 */
export const DEFAULT_SR_TILE = 512;

export interface SrJob {
  /** 'jpeg' only when the thread has a JPEG variant (`jpegModel`). */
  model: SrModelChoice;
  image: RasterImage;
  steps: 0 | 1 | 2;
  size: { width: number; height: number };
  /** 1: the full network; lower: only near detail (adaptive compute). */
  effort: number;
  priority: SrPriority;
}

export interface SrResult {
  image: RasterImage;
  /** Time the SR thread spent on the job. */
  ms: number;
}

export interface SrThreadOptions {
  /** The JPEG variant's model file (load-model.ts `jpegVariantPath`); null or absent: none. */
  jpegModelPath?: string | null;
  tile?: number;
}

export interface SrReady {
  model: string;
  /** The JPEG variant's name; null when there is none or its file did not load (`jpegProblem` says why). */
  jpegModel: string | null;
  jpegProblem: string | null;
  description: string;
  /** Time from the thread's start to its engine ready (models loaded, programs compiled, the main model warmed up). */
  ms: number;
}

export class SrCancelled extends Error {
  override readonly name = 'SrCancelled';
}

interface Queued {
  jobId: number;
  job: SrJob;
  resolve: (result: SrResult) => void;
  reject: (error: Error) => void;
}

export class SrThread {
  private nextId = 1;
  private readonly queue: Queued[] = [];
  private running: Queued | null = null;
  private closed = false;
  /** Called when the engine was opened again after it broke (its new description). */
  onReopened: ((description: string) => void) | null = null;

  readonly model: string;
  readonly jpegModel: string | null;
  /** Why the JPEG variant did not load (null: it did, or there is none). */
  readonly jpegProblem: string | null;
  /** Milliseconds the SR thread took to get ready. */
  readonly readyMs: number;
  description: string;

  private constructor(private readonly worker: Worker, ready: SrReady) {
    this.model = ready.model;
    this.jpegModel = ready.jpegModel;
    this.jpegProblem = ready.jpegProblem;
    this.readyMs = ready.ms;
    this.description = ready.description;
    worker.on('message', (event: SrWorkerEvent) => this.onEvent(event));
    const fail = (message: string) => {
      this.closed = true;
      for (const item of [this.running, ...this.queue]) item?.reject(new Error(message));
      this.queue.length = 0;
      this.running = null;
    };
    worker.on('error', (error) => fail(`the SR thread crashed: ${error.message}`));
    worker.on('exit', (code) => fail(`the SR thread exited (code ${code})`));
  }

  static open(modelPath: string, options: SrThreadOptions = {}): Promise<SrThread> {
    const tile = options.tile ?? (Number(process.env.UPREZ_SR_TILE) || DEFAULT_SR_TILE);
    const data: SrWorkerData = { modelPath, jpegModelPath: options.jpegModelPath ?? null, tile };
    const worker = new Worker(new URL('./sr-worker.js', import.meta.url), { workerData: data });
    return new Promise((resolve, reject) => {
      const onMessage = (event: SrWorkerEvent) => {
        worker.off('message', onMessage);
        worker.off('error', reject);
        if (event.type === 'ready') resolve(new SrThread(worker, event));
        else if (event.type === 'open-failed') {
          void worker.terminate();
          reject(new Error(event.message));
        }
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
  }

  /** Jobs waiting plus the one running. */
  get pending(): number {
    return this.queue.length + (this.running ? 1 : 0);
  }

  run(job: SrJob): { jobId: number; result: Promise<SrResult> } {
    const jobId = this.nextId++;
    const result = new Promise<SrResult>((resolve, reject) => {
      if (this.closed) return reject(new Error('the SR thread is closed'));
      if (job.model === 'jpeg' && !this.jpegModel) return reject(new Error('SR job for the JPEG variant, but this SR thread has none'));
      this.queue.push({ jobId, job, resolve, reject });
      this.startNext();
    });
    return { jobId, result };
  }

  /** Cancels a job that has not started (a running job finishes: GL work cannot be interrupted). */
  cancel(jobId: number): void {
    const index = this.queue.findIndex((q) => q.jobId === jobId);
    if (index >= 0) this.queue.splice(index, 1)[0]!.reject(new SrCancelled(`SR job ${jobId} cancelled`));
  }

  /** Promotes a queued job to run before the others. */
  prioritise(jobId: number): void {
    const item = this.queue.find((q) => q.jobId === jobId);
    if (item) item.job.priority = 'now';
  }

  /** Test hook: the next `count` jobs fail as if the GPU did. */
  failNext(count: number): void {
    this.worker.postMessage({ type: 'fail-next', count } satisfies SrJobRequest);
  }

  /** Test hook: breaks the engine through GL (see SrJobRequest 'break'). */
  breakEngine(fault: SrFault, count: number): void {
    this.worker.postMessage({ type: 'break', fault, count } satisfies SrJobRequest);
  }

  async close(graceMs = 1000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const item of this.queue) item.reject(new SrCancelled('the SR thread is closing'));
    this.queue.length = 0;
    // The worker frees its GL objects and ends by itself. Terminating it while it makes GL calls
    // aborted the process (the addon throws into a dying thread), so only a worker still busy
    // after the grace period (a long job) is terminated.
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage({ type: 'close' } satisfies SrJobRequest);
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref());
    if ((await Promise.race([exited, timer])) === 'timeout') await this.worker.terminate();
  }

  private startNext(): void {
    if (this.running || this.closed || this.queue.length === 0) return;
    const index = Math.max(0, this.queue.findIndex((q) => q.job.priority === 'now'));
    const next = this.queue.splice(index, 1)[0]!;
    this.running = next;
    const { model, image, steps, size, effort } = next.job;
    // Shared memory is shared; otherwise a copy (the caller keeps its image, e.g. for the
    // preview) whose memory moves over.
    const data = isShared(image.data) ? image.data : image.data.slice();
    this.worker.postMessage({ type: 'job', jobId: next.jobId, model, image: { ...image, data }, steps, size, effort } satisfies SrJobRequest, transferList(data));
  }

  private onEvent(event: SrWorkerEvent): void {
    if (event.type === 'reopened') {
      this.description = event.description;
      this.onReopened?.(event.description);
      return;
    }
    if (event.type !== 'done' && event.type !== 'failed') return;
    const item = this.running;
    if (!item || item.jobId !== event.jobId) return;
    this.running = null;
    if (event.type === 'done') {
      sharedSeen(event.image.data); // this thread's handle on it must be collected too
      item.resolve({ image: event.image, ms: event.ms });
    }
    else item.reject(new Error(event.message));
    this.startNext();
  }
}
