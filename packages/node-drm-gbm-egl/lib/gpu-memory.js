// What the GL contexts of this process hold through the binding (src/gl.cc counts it).
import { native } from './native.js';

/** @returns {{ textureBytes: number, renderbufferBytes: number, bufferBytes: number, contexts: number }} */
export function gpuMemory() {
  return native.gpuMemory();
}
