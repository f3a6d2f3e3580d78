// The resample to an exact size on the GPU (../SEMANTICS.md): separable Catmull-Rom, horizontal
// pass first (stored 8-bit), then vertical; antialiased when shrinking. Works in output tiles
// whose input rectangles fit the texture limit, so any size works on any GPU.
import type { RasterImage } from '../model.js';
import type { PassRunner, Texture } from './gl-passes.js';
import { generateResamplePass } from '../glsl/shader-gen.js';
import { cropToRgba, pasteFromRgba, splitSpan, type Rect } from './tiles.js';
import { sharedPixels } from '../shared-pixels.js';

interface Axis {
  /** input size / output size */
  scale: number;
  stretch: number;
  support: number;
  maxTaps: number;
  changes: boolean;
}

function axis(from: number, to: number): Axis {
  const scale = from / to;
  const stretch = scale > 1 ? scale : 1;
  const support = 2 * stretch;
  return { scale, stretch, support, maxTaps: Math.ceil(2 * support) + 1, changes: from !== to };
}

/** Input pixels [first, last] that outputs [start, start + size) read along an axis of n pixels. */
function inputSpan(a: Axis, n: number, start: number, size: number): { first: number; count: number } {
  if (!a.changes) return { first: start, count: size };
  const low = (start + 0.5) * a.scale - 0.5 - a.support;
  const high = (start + size - 1 + 0.5) * a.scale - 0.5 + a.support;
  // One pixel of slack each side: float32 on the GPU may round a centre the other way.
  const first = Math.max(0, Math.floor(low));
  const last = Math.min(n - 1, Math.floor(high) + 1);
  return { first, count: last - first + 1 };
}

/** Largest output span whose input span fits `maxTile`. */
function maxOutputSpan(a: Axis, maxTile: number): number {
  if (!a.changes) return maxTile;
  const span = Math.floor((maxTile - 2 * Math.ceil(a.support) - 4) / Math.max(a.scale, 1));
  if (span < 1) throw new RangeError(`resample: shrinking by ${a.scale.toFixed(1)}x needs textures larger than ${maxTile}`);
  return Math.min(span, maxTile);
}

export function resampleGpu(runner: PassRunner, image: RasterImage, width: number, height: number, maxTile: number,
  stage: (name: string | null) => void): RasterImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`resample: invalid target size ${width}x${height}`);
  }
  const { channels } = image;
  const ax = axis(image.width, width);
  const ay = axis(image.height, height);
  const programX = ax.changes ? runner.program(generateResamplePass('x', ax.maxTaps)) : null;
  const programY = ay.changes ? runner.program(generateResamplePass('y', ay.maxTaps)) : null;
  const input = runner.createTexture();
  const middle = runner.createTexture();
  const output = runner.createTexture();
  // Shared: the SR result is shown and cached by other threads without a copy on the main thread.
  const data = sharedPixels(width * height * channels);
  try {
    resampleTiles();
  } finally {
    for (const texture of [input, middle, output]) runner.deleteTexture(texture);
  }
  return { width, height, channels, data };

  function resampleTiles(): void {
  for (const ys of splitSpan(height, maxOutputSpan(ay, maxTile))) {
    const rows = inputSpan(ay, image.height, ys.start, ys.size);
    for (const xs of splitSpan(width, maxOutputSpan(ax, maxTile))) {
      const cols = inputSpan(ax, image.width, xs.start, xs.size);
      stage(null);
      const region: Rect = { x: cols.first, y: rows.first, width: cols.count, height: rows.count };
      runner.upload(input, region.width, region.height, cropToRgba(image.data, image.width, channels, region));
      stage('resample upload');
      let source: Texture = input;
      let sourceOrigin: [number, number] = [region.x, region.y];
      if (programX) {
        // Output columns of this tile, every input row the vertical pass needs.
        runner.resize(middle, xs.size, rows.count);
        runner.draw(programX, middle, { u_image: input }, {
          u_texel: [1 / input.width, 1 / input.height], u_outOrigin: [xs.start, rows.first], u_inOrigin: sourceOrigin,
          u_inSize: image.width, u_scale: ax.scale, u_support: ax.support, u_stretch: ax.stretch,
        });
        source = middle;
        sourceOrigin = [xs.start, rows.first];
        stage('resample x');
      }
      let result = source;
      if (programY) {
        runner.resize(output, xs.size, ys.size);
        runner.draw(programY, output, { u_image: source }, {
          u_texel: [1 / source.width, 1 / source.height], u_outOrigin: [xs.start, ys.start], u_inOrigin: sourceOrigin,
          u_inSize: image.height, u_scale: ay.scale, u_support: ay.support, u_stretch: ay.stretch,
        });
        result = output;
        stage('resample y');
      }
      // Without a vertical pass the source rows are exactly this tile's rows.
      pasteFromRgba(runner.read(result), data, width, channels, { x: xs.start, y: ys.start, width: xs.size, height: ys.size });
      stage('resample readback');
    }
  }
  }
}
