// How the stores on disk (SR cache, state file, pushed images) report their writes: a failed
// write (disk full, read-only, removed) is one clear log line and never stops the screen; the
// first write that works again after failures says so too.
import { log } from './log.js';

function adviceFor(code: string | undefined): string {
  if (code === 'ENOSPC' || code === 'EDQUOT') return 'the disk is full: free some space; pictures still show, and writing resumes by itself';
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') return 'the folder cannot be written: make it writable by the uprez user';
  return 'pictures still show; the write is tried again next time';
}

export class DiskWrites {
  private failures = 0;

  /** `store`: the name in the log events (cache, state, push). */
  constructor(private readonly store: string) {}

  get failing(): boolean {
    return this.failures > 0;
  }

  failed(path: string, error: unknown, what: string): void {
    this.failures++;
    const code = (error as NodeJS.ErrnoException).code;
    log.warn(`${this.store}.write-failed`, {
      what, path, code, message: (error as Error).message, failuresInARow: this.failures, advice: adviceFor(code),
    });
  }

  succeeded(path: string): void {
    if (this.failures === 0) return;
    log.info(`${this.store}.write-resumed`, { path, after: this.failures });
    this.failures = 0;
  }
}
