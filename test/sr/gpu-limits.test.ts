// Models that break a GPU limit are refused when the engine is created, naming the layer and
// the limit; limits come from the GL at run time and can be lowered for tests.
import t from 'tap';
import { openHeadless } from 'node-drm-gbm-egl';
import { createGpuUpscaler } from '../../src/sr/gpu/gpu-engine.js';
import { ModelLimitError } from '../../src/sr/glsl/shader-gen.js';
import { DEFAULT_MAX_TILE } from '../../src/sr/gpu/gpu-limits.js';
import { randomModel } from './helpers/random-model.js';

const display = openHeadless({ width: 16, height: 16 });
t.teardown(() => display.close());
const { gl } = display;

t.test('limits are queried from the GL', async (t) => {
  const model = randomModel({ seed: 501, layers: [{ out: 4, kernel: 1 }] });
  const gpu = createGpuUpscaler(gl, model, { cacheDir: null });
  t.teardown(() => gpu.close());
  const hardware = Math.min(gl.getParameter(gl.MAX_TEXTURE_SIZE) as number, gl.getParameter(gl.MAX_RENDERBUFFER_SIZE) as number);
  t.equal(gpu.limits.maxTileSize, Math.min(hardware, DEFAULT_MAX_TILE), 'the GPU limit, capped by default at 4096');
  const raised = createGpuUpscaler(gl, model, { cacheDir: null, maxTileSize: 1e9 });
  t.equal(raised.limits.maxTileSize, hardware, 'maxTileSize raises the cap up to the GPU limit, never past it');
  raised.close();
  t.equal(gpu.limits.maxTextureUnits, gl.getParameter(gl.MAX_TEXTURE_IMAGE_UNITS));
  t.ok(gpu.limits.fragmentHighp, 'llvmpipe has highp in fragment shaders');
});

t.test('too many input textures for one pass: refused, naming the layer and MAX_TEXTURE_IMAGE_UNITS', async (t) => {
  // Layer 2 is a dense 3x3 from 48 channels: 12 textures in each pass.
  const model = randomModel({ seed: 502, layers: [{ out: 48, kernel: 1 }, { out: 4, kernel: 1 }] });
  const error = t.throws(() => createGpuUpscaler(gl, model, { cacheDir: null, maxTextureUnits: 8 })) as unknown;
  t.type(error, ModelLimitError);
  t.match((error as Error).message, /layer 2 \(conv 1x1, 48->4\) needs 12 input textures in one pass, but this GPU allows 8 \(MAX_TEXTURE_IMAGE_UNITS\)/);
  t.match((error as Error).message, /grouped convolutions/);
  // The same model fits when the GPU allows 12.
  createGpuUpscaler(gl, model, { cacheDir: null, maxTextureUnits: 12 }).close();
});

t.test('too many fetches for one pass: refused, naming the layer and the fetch budget', async (t) => {
  // Layer 2: 5x5 from 16 channels = 4 textures x 25 taps = 100 fetches.
  const model = randomModel({ seed: 503, layers: [{ out: 16, kernel: 1 }, { out: 4, kernel: 5 }] });
  t.throws(() => createGpuUpscaler(gl, model, { cacheDir: null }),
    { name: 'ModelLimitError', message: /layer 2 \(conv 5x5, 16->4\) needs 100 texture fetches in one pass, but the limit is 64/ });
  // Grouped so that each pass's 4 outputs read one texture: 25 fetches.
  const grouped = randomModel({ seed: 504, layers: [{ out: 16, kernel: 1 }, { out: 16, kernel: 5, groups: 4 }, { out: 4, kernel: 1 }] });
  createGpuUpscaler(gl, grouped, { cacheDir: null }).close();
  t.pass('the grouped version (1 texture x 25 taps per pass) fits');
});
