// The decoding thread (prepare-thread.ts): preparePicture for the main thread, any number at once
// (sharp works on libuv's thread pool; the daemon bounds how many it asks for).
import { parentPort } from 'node:worker_threads';
import { preparePicture, type PreparedPicture, type PrepareOptions } from './prepare.js';

export interface PrepareRequest {
  id: number;
  bytes: Uint8Array;
  label: string;
  options: PrepareOptions;
}

export type PrepareReply = { id: number; prepared: PreparedPicture } | { id: number; error: { name: string; message: string } };

const port = parentPort!;

port.on('message', async ({ id, bytes, label, options }: PrepareRequest) => {
  let reply: PrepareReply;
  try {
    // A Buffer arrives as a plain Uint8Array.
    reply = { id, prepared: await preparePicture(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), label, options) };
  } catch (error) {
    reply = { id, error: { name: (error as Error).name, message: (error as Error).message } };
  }
  port.postMessage(reply); // the pixels are shared: only their handles travel
});
