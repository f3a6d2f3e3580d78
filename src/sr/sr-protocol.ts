// The messages between the main thread and the SR thread (sr-worker.ts).
import type { RasterImage } from './model.js';

export type SrFault = 'context' | 'shader';

/** Which of the SR thread's models a job runs: the main one, or its JPEG variant (load-model.ts `jpegVariantPath`). */
export type SrModelChoice = 'main' | 'jpeg';

export interface SrWorkerData {
  modelPath: string;
  /** The JPEG variant's file, compiled in the same GL context as the main model; null: none. */
  jpegModelPath: string | null;
  /** Largest tile side: smaller tiles are shorter GPU jobs, so the display's frames get in between. */
  tile?: number;
}

export type SrJobRequest =
  | { type: 'job'; jobId: number; model: SrModelChoice; image: RasterImage; steps: 0 | 1 | 2; size: { width: number; height: number }; effort: number }
  | { type: 'fail-next'; count: number }
  /** Test hook: `context` destroys the engine's GL context; `shader` reopens it `count` times with shaders that do not compile. */
  | { type: 'break'; fault: SrFault; count: number }
  | { type: 'close' };

export type SrWorkerEvent =
  /** `jpegModel`: the variant's name, null when there is none or (`jpegProblem`) its file did not load. */
  | { type: 'ready'; model: string; jpegModel: string | null; jpegProblem: string | null; description: string; ms: number }
  | { type: 'open-failed'; message: string }
  /** The engine was opened again after it broke. */
  | { type: 'reopened'; description: string }
  | { type: 'done'; jobId: number; image: RasterImage; ms: number }
  | { type: 'failed'; jobId: number; message: string; ms: number };
