// Pixel buffers that several threads read (the main thread, the display thread, the SR thread)
// live in SharedArrayBuffers: posting one to a worker shares it instead of copying it. At 4K a
// picture is 25-33 MB, and each copy cost the event loop tens of milliseconds (the soak's
// profile). A shared buffer is never written after it is filled, so sharing needs no locks.

/** A zeroed pixel buffer that threads share. */
export function sharedPixels(length: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(length));
}

export function isShared(data: Uint8Array): boolean {
  return data.buffer instanceof SharedArrayBuffer;
}

/** `data` in shared memory: itself when it is already, else a copy. */
export function toShared(data: Uint8Array): Uint8Array {
  if (isShared(data)) return data;
  const copy = sharedPixels(data.length);
  copy.set(data);
  return copy;
}

/** What postMessage should move rather than share: the buffers of `data` that are not shared. */
export function transferList(...data: Uint8Array[]): ArrayBuffer[] {
  return data.filter((d) => !isShared(d)).map((d) => d.buffer as ArrayBuffer);
}
