// The messages between the main thread and the SR thread (sr-worker.ts).
import type { RasterImage } from './model.js';

export type SrFault = 'context' | 'shader';

export interface SrWorkerData {
  modelPath: string;
  /** Largest tile side: smaller tiles are shorter GPU jobs, so the display's frames get in between. */
  tile?: number;
}

export type SrJobRequest =
  | { type: 'job'; jobId: number; image: RasterImage; steps: 0 | 1 | 2; size: { width: number; height: number }; effort: number }
  | { type: 'fail-next'; count: number }
  /** Test hook: `context` destroys the engine's GL context; `shader` reopens it `count` times with shaders that do not compile. */
  | { type: 'break'; fault: SrFault; count: number }
  | { type: 'close' };

export type SrWorkerEvent =
  | { type: 'ready'; model: string; description: string; ms: number }
  | { type: 'open-failed'; message: string }
  /** The engine was opened again after it broke. */
  | { type: 'reopened'; description: string }
  | { type: 'done'; jobId: number; image: RasterImage; ms: number }
  | { type: 'failed'; jobId: number; message: string; ms: number };
