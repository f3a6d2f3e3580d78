// Reading a picture's file without trusting the file system. A file on a share can hang on read
// (a dead NFS or SMB server, a stuck FUSE): fs.readFile would then hold one of libuv's four pool
// threads for good, and the display's captures, sharp's decoding and the cache share that pool.
// So on anything but a local disk the bytes are read by a child process (`cat`, its stdin the
// opened file), killed after a timeout. On a local disk they are read directly: spawning costs
// the event loop a fork of the whole daemon (100 ms and more once it holds a few GB of 4K
// pictures, the soak's profile). Reads go one at a time; the file is compared before and after,
// so a file replaced or rewritten while it was read is reported as such instead of as bad bytes.
import { spawn } from 'node:child_process';
import { open, stat, statfs } from 'node:fs/promises';
import type { Stats } from 'node:fs';

/** The read took longer than the timeout (the child reading it was killed). */
export class FileReadTimeout extends Error {
  override readonly name = 'FileReadTimeout';
  readonly code = 'ETIMEDOUT';
}

/** The file changed (replaced, rewritten) while it was read: the bytes may mix two versions. */
export class FileChangedWhileRead extends Error {
  override readonly name = 'FileChangedWhileRead';
}

export interface ReadOptions {
  timeoutMs: number;
  /** Test hooks: wait this long before opening the file, and between opening and reading it. */
  delayBeforeOpenMs?: number;
  delayAfterOpenMs?: number;
  /** Called once the file is open (test hooks: then it may be replaced or deleted). */
  onOpened?: () => void;
}

/** Local file systems (statfs f_type, linux/magic.h): read directly. Anything else: through a child. */
const LOCAL_FILE_SYSTEMS = new Map<number, string>([
  [0xef53, 'ext2/3/4'], [0x01021994, 'tmpfs'], [0x858458f6, 'ramfs'], [0x9123683e, 'btrfs'], [0x58465342, 'xfs'],
  [0xf2f52010, 'f2fs'], [0x4d44, 'vfat'], [0x2011bab0, 'exfat'], [0x7366746e, 'ntfs3'], [0x794c7630, 'overlayfs'],
  [0x73717368, 'squashfs'], [0x2fc12fc1, 'zfs'], [0x9660, 'iso9660'], [0x15013346, 'udf'],
]);

/** How a file is read: 'direct' on a local disk, 'child' on a share, FUSE or anything unknown. */
export async function readMethod(path: string | Buffer): Promise<'direct' | 'child'> {
  const { type } = await statfs(path);
  return LOCAL_FILE_SYSTEMS.has(type >>> 0) ? 'direct' : 'child';
}

const sameVersion = (a: Stats, b: Stats) => a.ino === b.ino && a.dev === b.dev && a.size === b.size && a.mtimeMs === b.mtimeMs;

export class FileReader {
  private queue: Promise<unknown> = Promise.resolve();

  /** Reads the whole file; one read at a time, so a hung share holds up reads, never the process. */
  read(path: string | Buffer, options: ReadOptions): Promise<Buffer> {
    const result = this.queue.then(() => readOnce(path, options));
    this.queue = result.catch(() => undefined);
    return result;
  }
}

async function readOnce(path: string | Buffer, options: ReadOptions): Promise<Buffer> {
  if (options.delayBeforeOpenMs) await new Promise((resolve) => setTimeout(resolve, options.delayBeforeOpenMs));
  const file = await open(path, 'r'); // ENOENT here: the file went between the watcher's event and the read
  let before: Stats;
  let bytes: Buffer;
  try {
    before = await file.stat();
    options.onOpened?.();
    if (options.delayAfterOpenMs) await new Promise((resolve) => setTimeout(resolve, options.delayAfterOpenMs));
    bytes = (await readMethod(path)) === 'direct' ? await file.readFile() : await readThroughChild(file.fd, options.timeoutMs);
    const after = await file.stat();
    if (!sameVersion(before, after)) throw new FileChangedWhileRead('the file was rewritten while it was read');
  } finally {
    await file.close();
  }
  const now = await stat(path); // ENOENT: deleted (or renamed away) while it was read
  if (!sameVersion(before, now)) throw new FileChangedWhileRead('the file was replaced while it was read');
  return bytes;
}

function readThroughChild(fd: number, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('cat', [], { stdio: [fd, 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new FileReadTimeout(`reading the file took longer than ${timeoutMs} ms (a share that does not answer?); gave up`));
    }, timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal) return; // killed by the timeout: already rejected
      if (code !== 0) return reject(new Error(`the file cannot be read: ${stderr.trim() || `cat exited with ${code}`}`));
      resolve(Buffer.concat(chunks));
    });
  });
}
