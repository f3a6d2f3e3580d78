// Starts an SR engine for a batch: the GPU one (one offscreen GL context, one set of
// compiled programs) or the CPU reference. Shared by `uprez upscale` and `uprez eval`.
import type { SrModel, Upscaler } from './model.js';
import { createCpuUpscaler } from './cpu/cpu-reference.js';

export interface EngineOptions {
  backend: 'gpu' | 'cpu';
  /** Largest tile side on the GPU (default: the GPU's limit). */
  tile?: number;
}

export interface Engine {
  upscaler: Upscaler;
  /** One line for the user: which engine, which GPU, how the programs were obtained. */
  description: string;
  close(): void;
}

export async function openEngine(model: SrModel, options: EngineOptions): Promise<Engine> {
  if (options.backend === 'cpu') {
    const upscaler = createCpuUpscaler(model);
    return { upscaler, description: 'cpu (TypeScript reference)', close: () => upscaler.close() };
  }
  const { openHeadless } = await import('node-drm-gbm-egl');
  const { createGpuUpscaler } = await import('./gpu/gpu-engine.js');
  const display = openHeadless({ width: 1, height: 1 });
  try {
    const upscaler = createGpuUpscaler(display.gl, model, { maxTileSize: options.tile });
    const stats = upscaler.programStats;
    const programs = stats.loaded > 0 && stats.compiled === 0
      ? `${stats.loaded} programs from the cache`
      : `${stats.compiled} programs compiled${stats.loaded ? `, ${stats.loaded} from the cache` : ''}`;
    return {
      upscaler,
      description: `gpu (${display.info.glRenderer}, ${programs} in ${Math.round(stats.ms)} ms)`,
      close: () => {
        upscaler.close();
        display.close();
      },
    };
  } catch (error) {
    display.close();
    throw error;
  }
}
