// What the GPU can do, as `uprez info` prints it and the test card shows it.
import type { GL } from 'node-drm-gbm-egl';

export interface GlFacts {
  renderer: string;
  version: string;
  vendor: string;
  shadingLanguage: string;
  limits: Record<string, number | number[]>;
  fragmentHighp: boolean;
  programBinaryFormats: number;
  extensions: string[];
}

const limitNames = [
  'MAX_TEXTURE_SIZE',
  'MAX_RENDERBUFFER_SIZE',
  'MAX_VIEWPORT_DIMS',
  'MAX_TEXTURE_IMAGE_UNITS',
  'MAX_COMBINED_TEXTURE_IMAGE_UNITS',
  'MAX_FRAGMENT_UNIFORM_VECTORS',
  'MAX_VERTEX_UNIFORM_VECTORS',
  'MAX_VARYING_VECTORS',
] as const;

function constant(gl: GL, name: string): number {
  const value = (gl as unknown as Record<string, unknown>)[name];
  if (typeof value !== 'number') throw new Error(`the GL binding has no constant ${name}`);
  return value;
}

export function readGlFacts(gl: GL): GlFacts {
  const limits: Record<string, number | number[]> = {};
  for (const name of limitNames) limits[name] = gl.getParameter(constant(gl, name)) as number | number[];
  const highp = gl.getShaderPrecisionFormat(gl.FRAGMENT_SHADER, gl.HIGH_FLOAT);
  return {
    renderer: String(gl.getParameter(gl.RENDERER)),
    version: String(gl.getParameter(gl.VERSION)),
    vendor: String(gl.getParameter(gl.VENDOR)),
    shadingLanguage: String(gl.getParameter(gl.SHADING_LANGUAGE_VERSION)),
    limits,
    fragmentHighp: highp !== null && highp.precision > 0,
    programBinaryFormats: gl.getProgramBinaryFormats().length,
    extensions: gl.getSupportedExtensions(),
  };
}
