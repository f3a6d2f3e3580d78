// Pictures are prepared (decoded, hashed, cropped and shrunk, copied into shared memory) in a
// worker thread: the pixels of a 4K picture never pass through the main thread's event loop,
// whose profile in the 4K soak was the copy into shared memory and the collections of sharp's
// 25-42 MB outputs, 100 ms and more at a time. The main thread gets the shared pixels by handle.
// The daemon moves a file's bytes to the worker rather than copying them (prepareMoving,
// prepareKeepingBytes; the copy of each push was 2-3.5 s of the main thread's profile per 2
// minutes of the 4K soak, 7-10 ms per picture): transferred when the Buffer owns its whole
// ArrayBuffer (what ws and readFile hand over for anything but tiny files), else copied once and
// that copy transferred. The caller's Buffer is empty afterwards; a push gets its bytes back, moved
// again, with the prepared picture (the push store writes them once the picture decoded).
// prepare() copies, leaving the caller's Buffer as it was.
import { Worker } from 'node:worker_threads';
import { ImageDecodeError } from '../decode/decode.js';
import { sharedSeen } from '../sr/shared-pixels.js';
import type { PreparedPicture, PrepareOptions } from './prepare.js';
import type { PrepareReply, PrepareRequest } from './prepare-worker.js';

export class PrepareThread {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (answer: PreparedAnswer) => void; reject: (error: Error) => void }>();

  /** As preparePicture (prepare.ts), in the worker; the bytes are copied to it (`bytes` stays as it was), the pixels come back shared. */
  async prepare(bytes: Buffer, label: string, options: PrepareOptions): Promise<PreparedPicture> {
    return (await this.send(bytes, label, options, { move: false, returnBytes: false })).prepared;
  }

  /** As prepare, but the bytes move to the worker: `bytes` is empty (detached) once this returns, unless it had to be copied. */
  async prepareMoving(bytes: Buffer, label: string, options: PrepareOptions): Promise<PreparedPicture> {
    return (await this.send(bytes, label, options, { move: true, returnBytes: false })).prepared;
  }

  /** As prepareMoving, and the bytes come back (moved, not copied) once the picture decoded: a push stores them then. */
  async prepareKeepingBytes(bytes: Buffer, label: string, options: PrepareOptions): Promise<{ prepared: PreparedPicture; bytes: Buffer }> {
    const reply = await this.send(bytes, label, options, { move: true, returnBytes: true });
    const back = reply.bytes!;
    return { prepared: reply.prepared, bytes: Buffer.from(back.buffer, back.byteOffset, back.length) };
  }

  private send(bytes: Buffer, label: string, options: PrepareOptions, how: { move: boolean; returnBytes: boolean }): Promise<PreparedAnswer> {
    const id = this.nextId++;
    const { returnBytes } = how;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      const worker = this.start();
      if (!how.move) {
        worker.postMessage({ id, bytes, label, options, returnBytes } satisfies PrepareRequest); // a structured clone: a copy
        return;
      }
      const moving = movable(bytes);
      try {
        worker.postMessage({ id, bytes: moving, label, options, returnBytes } satisfies PrepareRequest, [moving.buffer as ArrayBuffer]);
      } catch {
        // Memory that cannot be transferred (a native addon's: Node 21 and later refuse it): one copy.
        const copy = new Uint8Array(moving);
        worker.postMessage({ id, bytes: copy, label, options, returnBytes } satisfies PrepareRequest, [copy.buffer]);
      }
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    await worker?.terminate();
  }

  /** The worker, started at the first picture (and again after it died: a picture fails, not the daemon). */
  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./prepare-worker.js', import.meta.url));
    worker.unref(); // it never keeps the process alive by itself
    worker.on('message', (reply: PrepareReply) => this.onReply(reply));
    const fail = (message: string) => {
      if (this.worker === worker) this.worker = null;
      for (const { reject } of this.waiting.values()) reject(new Error(message));
      this.waiting.clear();
    };
    worker.on('error', (error) => fail(`the decoding thread crashed: ${error.message}`));
    worker.on('exit', (code) => fail(`the decoding thread exited (code ${code})`));
    this.worker = worker;
    return worker;
  }

  private onReply(reply: PrepareReply): void {
    const waiter = this.waiting.get(reply.id);
    if (!waiter) return;
    this.waiting.delete(reply.id);
    if ('error' in reply) {
      // Errors lose their class on the way: a picture that does not decode is still ImageDecodeError.
      waiter.reject(reply.error.name === 'ImageDecodeError' ? new ImageDecodeError(reply.error.message) : new Error(reply.error.message));
      return;
    }
    sharedSeen(reply.prepared.source.data); // this thread's handle on it must be collected too
    waiter.resolve(reply);
  }
}

type PreparedAnswer = Extract<PrepareReply, { prepared: PreparedPicture }>;

/**
 * Bytes that can be transferred: `bytes` itself when it is the whole of a plain ArrayBuffer (no
 * one else can see that memory: ws's Buffer of a whole message, readFile's), else one copy. A
 * slice of a larger buffer (a socket chunk holding more, Buffer's pool) must not be transferred:
 * that would take the rest of the memory away from its owner.
 */
function movable(bytes: Buffer): Uint8Array {
  const whole = bytes.length > 0 && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
  return whole ? bytes : new Uint8Array(bytes);
}
