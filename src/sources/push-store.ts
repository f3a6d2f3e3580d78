// Pushed images, kept in the state directory so they survive a restart and can be shown again:
// one file per image plus an index (JSON), each written atomically (temporary file, fsync,
// rename). Bounded in count and bytes: the oldest are evicted first, but never the one on
// screen, nor one still waiting for its first turn on screen (an accepted picture is never lost
// unseen: the daemon refuses new pushes while the store has no room, see `room()`).
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Fit } from '../plan/placement.js';
import { DiskWrites } from '../service/disk-writes.js';

export interface PushedImage {
  id: string;
  name: string;
  bytes: number;
  addedAt: string;
  keep: boolean;
  fit: Fit | null;
  durationS: number | null;
  /** When it was first on screen; null while it waits for its turn (missing in old indexes: shown). */
  shownAt?: string | null;
}

/** A picture kept in the slideshow and never on screen yet: not to be evicted. */
const waitsForFirstShow = (image: PushedImage) => image.keep && image.shownAt === null;

export interface PushStoreLimits {
  maxImages: number;
  maxBytes: number;
}

/**
 * Writes all of `data` at the file's position in as few requests as the system allows: one for a
 * whole picture, where writeFile makes one per 512 KiB (20 turns of the event loop, each a wake-up
 * of a pool thread, for a 10 MB push).
 */
async function writeAll(file: FileHandle, data: Uint8Array[]): Promise<void> {
  let pending = data.filter((part) => part.length > 0);
  while (pending.length > 0) {
    let written = (await file.writev(pending)).bytesWritten;
    if (written === 0) throw new Error('the disk took none of the bytes written');
    const rest: Uint8Array[] = [];
    for (const part of pending) {
      if (written >= part.length) written -= part.length;
      else {
        rest.push(written > 0 ? part.subarray(written) : part);
        written = 0;
      }
    }
    pending = rest;
  }
}

async function writeAtomically(path: string, data: Buffer | string): Promise<void> {
  const temporary = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const file = await open(temporary, 'w');
    try {
      if (typeof data === 'string') await file.writeFile(data);
      else await writeAll(file, [data]);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined); // a half-written temporary file takes space for nothing
    throw error;
  }
}

export class PushStore {
  private readonly entries = new Map<string, PushedImage>();
  private writing: Promise<void> = Promise.resolve();
  private readonly writes = new DiskWrites('push');

  private constructor(readonly dir: string, private readonly limits: PushStoreLimits) {}

  static async open(stateDir: string, limits: PushStoreLimits): Promise<PushStore> {
    const store = new PushStore(join(stateDir, 'pushed'), limits);
    await mkdir(store.dir, { recursive: true });
    try {
      const index = JSON.parse(await readFile(store.indexPath, 'utf8')) as { images?: PushedImage[] };
      for (const image of index.images ?? []) store.entries.set(image.id, image);
    } catch {
      // No index yet (or unreadable): start empty; stray image files are overwritten by new ids.
    }
    return store;
  }

  private get indexPath(): string {
    return join(this.dir, 'index.json');
  }

  pathOf(id: string): string {
    return join(this.dir, `${id}.img`);
  }

  list(): PushedImage[] {
    return [...this.entries.values()];
  }

  get(id: string): PushedImage | undefined {
    return this.entries.get(id);
  }

  static newId(): string {
    return `p-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  }

  /**
   * Whether `count` more images of `bytes` in all fit beside those waiting for their first turn
   * on screen (which are never evicted). An image alone is always let in, whatever its size.
   */
  room(count: number, bytes: number): { fits: boolean; waiting: number; waitingBytes: number } {
    const waiting = [...this.entries.values()].filter(waitsForFirstShow);
    const waitingBytes = waiting.reduce((sum, e) => sum + e.bytes, 0);
    const fits = waiting.length + count <= this.limits.maxImages && (waiting.length === 0 || waitingBytes + bytes <= this.limits.maxBytes);
    return { fits, waiting: waiting.length, waitingBytes };
  }

  /** Records that an image was on screen (once: later showings change nothing). */
  markShown(id: string): void {
    const entry = this.entries.get(id);
    if (!entry || entry.shownAt !== null) return;
    entry.shownAt = new Date().toISOString();
    void this.saveIndex();
  }

  /**
   * Stores an image; returns the ids evicted to stay within the limits: the oldest first, never
   * `protect` nor one waiting for its first turn on screen (the limits may then be exceeded
   * until those have been shown; the daemon checks `room()` first).
   * Throws (after logging it) when the image cannot be written: nothing is stored then.
   */
  async add(image: PushedImage, data: Buffer, protect: ReadonlySet<string>): Promise<string[]> {
    try {
      await writeAtomically(this.pathOf(image.id), data);
    } catch (error) {
      this.writes.failed(this.pathOf(image.id), error, 'a pushed image');
      throw error;
    }
    this.entries.set(image.id, image);
    const evicted: string[] = [];
    let total = [...this.entries.values()].reduce((sum, e) => sum + e.bytes, 0);
    for (const entry of [...this.entries.values()]) {
      if (this.entries.size <= this.limits.maxImages && total <= this.limits.maxBytes) break;
      if (entry.id === image.id || protect.has(entry.id) || waitsForFirstShow(entry)) continue;
      this.entries.delete(entry.id);
      total -= entry.bytes;
      evicted.push(entry.id);
      await rm(this.pathOf(entry.id), { force: true });
    }
    await this.saveIndex();
    return evicted;
  }

  async delete(id: string): Promise<boolean> {
    if (!this.entries.delete(id)) return false;
    await rm(this.pathOf(id), { force: true });
    await this.saveIndex();
    return true;
  }

  /** Index writes happen one after another, each complete. */
  private saveIndex(): Promise<void> {
    const snapshot = JSON.stringify({ version: 1, images: this.list() }, null, 1);
    this.writing = this.writing.then(async () => {
      try {
        await writeAtomically(this.indexPath, snapshot);
        this.writes.succeeded(this.indexPath);
      } catch (error) {
        this.writes.failed(this.indexPath, error, 'the index of pushed images');
      }
    });
    return this.writing;
  }
}
