// Pixel buffers that several threads read (the main thread, the display thread, the SR thread)
// live in SharedArrayBuffers: posting one to a worker shares it instead of copying it. At 4K a
// picture is 25-33 MB, and each copy cost the event loop tens of milliseconds (the soak's
// profile). A shared buffer is never written after it is filled, so sharing needs no locks.
//
// Their memory goes back only when every thread that saw one has garbage-collected its handle,
// and V8 does not count SharedArrayBuffers in the external memory that schedules its
// collections: 25 MB buffers dropped in a loop piled up to 4 GB before one collection (plain
// ArrayBuffers stayed near 150 MB), and the daemon's RSS swung between 0.9 and 1.9 GB in the
// soak. So each thread counts the shared bytes it allocates or is handed (`sharedSeen`) and
// collects once they pass a budget, or once it has been quiet for a moment.
//
// A full collection V8 runs by itself frees those handles just as well: the bytes seen before it
// began are taken off the count. A busy main thread runs one every second or so (the websocket's
// buffers are counted), so it is no longer made to collect again on top of them: a forced
// collection is one atomic pause of the whole heap (64 ms on average on the main thread in the 4K
// soak, 571 ms at worst on a loaded machine, 36 of them in 2 minutes), where V8's own collections
// mark incrementally and pause for less.
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Shared bytes a thread may see before it collects: a few 4K pictures. */
export const SHARED_GC_BUDGET_BYTES = 160e6;
/** A thread that has seen shared bytes and then nothing for this long collects (its idle memory is what it holds). */
export const SHARED_GC_QUIET_MS = 2000;

/** Shared bytes seen since the last full collection, and when each was seen (performance.now()). */
let seenBytes = 0;
const seen: { at: number; bytes: number }[] = [];
let collectSoon: NodeJS.Immediate | null = null;
let quietTimer: NodeJS.Timeout | null = null;
let gc: (() => void) | null = null;
let collections = 0;
let observer: PerformanceObserver | null = null;

/** A full collection of this thread's heap (V8's gc extension, exposed on first use). */
function collect(): void {
  collectSoon = null;
  if (quietTimer) clearTimeout(quietTimer);
  quietTimer = null;
  seenBytes = 0;
  seen.length = 0;
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
  collections++;
}

/** V8 ran a full collection by itself: what was seen before it began is no longer counted. */
function collectedByV8(entries: PerformanceEntry[]): void {
  for (const entry of entries) {
    const { detail } = entry as PerformanceEntry & { detail?: { kind?: number } };
    if (detail?.kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue;
    while (seen.length > 0 && seen[0]!.at < entry.startTime) seenBytes -= seen.shift()!.bytes;
  }
}

function watchCollections(): void {
  if (observer) return;
  observer = new PerformanceObserver((list) => collectedByV8(list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
}

/**
 * Counts shared buffers this thread allocated or received, and is done with soon: past the
 * budget it collects at the next turn of its event loop (not inside the caller, whose handles are
 * still alive), and after a quiet moment in any case.
 */
export function sharedSeen(...data: Uint8Array[]): void {
  let bytes = 0;
  for (const d of data) if (isShared(d)) bytes += d.buffer.byteLength;
  if (bytes > 0) {
    watchCollections();
    seen.push({ at: performance.now(), bytes });
    seenBytes += bytes;
  }
  if (seenBytes === 0 || collectSoon) return;
  if (seenBytes >= SHARED_GC_BUDGET_BYTES) {
    collectSoon = setImmediate(collect).unref();
    return;
  }
  if (quietTimer) quietTimer.refresh();
  else quietTimer = setTimeout(collect, SHARED_GC_QUIET_MS).unref();
}

/** Collections `sharedSeen` ran in this thread (for tests). */
export function sharedCollections(): number {
  return collections;
}

/** A zeroed pixel buffer that threads share. */
export function sharedPixels(length: number): Uint8Array {
  const data = new Uint8Array(new SharedArrayBuffer(length));
  sharedSeen(data);
  return data;
}

export function isShared(data: Uint8Array): boolean {
  return data.buffer instanceof SharedArrayBuffer;
}

/** `data` in shared memory: itself when it is already, else a copy (made in the decoding thread). */
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
