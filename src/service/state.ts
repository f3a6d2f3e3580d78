// The daemon's state across restarts (and SIGKILL): the picture on screen and the slideshow's
// position, in one small JSON file written atomically (temporary file, fsync, rename), so a
// crash mid-write leaves the previous state, never half of one.
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { SlideshowState } from '../show/slideshow.js';
import { DiskWrites } from './disk-writes.js';

export interface SavedState {
  version: 1;
  /** Id (path relative to the folder) of the picture on screen. */
  current: string | null;
  slideshow: SlideshowState | null;
  savedAt: string;
}

export class StateFile {
  private writing: Promise<void> = Promise.resolve();
  private serial = 0;
  private readonly writes = new DiskWrites('state');

  constructor(readonly dir: string) {}

  get path(): string {
    return join(this.dir, 'state.json');
  }

  /** The saved state, or null when there is none or it cannot be read (a fresh start). */
  async load(): Promise<SavedState | null> {
    try {
      const parsed = JSON.parse(await readFile(this.path, 'utf8')) as Partial<SavedState>;
      if (parsed.version !== 1) return null;
      return { version: 1, current: parsed.current ?? null, slideshow: parsed.slideshow ?? null, savedAt: String(parsed.savedAt) };
    } catch {
      return null;
    }
  }

  /** Saves in the background, in order; the last call wins. A failed save is logged (the previous file stays whole). */
  save(state: Omit<SavedState, 'version' | 'savedAt'>): Promise<void> {
    const record: SavedState = { version: 1, ...state, savedAt: new Date().toISOString() };
    const serial = ++this.serial;
    this.writing = this.writing.then(async () => {
      if (serial !== this.serial) return;
      try {
        await this.write(record);
        this.writes.succeeded(this.path);
      } catch (error) {
        this.writes.failed(this.path, error, 'the picture on screen and the slideshow position');
      }
    });
    return this.writing;
  }

  private async write(state: SavedState): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const temporary = `${this.path}.${process.pid}.tmp`;
    try {
      const file = await open(temporary, 'w');
      try {
        await file.writeFile(`${JSON.stringify(state, null, 2)}\n`);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temporary, this.path);
    } catch (error) {
      await rm(temporary, { force: true }).catch(() => undefined); // a half-written temporary file takes space for nothing
      throw error;
    }
  }
}
