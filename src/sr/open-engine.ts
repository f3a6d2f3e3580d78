// Starts an SR engine for a batch: the GPU one (one offscreen GL context, one set of
// compiled programs) or the CPU reference. Shared by `uprez upscale` and `uprez eval`.
import type { GL, GLShader } from 'node-drm-gbm-egl';
import type { SrModel, Upscaler } from './model.js';
import { createCpuUpscaler } from './cpu/cpu-reference.js';
import type { GpuUpscaler } from './gpu/gpu-engine.js';

export interface EngineOptions {
  backend: 'gpu' | 'cpu';
  /** Largest tile side on the GPU (default: the GPU's limit). */
  tile?: number;
  /**
   * Fault injection (tests): every shader is compiled from a source the driver rejects, and the
   * program-binary cache is not used, so opening fails in glCompileShader with the driver's log.
   */
  brokenShaders?: boolean;
  /** More models whose programs are compiled in the same GL context (the daemon's JPEG variant): `Engine.variants`. */
  variants?: SrModel[];
}

export interface Engine {
  upscaler: Upscaler;
  /** One per model of `EngineOptions.variants`, in that order, sharing the engine's context. */
  variants: Upscaler[];
  /** One line for the user: which engine, which GPU, how the programs were obtained. */
  description: string;
  /** False once the engine's GL context is gone: nothing more may be drawn with it (GL would crash). */
  contextAlive(): boolean;
  /** Fault injection (tests): destroys the GL context under the engine, as a GPU reset would. */
  loseContext(): void;
  close(): void;
}

export async function openEngine(model: SrModel, options: EngineOptions): Promise<Engine> {
  const variantModels = options.variants ?? [];
  if (options.backend === 'cpu') {
    const upscaler = createCpuUpscaler(model);
    const variants = variantModels.map((variant) => createCpuUpscaler(variant));
    return {
      upscaler, variants, description: 'cpu (TypeScript reference)', contextAlive: () => true, loseContext: () => undefined,
      close: () => [upscaler, ...variants].forEach((u) => u.close()),
    };
  }
  const { openHeadless } = await import('node-drm-gbm-egl');
  const { createGpuUpscaler } = await import('./gpu/gpu-engine.js');
  const display = openHeadless({ width: 1, height: 1 });
  const gl = display.gl;
  // Without a current context glGetString answers nothing (and a draw or a read would crash).
  const contextAlive = () => gl.getParameter(gl.RENDERER) !== '';
  const upscalers: GpuUpscaler[] = [];
  const closeAll = () => {
    if (contextAlive()) upscalers.forEach((u) => u.close()); // a lost context took the engine's GL objects with it
    display.close();
  };
  try {
    for (const each of [model, ...variantModels]) {
      upscalers.push(options.brokenShaders
        ? createGpuUpscaler(withBrokenShaders(gl), each, { maxTileSize: options.tile, cacheDir: null })
        : createGpuUpscaler(gl, each, { maxTileSize: options.tile }));
    }
    const total = (field: 'loaded' | 'compiled' | 'ms') => upscalers.reduce((sum, u) => sum + u.programStats[field], 0);
    const stats = { loaded: total('loaded'), compiled: total('compiled'), ms: total('ms') };
    const programs = stats.loaded > 0 && stats.compiled === 0
      ? `${stats.loaded} programs from the cache`
      : `${stats.compiled} programs compiled${stats.loaded ? `, ${stats.loaded} from the cache` : ''}`;
    const models = variantModels.length > 0 ? `${variantModels.length + 1} models, ` : '';
    return {
      upscaler: upscalers[0]!,
      variants: upscalers.slice(1),
      description: `gpu (${display.info.glRenderer}, ${models}${programs} in ${Math.round(stats.ms)} ms)`,
      contextAlive,
      loseContext: () => display.close(),
      close: closeAll,
    };
  } catch (error) {
    closeAll();
    throw error;
  }
}

/** The GL binding, but every shader source ends with a line no GLSL compiler accepts. */
function withBrokenShaders(gl: GL): GL {
  // The proxy's target is an empty object: the binding's own properties are read-only, and a proxy may not change those.
  return new Proxy({} as GL, {
    get(_target, property) {
      if (property === 'shaderSource') {
        return (shader: GLShader, source: string) => gl.shaderSource(shader, `${source}\nthis line does not compile (uprez fault injection);\n`);
      }
      const value = Reflect.get(gl, property) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(gl) : value;
    },
  });
}
