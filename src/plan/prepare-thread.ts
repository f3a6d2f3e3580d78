// Pictures are prepared (decoded, hashed, cropped and shrunk, copied into shared memory) in a
// worker thread: the pixels of a 4K picture never pass through the main thread's event loop,
// whose profile in the 4K soak was the copy into shared memory and the collections of sharp's
// 25-42 MB outputs, 100 ms and more at a time. The main thread gets the shared pixels by handle.
import { Worker } from 'node:worker_threads';
import { ImageDecodeError } from '../decode/decode.js';
import { sharedSeen } from '../sr/shared-pixels.js';
import type { PreparedPicture, PrepareOptions } from './prepare.js';
import type { PrepareReply, PrepareRequest } from './prepare-worker.js';

export class PrepareThread {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (prepared: PreparedPicture) => void; reject: (error: Error) => void }>();

  /** As preparePicture (prepare.ts), in the worker; the bytes are copied to it, the pixels come back shared. */
  prepare(bytes: Buffer, label: string, options: PrepareOptions): Promise<PreparedPicture> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.start().postMessage({ id, bytes, label, options } satisfies PrepareRequest);
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
    waiter.resolve(reply.prepared);
  }
}
