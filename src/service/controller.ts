// What remote control can do with the daemon: the websocket, the web page and `uprez push`
// all go through this interface (the daemon implements it), so they cannot drift apart.
import type { EventEmitter } from 'node:events';
import type { Fit } from '../plan/placement.js';

export type ImageSource = 'folder' | 'push';

export interface PushOptions {
  /** Shown in lists and logs (default: "pushed-<n>"); not a path. */
  name?: string;
  /** Seconds on screen before the slideshow resumes (default: the slideshow's interval). */
  durationS?: number;
  /** Placement for this image only (default: the configured fit). */
  fit?: Fit;
  /** Whether it joins the slideshow after its turn (default true); false: shown once, then forgotten (but stored until evicted). */
  keep?: boolean;
}

export interface Accepted {
  id: string;
  name: string;
  width: number;
  height: number;
  /** Decode and planning time. */
  decodeMs: number;
}

/** What a client did wrong or what went wrong, with a stable code for programs. */
export class ControlError extends Error {
  constructor(readonly code: ControlErrorCode, message: string) {
    super(message);
  }
}

export type ControlErrorCode =
  | 'bad-image'      // does not decode (the decoder's reason), or over the pixel limit
  | 'not-found'      // no image with that id
  | 'not-allowed'    // e.g. deleting a folder image
  | 'busy'           // too many pushes waiting
  | 'internal';

export type PictureState = 'waiting' | 'preview' | 'super-resolved' | 'resampled' | 'sr-failed' | 'rejected';

export interface ImageInfo {
  id: string;
  source: ImageSource;
  name: string;
  bytes: number;
  /** Decoded size (after EXIF orientation), once known. */
  width: number | null;
  height: number | null;
  /** On screen now: its state; else 'waiting' (or 'rejected'). */
  state: PictureState;
  onScreen: boolean;
  rejected: string | null;
  /** ISO time it was added (folder: file mtime). */
  addedAt: string;
}

/**
 * Events, in this order for one image: accepted (decoded and queued) or rejected; preview-shown
 * (its first frame); sr-done (the SR version is ready, when SR applies); shown (the SR version,
 * or the only version, fully on screen). `ms` counts from the moment the image was taken.
 */
export type DaemonEvent =
  | { type: 'accepted'; id: string; name: string; source: ImageSource; width: number; height: number; ms: number }
  | { type: 'rejected'; id: string | null; name: string; source: ImageSource; code: ControlErrorCode; message: string }
  | { type: 'preview-shown'; id: string; ms: number }
  | { type: 'sr-done'; id: string; ms: number; srMs: number; cache: 'hit' | 'miss' }
  | { type: 'shown'; id: string; ms: number; version: 'preview' | 'final'; state: PictureState };

export interface Controller {
  /** Stores the image (state directory), decodes and queues it; resolves when accepted, rejects with ControlError. */
  push(bytes: Buffer, options: PushOptions, client: string): Promise<Accepted>;
  /** Shows a known image now (then the slideshow goes on from it). */
  show(id: string): Promise<void>;
  next(): Promise<void>;
  prev(): Promise<void>;
  /** Stops the slideshow clock (the picture stays); pushes are still shown. */
  pause(): void;
  resume(): void;
  readonly paused: boolean;
  list(): ImageInfo[];
  /** Pushed images only: forgets and deletes it (a picture on screen stays until the next). */
  delete(id: string): Promise<void>;
  status(): Record<string, unknown>;
  /** 'event' (DaemonEvent) */
  readonly events: EventEmitter;
}
