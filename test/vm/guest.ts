// Runs inside the test VM (see kms.test.ts): opens the virtual screen through
// openDisplay(), shows the grid pattern (a modeset), then on SIGUSR2 the overlap
// pattern (a page flip), and on SIGTERM closes the display and exits 0. Every step is
// announced on the serial console as one line: `UPREZ-VM <event> <json>`.
// `guest.js worker` does the same with the display in a worker thread (the main thread
// only forwards the signals), as uprez does its GPU work; `guest.js abandoned-worker`
// ends that worker without close(), so the addon's clean-up must restore the screen.
// It imports only the addon and the patterns: node runs slowly under emulation.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { listCards, openDisplay, type CrtcState, type Display } from 'node-drm-gbm-egl';
import { gridPattern, overlapPattern, type Block } from './patterns.js';

type Control = 'flip' | 'close';

function announce(event: string, details: object = {}): void {
  process.stdout.write(`UPREZ-VM ${event} ${JSON.stringify(details)}\n`);
}

/** What the first connected connector shows now, read with drmModeGetCrtc. */
function currentCrtc(): CrtcState | null {
  for (const card of listCards()) {
    const connector = card.connectors.find((c) => c.connected);
    if (connector) return connector.crtc;
  }
  return null;
}

/** Paints the blocks with scissored clears: exact colours and edges, no shaders needed. */
function drawBlocks(display: Display, blocks: Block[]): void {
  const { gl } = display;
  gl.bindFramebuffer(gl.FRAMEBUFFER, null);
  gl.viewport(0, 0, display.width, display.height);
  gl.enable(gl.SCISSOR_TEST);
  for (const block of blocks) {
    // GL's window origin is the bottom-left corner, the screen's the top-left one.
    gl.scissor(block.x, display.height - block.y - block.height, block.width, block.height);
    gl.clearColor(block.color[0] / 255, block.color[1] / 255, block.color[2] / 255, 1);
    gl.clear(gl.COLOR_BUFFER_BIT);
  }
  gl.disable(gl.SCISSOR_TEST);
}

function errorOf(action: () => unknown): { name: string; code: unknown; message: string } | null {
  try {
    action();
    return null;
  } catch (error) {
    const { name, message, code } = error as Error & { code?: unknown };
    return { name, code, message };
  }
}

/** The test's sequence; `on` registers what to do when the host says 'flip' or 'close'. */
async function showPatterns(on: (control: Control, action: () => Promise<void> | void) => void, thread: string): Promise<void> {
  announce('crtc-before', { crtc: currentCrtc(), thread });

  let started = performance.now();
  const display = openDisplay();
  announce('opened', { ...display.info, width: display.width, height: display.height, ms: Math.round(performance.now() - started) });

  started = performance.now();
  drawBlocks(display, gridPattern(display.width, display.height));
  await display.present();
  announce('frame', { pattern: 'grid', crtc: currentCrtc(), ms: Math.round(performance.now() - started) });

  // While the display is open, a second one cannot take the screen, and an absent
  // mode is refused: both must say what to do.
  announce('errors', {
    busy: errorOf(() => openDisplay().close()),
    badMode: errorOf(() => openDisplay({ mode: '1234x567' }).close()),
  });

  on('flip', async () => {
    const flipStarted = performance.now();
    drawBlocks(display, overlapPattern(display.width, display.height));
    const flip = display.present();
    // One frame in flight at a time: a second present() must wait for the flip.
    const presentWhilePending = await display.present().then(() => 'resolved', (error: { code?: string }) => error.code);
    await flip;
    announce('frame', { pattern: 'overlap', crtc: currentCrtc(), presentWhilePending, ms: Math.round(performance.now() - flipStarted) });
  });
  on('close', async () => {
    // Closing with a page flip still in flight must be safe too.
    const latePresent = display.present().then(() => 'resolved', (error: { code?: string }) => error.code);
    display.close();
    display.close(); // idempotent
    announce('closed', { crtc: currentCrtc(), latePresent: await latePresent });
  });
}

function fail(error: unknown): never {
  announce('failed', { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  process.exit(1);
}

const signals: Record<Control, NodeJS.Signals> = { flip: 'SIGUSR2', close: 'SIGTERM' };

if (!isMainThread) {
  // The display's thread: the host's signals arrive as messages from the main thread.
  // An abandoning worker ends without close(): the addon must restore the screen itself.
  const abandon = (workerData as { abandon: boolean }).abandon;
  const actions = new Map<Control, () => Promise<void> | void>();
  parentPort!.on('message', async (control: Control) => {
    if (control === 'close' && abandon) process.exit(0); // ends this thread only
    await actions.get(control)?.();
    if (control === 'close') parentPort!.close(); // nothing else keeps this thread alive
  });
  showPatterns((control, action) => actions.set(control, action), process.argv[2]).catch(fail);
} else if (process.argv[2] === 'worker' || process.argv[2] === 'abandoned-worker') {
  const abandon = process.argv[2] === 'abandoned-worker';
  const worker = new Worker(new URL(import.meta.url), { workerData: { abandon }, argv: [process.argv[2]] });
  for (const control of ['flip', 'close'] as const) process.on(signals[control], () => worker.postMessage(control));
  worker.on('error', fail);
  worker.on('exit', (code) => {
    if (abandon) announce('closed', { crtc: currentCrtc(), latePresent: 'abandoned' });
    process.exitCode = code;
  });
} else {
  const keepAlive = setInterval(() => {}, 1 << 30);
  showPatterns((control, action) => {
    process.once(signals[control], () => {
      Promise.resolve(action()).then(() => control === 'close' && clearInterval(keepAlive), fail);
    });
  }, 'main').catch(fail);
}
