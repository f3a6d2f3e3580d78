// The WebGL-1-shaped GL object: the GLES2 constants plus the native functions
// (src/gl.cc), which act on the context current on the calling thread and raise
// GLError / GLShaderError. Methods are the native functions themselves, so a call
// costs one N-API transition; only bindFramebuffer and readPixels are wrapped.
import { native } from './native.js';
import { GLError, GLShaderError } from './errors.js';
import { GL_CONSTANTS } from './gl-constants.js';

native.gl.setErrorClasses(GLError, GLShaderError);

const { setErrorClasses, ...nativeMethods } = native.gl;

/**
 * @param {{ defaultFramebuffer: number | (() => number) }} options
 *   the framebuffer that `bindFramebuffer(target, null)` binds: 0 for a window-system
 *   surface (KMS), or a function returning the current one (headless swaps two FBOs).
 */
export function createGL({ defaultFramebuffer }) {
  const currentDefault =
    typeof defaultFramebuffer === 'function' ? defaultFramebuffer : () => defaultFramebuffer;
  if (typeof currentDefault() !== 'number') {
    throw new TypeError('createGL({ defaultFramebuffer }): a framebuffer number (or a function returning one) is required');
  }
  const gl = { ...GL_CONSTANTS, ...nativeMethods };
  Object.defineProperty(gl, 'defaultFramebuffer', { get: currentDefault, enumerable: true });
  gl.bindFramebuffer = (target, framebuffer) =>
    nativeMethods.bindFramebuffer(target, framebuffer ?? currentDefault());
  gl.readPixels = (x, y, width, height, format, type, out) => {
    const pixels = nativeMethods.readPixels(x, y, width, height, format, type, out);
    // Keep the promise of the type: a Buffer, sharing memory with `out` when given.
    return Buffer.isBuffer(pixels) ? pixels : Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  };
  return Object.freeze(gl);
}
