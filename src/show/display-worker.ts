// The display thread: owns the screen (KMS or headless) and its GL context, composes pictures
// and runs the frame loop (transitions at the display's refresh rate, page flips on KMS). It
// lives in a worker so that nothing on the main thread (decoding, HTTP, JSON) can make a frame
// late, and so that a stuck GPU or flip shows up as missing heartbeats (the systemd watchdog).
import { parentPort, workerData } from 'node:worker_threads';
import type { Display } from 'node-drm-gbm-egl';
import { openScreen } from '../display/open-screen.js';
import { readGlFacts } from '../display/gl-facts.js';
import { Compositor, type Canvas } from './compositor.js';
import type { DisplayRequest, DisplayEvent, DisplayWorkerData } from './display-protocol.js';

const port = parentPort!;
const input = workerData as DisplayWorkerData;
const heartbeat = new Float64Array(input.heartbeat);
const stopFlag = new Int32Array(input.stop);

function post(event: DisplayEvent, transfer: ArrayBuffer[] = []): void {
  port.postMessage(event, transfer);
}

let display: Display;
try {
  const opened = openScreen(input.screen);
  display = opened.display;
  const facts = readGlFacts(display.gl);
  post({
    type: 'opened',
    width: display.width,
    height: display.height,
    refreshHz: display.refreshHz,
    info: { ...display.info },
    headlessReason: opened.headlessReason ?? null,
    gl: { renderer: facts.renderer, version: facts.version, maxTextureSize: Number(facts.limits.MAX_TEXTURE_SIZE) },
  });
} catch (error) {
  post({ type: 'open-failed', message: (error as Error).message, code: (error as { code?: string }).code ?? null });
  process.exit(0);
}

const compositor = new Compositor(display.gl, { width: display.width, height: display.height }, input.rotate);
/** The display's frame period (a screen that comes back can have another refresh rate). */
let framePeriodMs = periodOf(display.refreshHz);
function periodOf(refreshHz: number): number {
  return 1000 / (refreshHz > 0 ? refreshHz : 60);
}
/** With nothing changing, a frame is still presented this often: it proves the path is alive. */
const KEEPALIVE_MS = 1000;
/** KMS: how often the connector's status is read (a screen unplugged, or plugged in again). */
const CONNECTOR_CHECK_MS = 2000;
/**
 * How far a fade goes at most from one frame to the next: on a GPU whose frames take more than
 * half the fade (a Pi at 4K and a short fade, emulation), the fade lasts longer than asked but is
 * still seen halfway instead of jumping from the old picture to (nearly) the new one.
 */
const MAX_FADE_STEP = 0.5;

interface Transition {
  pictureId: number;
  canvas: Canvas;
  start: number;
  ms: number;
  firstFramePosted: boolean;
  frames: number;
  longestFrameMs: number;
  composeMs: number;
}

let current: Canvas | null = null;
let currentId = -1;
let transition: Transition | null = null;
let lastAmount = 0;
let blank = false;
let dirty = true;
let closing = false;
let closeRequested: () => void = () => {};
/** Resolves at the 'close' message: a present() that waits for a page flip (which may never come without a screen) waits no longer. */
const closeMessage = new Promise<void>((resolve) => (closeRequested = resolve));
/** False while the KMS screen is unplugged: nothing is presented, the frame loop still beats. */
let screenConnected = true;
let lastConnectorCheck = 0;
let lastPresent = 0;
/** How many frames in a row, up to the last one presented, showed what the screen shows now. */
let unchangedFrames = 0;
let wake: (() => void) | null = null;
/** Test hook ('slow-frames'): frames still to slow down, by how much, and who asked. */
let slowFrames = { count: 0, ms: 0, requestId: 0 };

/**
 * Whether the display is closing: its 'close' message arrived, or the main thread raised the
 * stop flag and the message still waits behind the work in progress. Checked between GL steps:
 * a picture not composed yet, the rest of a crossfade, the next frame are skipped then, so that
 * the screen is given back (the CRTC restored) as soon as the frame in flight is done.
 */
function stopping(): boolean {
  return closing || Atomics.load(stopFlag, 0) !== 0;
}

function wakeUp(): void {
  wake?.();
  wake = null;
}

/**
 * Waits `ms`, or less when a message wakes the loop. The timer is cleared when woken: a timer
 * left pending would keep this thread (and so the process) alive after the display closed.
 */
function sleepUntilWoken(ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(wakeUp, ms);
    wake = () => {
      clearTimeout(timer);
      resolve();
    };
  });
}

/** Ends a transition at once (a newer picture arrived): its picture becomes the current one. */
function finishTransition(): void {
  if (!transition) return;
  compositor.release(current);
  current = transition.canvas;
  currentId = transition.pictureId;
  post({ type: 'shown', pictureId: transition.pictureId, frames: transition.frames, longestFrameMs: transition.longestFrameMs, composeMs: transition.composeMs, interrupted: true });
  transition = null;
}

port.on('message', (request: DisplayRequest) => {
  try {
    handle(request);
  } catch (error) {
    post({ type: 'error', requestId: 'requestId' in request ? request.requestId : null, message: (error as Error).message });
  }
  wakeUp();
});

function handle(request: DisplayRequest): void {
  switch (request.type) {
    case 'show': {
      // Closing: a picture that would never be shown is not composed (seconds of GL on a slow GPU).
      if (stopping()) return;
      const started = performance.now();
      const canvas = compositor.compose(request.spec);
      const composeMs = performance.now() - started;
      finishTransition();
      if (request.transitionMs <= 0 || !current) {
        compositor.release(current);
        current = canvas;
        currentId = request.pictureId;
        dirty = true;
        pendingCut = { pictureId: request.pictureId, composeMs };
      } else {
        transition = { pictureId: request.pictureId, canvas, start: -1, ms: request.transitionMs, firstFramePosted: false, frames: 0, longestFrameMs: 0, composeMs };
      }
      break;
    }
    case 'capture': {
      if (stopping()) throw new Error('the display is closing');
      // What is scanned out: black while blank (a crossfade waits, undrawn, for the screen to be
      // on again); during a crossfade its last frame; before its first frame the picture it
      // fades from (lastAmount is the previous fade's until then).
      const data = blank ? compositor.readFrame(null)
        : transition && transition.frames > 0 ? compositor.readFrame(current, transition.canvas, lastAmount)
        : compositor.readFrame(current);
      post({ type: 'capture', requestId: request.requestId, width: display.width, height: display.height, data, pictureId: currentId }, [data.buffer as ArrayBuffer]);
      break;
    }
    case 'blank':
      blank = request.blank;
      dirty = true;
      break;
    case 'freeze': {
      // Test hook: the frame thread hangs (as on a stuck GPU or flip); heartbeats stop.
      const cell = new Int32Array(new SharedArrayBuffer(4));
      for (;;) Atomics.wait(cell, 0, 0);
    }
    case 'slow-frames':
      slowFrames = { count: request.frames, ms: request.ms, requestId: request.requestId };
      dirty = true;
      break;
    case 'close':
      closing = true;
      closeRequested();
      break;
  }
}

let pendingCut: { pictureId: number; composeMs: number } | null = null;

/** Reads the connector's status now and then: a screen that went away or came back. */
function checkConnector(now: number): void {
  if (!display.connectorState || now - lastConnectorCheck < CONNECTOR_CHECK_MS) return;
  lastConnectorCheck = now;
  const state = display.connectorState();
  if (screenConnected && !state.connected) screenLost();
  else if (!screenConnected && state.connected && state.modes.length > 0) screenBack();
}

function screenLost(): void {
  screenConnected = false;
  display.suspend?.();
  post({ type: 'screen-lost', connector: display.info.connector ?? '' });
}

/** The screen is back (maybe another one): its mode is set again at the next frame, at the new size if it changed. */
function screenBack(): void {
  const before = { width: display.width, height: display.height, mode: display.info.mode };
  let note: string | null = null;
  try {
    display.setMode!(input.screen.mode ?? '');
  } catch (error) {
    // The configured mode is not offered by this screen: its preferred one then.
    note = `${(error as Error).message}; using the screen's preferred mode`;
    display.setMode!('');
  }
  compositor.resize({ width: display.width, height: display.height });
  framePeriodMs = periodOf(display.refreshHz);
  screenConnected = true;
  dirty = true;
  post({
    type: 'screen-back', connector: display.info.connector ?? '', mode: display.info.mode, width: display.width, height: display.height,
    refreshHz: display.refreshHz, resized: display.width !== before.width || display.height !== before.height, modeBefore: before.mode, note,
  });
}

/** Presents the frame drawn; returns the time since the previous frame was presented. */
async function present(): Promise<number> {
  if (slowFrames.count > 0) {
    // Test hook: this frame takes `ms` longer, the thread blocked as in a long GL call.
    slowFrames.count--;
    post({ type: 'slow-frame', requestId: slowFrames.requestId });
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, slowFrames.ms);
  }
  try {
    const presented = display.present();
    presented.catch(() => {}); // closed first: close() settles it, nobody waits for it any more
    await Promise.race([presented, closeMessage]);
  } catch (error) {
    // Closing: the frame is not needed any more (e.g. its flip was cut short by close()).
    if (stopping()) return 0;
    // A screen unplugged between two checks can make the page flip fail: that is no crash.
    lastConnectorCheck = 0;
    checkConnector(performance.now());
    if (screenConnected) throw error;
  }
  const now = performance.now();
  const interval = now - lastPresent;
  lastPresent = now;
  heartbeat[0] = Date.now();
  heartbeat[1] = heartbeat[1]! + 1;
  return interval;
}

async function frameLoop(): Promise<void> {
  while (!stopping()) {
    const now = performance.now();
    checkConnector(now);
    if (!screenConnected) {
      // No screen to show on: pictures and transitions wait for it; the heartbeat says the thread is alive.
      heartbeat[0] = Date.now();
      await sleepUntilWoken(CONNECTOR_CHECK_MS);
      continue;
    }
    if (transition && !blank) {
      const t = transition;
      const amount = t.start < 0 ? 0 : Math.min(1, (now - t.start) / t.ms, lastAmount + MAX_FADE_STEP);
      compositor.drawFrame(current, t.canvas, amount);
      if (stopping()) break; // not presented: GL would run the composition for nothing
      lastAmount = amount;
      unchangedFrames = 0;
      const interval = await present();
      // The fade's clock starts once its first frame (amount 0) is up: GL runs the new picture's
      // composition with that frame, which takes seconds on a slow GPU and must not eat the fade.
      if (t.start < 0) t.start = performance.now();
      // Frame to frame during the fade (the first interval includes composing the picture).
      if (t.frames > 0) t.longestFrameMs = Math.max(t.longestFrameMs, interval);
      t.frames++;
      if (!t.firstFramePosted) {
        t.firstFramePosted = true;
        post({ type: 'first-frame', pictureId: t.pictureId, at: Date.now() });
      }
      if (amount >= 1) {
        compositor.release(current);
        current = t.canvas;
        currentId = t.pictureId;
        transition = null;
        post({ type: 'shown', pictureId: t.pictureId, frames: t.frames, longestFrameMs: t.longestFrameMs, composeMs: t.composeMs, interrupted: false });
      }
      // Headless presents at once: pace the transition at the refresh rate as a screen would.
      if (display.info.backend === 'headless') await sleep(Math.max(0, framePeriodMs - (performance.now() - now)));
      continue;
    }
    if (dirty || now - lastPresent >= KEEPALIVE_MS) {
      const changed = dirty;
      dirty = false;
      // A picture that arrives while this frame is presented is in the next frame, not this one.
      const cut = pendingCut;
      pendingCut = null;
      // A keepalive frame is drawn only into a buffer that does not hold it already (KMS tells
      // the buffer's age): redrawing the whole screen every second is real work on a software
      // rasterizer, taken from SR.
      const age = changed ? 0 : (display.bufferAge?.() ?? 0);
      if (!(age > 0 && age <= unchangedFrames)) compositor.drawFrame(blank ? null : current);
      if (stopping()) break;
      await present();
      unchangedFrames = changed ? 1 : unchangedFrames + 1;
      if (cut) {
        post({ type: 'first-frame', pictureId: cut.pictureId, at: Date.now() });
        post({ type: 'shown', pictureId: cut.pictureId, frames: 1, longestFrameMs: 0, composeMs: cut.composeMs, interrupted: false });
      }
      continue;
    }
    await sleepUntilWoken(Math.max(1, KEEPALIVE_MS - (now - lastPresent)));
  }
  try {
    if (transition) compositor.release(transition.canvas);
    compositor.release(current);
    compositor.dispose();
  } catch {
    // A GL error while freeing: the screen is given back all the same.
  }
  display.close(); // KMS: restores the CRTC that was there before
  post({ type: 'closed' });
  port.close();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

frameLoop().catch((error: unknown) => {
  post({ type: 'fatal', message: (error as Error).message });
  process.exit(1);
});
