// The messages between the main thread and the display thread (display-worker.ts).
import type { ScreenOptions } from '../display/open-screen.js';
import type { Rotation } from '../plan/placement.js';
import type { PictureSpec } from './compositor.js';

export interface DisplayWorkerData {
  screen: ScreenOptions;
  rotate: Rotation;
  /** Float64Array over it: [Date.now() of the last presented frame, frames presented]. */
  heartbeat: SharedArrayBuffer;
  /**
   * Int32Array over it: [1 once the main thread asked the display to close]. Set before the
   * 'close' message, which waits behind whatever the thread is doing (a frame that takes seconds
   * on a slow GPU): the thread reads it between its GL steps and skips the work left.
   */
  stop: SharedArrayBuffer;
}

export type DisplayRequest =
  | { type: 'show'; pictureId: number; spec: PictureSpec; transitionMs: number }
  | { type: 'capture'; requestId: number }
  | { type: 'blank'; blank: boolean }
  | { type: 'freeze' }
  /** Test hook: the next `frames` frames each take `ms` longer (blocking the thread, as a slow GPU's frames do). */
  | { type: 'slow-frames'; requestId: number; ms: number; frames: number }
  | { type: 'close' };

export interface OpenedDisplay {
  width: number;
  height: number;
  refreshHz: number;
  info: { backend: 'kms' | 'headless'; card?: string; driver?: string; connector?: string; mode: string; glRenderer: string };
  headlessReason: string | null;
  gl: { renderer: string; version: string; maxTextureSize: number };
}

export type DisplayEvent =
  | ({ type: 'opened' } & OpenedDisplay)
  | { type: 'open-failed'; message: string; code: string | null }
  /** The first frame that contains the picture was presented (a crossfade's first step). */
  | { type: 'first-frame'; pictureId: number; at: number }
  /** The picture is fully on screen (its transition ended). */
  | { type: 'shown'; pictureId: number; frames: number; longestFrameMs: number; composeMs: number; interrupted: boolean }
  | { type: 'capture'; requestId: number; width: number; height: number; data: Uint8Array; pictureId: number }
  | { type: 'error'; requestId: number | null; message: string }
  | { type: 'fatal'; message: string }
  /** KMS: the connector reads disconnected (the screen was unplugged or switched off); nothing is presented. */
  | { type: 'screen-lost'; connector: string }
  /** KMS: the screen is connected again and shows the current picture, at `mode` (`resized` when its size changed). */
  | { type: 'screen-back'; connector: string; mode: string; width: number; height: number; refreshHz: number; resized: boolean; modeBefore: string; note: string | null }
  /** Test hook: a slow frame (see 'slow-frames') has started; the thread is busy for its `ms`. */
  | { type: 'slow-frame'; requestId: number }
  /** The display is closed (KMS: the CRTC found at start is restored). */
  | { type: 'closed' };
