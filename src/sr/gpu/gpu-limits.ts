// The GPU's limits that the SR engine plans with, queried at run time (DESIGN.md: never assume a
// Pi's numbers), and overridable so tests can play a Pi 3 (2048) or force tiny tiles.
import type { GL } from 'node-drm-gbm-egl';
import type { PassLimits } from '../glsl/shader-gen.js';

export interface GpuLimits extends PassLimits {
  /** The largest texture/render target side the engine may use (tiles are sized to fit it). */
  maxTileSize: number;
  /** Colour attachments one draw may write (EXT_draw_buffers; 1 without it). */
  maxDrawBuffers: number;
  /** Whether fragment shaders have highp floats (texel addressing of big textures needs it). */
  fragmentHighp: boolean;
  renderer: string;
  version: string;
}

/** Default fetch budget per pass: generous for llvmpipe and v3d, within what vc4 compiles. */
export const DEFAULT_MAX_FETCHES_PER_PASS = 64;
/**
 * Output textures per conv pass when the GPU has draw buffers: 4 shares each fetch among 16
 * channels while keeping a generated shader's size (ALU, constants) within reach of a Pi's.
 */
export const DEFAULT_MAX_OUTPUTS_PER_PASS = 4;
/** Without highp, texel coordinates lose precision above this size. */
const MEDIUMP_MAX_TILE = 512;
/**
 * Tiles larger than a 4K frame only cost memory (a 1920x1080 input is still one tile): the
 * default cap when the GPU allows more (llvmpipe: 16384). maxTileSize may raise it.
 */
export const DEFAULT_MAX_TILE = 4096;

export interface LimitOverrides {
  maxTileSize?: number;
  maxFetchesPerPass?: number;
  maxTextureUnits?: number;
  /** At most this many draw buffers (1: one output texture per pass, as without EXT_draw_buffers). */
  maxDrawBuffers?: number;
  /** Output textures per conv pass (default DEFAULT_MAX_OUTPUTS_PER_PASS), within maxDrawBuffers. */
  maxOutputsPerPass?: number;
}

type LimitName = 'MAX_TEXTURE_SIZE' | 'MAX_VIEWPORT_DIMS' | 'MAX_RENDERBUFFER_SIZE' | 'MAX_TEXTURE_IMAGE_UNITS' |
  'MAX_DRAW_BUFFERS_EXT' | 'MAX_COLOR_ATTACHMENTS_EXT';

function intParameter(gl: GL, name: LimitName): number {
  const value = gl.getParameter(gl[name]);
  const n = Array.isArray(value) ? Math.min(...value.map(Number)) : Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`GL reports no usable ${name} (${String(value)})`);
  return n;
}

/** Whether the fragment stage has highp floats (precision 0 means it has none). */
function hasFragmentHighp(gl: GL): boolean {
  return gl.getShaderPrecisionFormat(gl.FRAGMENT_SHADER!, gl.HIGH_FLOAT!).precision > 0;
}

/** Draw buffers the GL offers: EXT_draw_buffers' limits, or 1 without the extension (vc4). */
function drawBuffers(gl: GL): number {
  if (!gl.getSupportedExtensions().includes('GL_EXT_draw_buffers')) return 1;
  return Math.min(intParameter(gl, 'MAX_DRAW_BUFFERS_EXT'), intParameter(gl, 'MAX_COLOR_ATTACHMENTS_EXT'));
}

/** An override that must be a whole number of at least 1 (or absent). */
function countOverride(name: string, value: number | undefined): number {
  if (value === undefined) return Infinity;
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a whole number of at least 1, got ${value}`);
  return value;
}

export function queryGpuLimits(gl: GL, overrides: LimitOverrides = {}): GpuLimits {
  const fragmentHighp = hasFragmentHighp(gl);
  const hardware = Math.min(
    intParameter(gl, 'MAX_TEXTURE_SIZE'),
    intParameter(gl, 'MAX_VIEWPORT_DIMS'),
    intParameter(gl, 'MAX_RENDERBUFFER_SIZE'),
    fragmentHighp ? Infinity : MEDIUMP_MAX_TILE,
  );
  const maxDrawBuffers = Math.min(drawBuffers(gl), countOverride('maxDrawBuffers', overrides.maxDrawBuffers));
  return {
    maxTileSize: Math.min(hardware, overrides.maxTileSize ?? DEFAULT_MAX_TILE),
    maxTextureUnits: Math.min(intParameter(gl, 'MAX_TEXTURE_IMAGE_UNITS'), overrides.maxTextureUnits ?? Infinity),
    maxFetchesPerPass: overrides.maxFetchesPerPass ?? DEFAULT_MAX_FETCHES_PER_PASS,
    maxDrawBuffers,
    maxOutputsPerPass: Math.min(maxDrawBuffers, overrides.maxOutputsPerPass === undefined
      ? DEFAULT_MAX_OUTPUTS_PER_PASS : countOverride('maxOutputsPerPass', overrides.maxOutputsPerPass)),
    fragmentHighp,
    renderer: String(gl.getParameter(gl.RENDERER!)),
    version: String(gl.getParameter(gl.VERSION!)),
  };
}
