// Pillow's `Image.resize(size, Image.BICUBIC)` of an 8-bit image, bit for bit: the LR
// images of the academic (bicubic) protocol are defined by it, and its bicubic upscaling is
// the reference the models are compared with. A port of Pillow's libImaging/Resample.c
// (checked against Pillow 9.4 by test/quality/pillow-resize.test.ts):
//   - a separable filter, Keys cubic with a = -0.5, support 2, widened by the scale when
//     shrinking (antialiasing); each output pixel's weights are normalised to sum 1;
//   - the weights are rounded to fixed point with 22 fraction bits and the sums done in
//     integers, rounded half up and clipped to 0..255;
//   - the horizontal pass first (only the rows the vertical pass reads), stored as 8 bits,
//     then the vertical pass.
import type { RasterImage } from '../sr/model.js';

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;
const SUPPORT = 2;

function bicubic(x: number): number {
  const a = -0.5;
  if (x < 0) x = -x;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

interface Coefficients {
  /** Per output pixel: the first input pixel read, and how many. */
  first: Int32Array;
  count: Int32Array;
  /** Per output pixel, `size` fixed-point weights. */
  weights: Int32Array;
  size: number;
}

/** Pillow's precompute_coeffs then normalize_coeffs_8bpc, for one axis. */
function coefficients(inSize: number, outSize: number): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = SUPPORT * filterScale;
  const size = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * size);
  const k = new Float64Array(size);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let sum = 0;
    for (let x = 0; x < xmax; x++) {
      k[x] = bicubic((x + xmin - center + 0.5) / filterScale);
      sum += k[x]!;
    }
    for (let x = 0; x < xmax; x++) {
      const w = sum !== 0 ? k[x]! / sum : k[x]!;
      weights[xx * size + x] = w < 0 ? Math.trunc(-0.5 + w * ONE) : Math.trunc(0.5 + w * ONE);
    }
    first[xx] = xmin;
    count[xx] = xmax;
  }
  return { first, count, weights, size };
}

function clip8(sum: number): number {
  if (sum >= ONE * 256) return 255;
  if (sum <= 0) return 0;
  return Math.floor(sum / ONE);
}

/** `image` (any number of 8-bit channels) resized to width x height as Pillow's BICUBIC does. */
export function pillowBicubicResize(image: RasterImage, width: number, height: number): RasterImage {
  const { channels } = image;
  const horizontal = coefficients(image.width, width);
  const vertical = coefficients(image.height, height);
  const needHorizontal = width !== image.width;
  const needVertical = height !== image.height;

  let source = image;
  let rowOffset = 0; // the first source row the vertical pass reads
  if (needHorizontal) {
    // Only the rows the vertical pass reads: from its first output's first row to its last.
    const top = needVertical ? vertical.first[0]! : 0;
    const bottom = needVertical ? vertical.first[height - 1]! + vertical.count[height - 1]! : image.height;
    const rows = bottom - top;
    const data = new Uint8Array(width * rows * channels);
    for (let y = 0; y < rows; y++) {
      const row = (y + top) * image.width;
      for (let xx = 0; xx < width; xx++) {
        const xmin = horizontal.first[xx]!;
        const n = horizontal.count[xx]!;
        const w = xx * horizontal.size;
        for (let c = 0; c < channels; c++) {
          let sum = ONE / 2;
          for (let x = 0; x < n; x++) sum += image.data[(row + xmin + x) * channels + c]! * horizontal.weights[w + x]!;
          data[(y * width + xx) * channels + c] = clip8(sum);
        }
      }
    }
    source = { width, height: rows, channels, data };
    rowOffset = top;
  }
  if (!needVertical) return needHorizontal ? source : { ...image, data: image.data.slice() };

  const data = new Uint8Array(width * height * channels);
  for (let yy = 0; yy < height; yy++) {
    const ymin = vertical.first[yy]! - rowOffset;
    const n = vertical.count[yy]!;
    const w = yy * vertical.size;
    for (let xx = 0; xx < width; xx++) {
      for (let c = 0; c < channels; c++) {
        let sum = ONE / 2;
        for (let y = 0; y < n; y++) sum += source.data[((ymin + y) * width + xx) * channels + c]! * vertical.weights[w + y]!;
        data[(yy * width + xx) * channels + c] = clip8(sum);
      }
    }
  }
  return { width, height, channels, data };
}
