// The main thread's handle on the display thread (display-worker.ts): show a picture, read the
// screen back, blank it, and tell whether frames are still being produced.
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { ScreenOptions } from '../display/open-screen.js';
import type { Rotation } from '../plan/placement.js';
import type { PictureSpec } from './compositor.js';
import type { DisplayEvent, DisplayRequest, DisplayWorkerData, OpenedDisplay } from './display-protocol.js';

export interface ShownReport {
  pictureId: number;
  frames: number;
  longestFrameMs: number;
  composeMs: number;
  interrupted: boolean;
}

export interface ScreenCapture {
  width: number;
  height: number;
  /** RGBA, rows top to bottom. */
  data: Uint8Array;
  pictureId: number;
}

/**
 * How long close() waits for the display thread to give the screen back before it ends the
 * thread. A frame in flight is not interrupted (a GL call cannot be): it can take seconds (a 4K
 * composition on a loaded Pi, many under emulation). Below systemd's TimeoutStopSec (20 s) with
 * room to spare; src/cli/run.ts waits up to 15 s for the whole stop.
 */
export const SCREEN_CLOSE_TIMEOUT_MS = 13_000;
/** After the display closed, how long its thread may take to end before it is ended. */
const THREAD_END_GRACE_MS = 1_000;

export class ScreenThreadError extends Error {
  constructor(message: string, readonly code: string | null) {
    super(message);
  }
}

export declare interface ScreenThread {
  on(event: 'first-frame', listener: (pictureId: number, at: number) => void): this;
  on(event: 'shown', listener: (report: ShownReport) => void): this;
  on(event: 'failed', listener: (message: string) => void): this;
  /** A request the display thread could not carry out (e.g. a picture it could not compose); it goes on. */
  on(event: 'error-message', listener: (message: string) => void): this;
  /** KMS: the screen was unplugged (or switched off); uprez goes on, nothing is presented. */
  on(event: 'screen-lost', listener: (connector: string) => void): this;
  /** KMS: the screen is back and shows the current picture; with `resized`, scaled until it is composed again at the new size. */
  on(event: 'screen-back', listener: (back: ScreenBack) => void): this;
}

export interface ScreenBack {
  connector: string;
  mode: string;
  modeBefore: string;
  width: number;
  height: number;
  refreshHz: number;
  resized: boolean;
  /** Why the mode is not the configured one, when it is not. */
  note: string | null;
}

export class ScreenThread extends EventEmitter {
  private nextId = 1;
  private readonly captures = new Map<number, { resolve: (c: ScreenCapture) => void; reject: (e: Error) => void }>();
  private readonly heartbeat: Float64Array;
  private readonly stopFlag: Int32Array;
  private closed = false;
  /** The display thread said it closed the display. */
  private displayClosed = false;
  private readonly slowFrameWaiters = new Map<number, () => void>();
  /**
   * The picture the display thread is composing (sent, no frame of it yet), and the newest one
   * sent after it, held here meanwhile. On a slow GPU pictures can come faster than they are
   * composed (seconds each at 4K on llvmpipe under load): sent at once, each was composed in turn
   * only to be replaced before its first frame, and the queue held their pixels (GBs in the soak).
   */
  private composing: number | null = null;
  private held: { pictureId: number; request: DisplayRequest; transfer: ArrayBuffer[] } | null = null;
  /** Requests made after the held picture: they go after it, in order (a capture sees the picture shown before it). */
  private afterHeld: DisplayRequest[] = [];
  /** Whether the display thread draws frames: not while blank (the schedule) or without a screen. */
  private blank = false;
  private connected = true;

  private constructor(private readonly worker: Worker, heartbeat: SharedArrayBuffer, stop: SharedArrayBuffer, readonly opened: OpenedDisplay) {
    super();
    this.heartbeat = new Float64Array(heartbeat);
    this.stopFlag = new Int32Array(stop);
    worker.on('message', (event: DisplayEvent) => this.onEvent(event));
    worker.on('error', (error) => this.fail(`the display thread crashed: ${error.message}`));
    worker.on('exit', (code) => {
      if (!this.closed) this.fail(`the display thread exited (code ${code})`);
    });
  }

  static open(screen: ScreenOptions, rotate: Rotation): Promise<ScreenThread> {
    const heartbeat = new SharedArrayBuffer(16);
    const stop = new SharedArrayBuffer(4);
    const data: DisplayWorkerData = { screen, rotate, heartbeat, stop };
    const worker = new Worker(new URL('./display-worker.js', import.meta.url), { workerData: data });
    return new Promise((resolve, reject) => {
      const onMessage = (event: DisplayEvent) => {
        if (event.type === 'opened') {
          worker.off('message', onMessage);
          worker.off('error', reject);
          resolve(new ScreenThread(worker, heartbeat, stop, event));
        } else if (event.type === 'open-failed') {
          void worker.terminate();
          reject(new ScreenThreadError(event.message, event.code));
        }
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
  }

  get width(): number {
    return this.opened.width;
  }

  get height(): number {
    return this.opened.height;
  }

  /** Composes `spec` and shows it (crossfading over `transitionMs`, 0 = cut); returns the picture's id. */
  /**
   * With `handOver`, the image's memory moves to the display thread (no copy on this thread;
   * the caller must not use the image again). Only for an image that owns its whole buffer.
   */
  show(spec: PictureSpec, transitionMs: number, handOver = false): number {
    const pictureId = this.nextId++;
    const { data } = spec.image;
    const movable = handOver && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;
    if (this.closed) return pictureId;
    const request: DisplayRequest = { type: 'show', pictureId, spec, transitionMs };
    const transfer = movable ? [data.buffer as ArrayBuffer] : [];
    // Nothing is held while no frames are drawn: no first frame would ever release it.
    if (this.composing === null || this.blank || !this.connected) {
      this.composing = pictureId;
      this.worker.postMessage(request, transfer);
      return pictureId;
    }
    // The newest waits for the one being composed; one that waited already is replaced before it
    // was ever on screen, as the display thread reports a picture replaced before its first frame.
    const replaced = this.held;
    this.held = { pictureId, request, transfer };
    if (replaced) {
      setImmediate(() => this.emit('shown', { pictureId: replaced.pictureId, frames: 0, longestFrameMs: 0, composeMs: 0, interrupted: true } satisfies ShownReport));
    }
    return pictureId;
  }

  /** The picture being composed is on screen (or failed): the one held back goes to the display thread. */
  private composed(pictureId: number | null): void {
    if (pictureId === null || pictureId !== this.composing) return;
    this.release();
  }

  /** Sends the held picture and the requests behind it now. */
  private release(): void {
    this.composing = null;
    const next = this.held;
    this.held = null;
    if (!next || this.closed) return;
    this.composing = next.pictureId;
    this.worker.postMessage(next.request, next.transfer);
    for (const request of this.afterHeld.splice(0)) this.worker.postMessage(request);
  }

  capture(): Promise<ScreenCapture> {
    const requestId = this.nextId++;
    return new Promise((resolve, reject) => {
      this.captures.set(requestId, { resolve, reject });
      this.send({ type: 'capture', requestId });
    });
  }

  setBlank(blank: boolean): void {
    this.blank = blank;
    // A blank screen draws no frames: what waits for one goes now (else unblanking would wait behind it).
    if (blank) this.release();
    this.send({ type: 'blank', blank });
  }

  /** Test hook: hangs the display thread, as a stuck GPU or page flip would. */
  freeze(): void {
    this.send({ type: 'freeze' });
  }

  /**
   * Test hook: the next `frames` frames each block the display thread `ms` longer (a slow GPU);
   * resolves when the first of them has started.
   */
  slowFrames(ms: number, frames: number): Promise<void> {
    const requestId = this.nextId++;
    return new Promise((resolve) => {
      this.slowFrameWaiters.set(requestId, resolve);
      this.send({ type: 'slow-frames', requestId, ms, frames });
    });
  }

  /** Milliseconds since the display thread last presented a frame. */
  lastFrameAgeMs(): number {
    const last = this.heartbeat[0]!;
    return last === 0 ? Infinity : Date.now() - last;
  }

  framesPresented(): number {
    return this.heartbeat[1]!;
  }

  /**
   * Stops the frame loop and closes the display (KMS: restores the previous CRTC). A frame in
   * flight is finished first (at most `timeoutMs`; then the thread is ended, and the screen is
   * not given back); what would come after it is skipped. Resolves 'closed' (the display thread
   * closed the display), 'timeout' (it was ended), or 'ended' (it ended by itself before closing
   * the display: it had failed).
   */
  async close(timeoutMs = SCREEN_CLOSE_TIMEOUT_MS): Promise<'closed' | 'timeout' | 'ended'> {
    if (this.closed) return this.displayClosed ? 'closed' : 'ended';
    this.closed = true;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    const done = new Promise<void>((resolve) => {
      this.worker.on('message', (event: DisplayEvent) => event.type === 'closed' && resolve());
      void exited.then(resolve);
    });
    // Seen at once by the display thread, between its GL steps; the message waits behind them.
    Atomics.store(this.stopFlag, 0, 1);
    this.worker.postMessage({ type: 'close' } satisfies DisplayRequest);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs).unref()));
    const outcome = await Promise.race([done, timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      await this.worker.terminate();
      return 'timeout';
    }
    // The screen is given back; the thread still has to end, or it keeps the process alive.
    // It ends by itself at once; should anything of it linger, it is ended.
    const ended = new Promise<'ended'>((resolve) => (timer = setTimeout(() => resolve('ended'), THREAD_END_GRACE_MS).unref()));
    if ((await Promise.race([exited, ended])) === 'ended') await this.worker.terminate();
    clearTimeout(timer);
    return this.displayClosed ? 'closed' : 'ended';
  }

  private send(request: DisplayRequest): void {
    if (this.closed) return;
    if (this.held) this.afterHeld.push(request);
    else this.worker.postMessage(request);
  }

  private onEvent(event: DisplayEvent): void {
    switch (event.type) {
      case 'first-frame':
        this.emit('first-frame', event.pictureId, event.at);
        this.composed(event.pictureId);
        break;
      case 'shown':
        this.emit('shown', { ...event } as ShownReport);
        this.composed(event.pictureId);
        break;
      case 'capture': {
        const waiter = this.captures.get(event.requestId);
        this.captures.delete(event.requestId);
        waiter?.resolve({ width: event.width, height: event.height, data: event.data, pictureId: event.pictureId });
        break;
      }
      case 'error': {
        const waiter = event.requestId === null ? undefined : this.captures.get(event.requestId);
        if (waiter) {
          this.captures.delete(event.requestId!);
          waiter.reject(new Error(event.message));
        } else {
          this.emit('error-message', event.message);
          this.composed(this.composing); // a picture that could not be composed
        }
        break;
      }
      case 'fatal':
        this.fail(event.message);
        break;
      case 'slow-frame':
        this.slowFrameWaiters.get(event.requestId)?.();
        this.slowFrameWaiters.delete(event.requestId);
        break;
      case 'closed':
        this.displayClosed = true;
        break;
      case 'screen-lost':
        this.connected = false;
        this.release(); // no frames without a screen: nothing waits for one
        this.emit('screen-lost', event.connector);
        break;
      case 'screen-back': {
        this.connected = true;
        // The size pictures are planned for from now on.
        this.opened.width = event.width;
        this.opened.height = event.height;
        this.opened.refreshHz = event.refreshHz; // /status: the new mode's, not the first one's
        this.opened.info = { ...this.opened.info, mode: event.mode };
        const { type: _type, ...back } = event;
        this.emit('screen-back', back satisfies ScreenBack);
        break;
      }
      default:
        break;
    }
  }

  private fail(message: string): void {
    for (const waiter of this.captures.values()) waiter.reject(new Error(message));
    this.captures.clear();
    if (!this.closed) this.emit('failed', message);
  }
}
