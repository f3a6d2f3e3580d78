// openHeadless: a Display on Mesa's surfaceless EGL platform (src/headless.cc),
// rendering offscreen; readPixels() returns the last presented frame.
import { native } from './native.js';
import { DisplayError } from './errors.js';
import { createGL } from './gl.js';

const REFRESH_HZ = 60;

export function openHeadless(options) {
  const { width, height } = options ?? {};
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new DisplayError('bad-size', `openHeadless({ width, height }): two positive integers expected, got ${width}x${height}`);
  }
  let nativeDisplay;
  try {
    nativeDisplay = new native.HeadlessDisplay(width, height);
  } catch (error) {
    if (typeof error?.code === 'string') throw new DisplayError(error.code, error.message);
    throw error;
  }
  const gl = createGL({ defaultFramebuffer: () => nativeDisplay.defaultFramebuffer() });
  const info = Object.freeze({
    backend: 'headless',
    mode: `${width}x${height}@${REFRESH_HZ}`,
    ...nativeDisplay.info(),
  });
  let closed = false;
  return Object.freeze({
    width,
    height,
    refreshHz: REFRESH_HZ,
    info,
    gl,
    async present() {
      nativeDisplay.present();
    },
    readPixels() {
      return nativeDisplay.readPixels();
    },
    close() {
      if (closed) return;
      closed = true;
      nativeDisplay.close();
    },
  });
}
