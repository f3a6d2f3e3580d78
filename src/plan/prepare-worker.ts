// The decoding thread (prepare-thread.ts): preparePicture for the main thread, any number at once
// (sharp works on libuv's thread pool; the daemon bounds how many it asks for).
import { parentPort } from 'node:worker_threads';
import { preparePicture, type PreparedPicture, type PrepareOptions } from './prepare.js';

export interface PrepareRequest {
  id: number;
  /** The file's bytes, moved here (their ArrayBuffer is this thread's now, whole). */
  bytes: Uint8Array;
  label: string;
  options: PrepareOptions;
  /** Move the bytes back with the answer (the push store writes them once the picture decoded). */
  returnBytes: boolean;
}

export type PrepareReply =
  | { id: number; prepared: PreparedPicture; bytes: Uint8Array | null }
  | { id: number; error: { name: string; message: string } };

const port = parentPort!;

port.on('message', async ({ id, bytes, label, options, returnBytes }: PrepareRequest) => {
  let reply: PrepareReply;
  const transfer: ArrayBuffer[] = [];
  try {
    // A Buffer arrives as a plain Uint8Array.
    const prepared = await preparePicture(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), label, options);
    reply = { id, prepared, bytes: returnBytes ? bytes : null };
    if (returnBytes) transfer.push(bytes.buffer as ArrayBuffer); // it arrived whole and transferred: it goes back the same way
  } catch (error) {
    reply = { id, error: { name: (error as Error).name, message: (error as Error).message } };
  }
  port.postMessage(reply, transfer); // the pixels are shared: only their handles travel
});
