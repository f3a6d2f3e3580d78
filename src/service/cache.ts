// On-disk cache of SR results, so a looping slideshow pays for SR once per image.
//
// Format: the raw pixels behind a 20-byte header; a crc32 covers the header and the pixels.
// Chosen by measurement, `npm run bench:cache -- --photo RainDrops.jpg` (mate-backgrounds), medians here:
//   3840x2160 RGB          MB   write ms  read ms  encode ms  decode ms  pi ms
//   raw + crc32 (this)   24.9        62       27         20         11   1783
//   raw + sha256         24.9        74       50         41         34   1960
//   PNG level 1 filtered 11.6       307      105        293        100   2345
//   PNG level 1          19.1       260      127        222        117   2627
//   PNG level 2          16.3       338      130        310        124   2821
//   zlib deflate 1       16.4       562      201        527        191   3966
//   WebP lossless e0      6.1      3651      211       3641        210  15810
// (1920x1080: raw 433 pi ms, PNG level 1 639, filtered 755; another photo ranks the same.)
// All are bit-exact. Rule: the lowest cost of one write plus one read on a Raspberry Pi 4 (the
// slowest board that drives 4K), pi ms = 4 x CPU ms here + 2 x MB / 30 MB/s (SD card). On a Pi the
// CPU spent compressing costs more than the card time it saves: filtered PNG would only win on a
// card slower than ~18 MB/s, or a CPU under ~2.5x slower than this one (a Pi 5 may be; see the
// bench's sensitivity table). The price of raw: 1 GB holds ~40 entries at 3840x2160 RGB (~85 as
// filtered PNG), so a longer 4K slideshow needs a larger maxBytes to hit on every loop.
//
// Files: <dir>/<key>.sr, written as <dir>/.<key>.<random>.tmp, fsynced, then renamed (a reader
// sees the old entry, none, or the whole new one). LRU order is the files' mtime, touched on
// every hit, so it survives restarts. All I/O is async. The crc32 of an entry's pixels (shared
// memory: an SR result, an entry read back) is summed in a thread of its own, never on the event
// loop (1.8 s per 2 minutes of the 4K soak's main thread when it was, in 1 MiB slices); pixels in
// plain memory (tests, tools) are summed here, in 1 MiB slices.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, stat, unlink, utimes, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import zlib from 'node:zlib';
import type { RasterImage } from '../sr/model.js';
import { isShared, sharedPixels } from '../sr/shared-pixels.js';
import { DiskWrites } from './disk-writes.js';

export const ENTRY_FORMAT = 'raw + crc32';

export interface CacheKeyParts {
  contentHash: string;
  model: string;
  width: number;
  height: number;
  fit: string;
  rotate: number;
  variant?: string;
}

/** A stable sha256 hex digest of every part (JSON keeps the parts apart: no "a|b" ambiguity). */
export function cacheKey(parts: CacheKeyParts): string {
  const { contentHash, model, width, height, fit, rotate, variant = '' } = parts;
  return createHash('sha256').update(JSON.stringify(['uprez-sr-1', contentHash, model, width, height, fit, rotate, variant])).digest('hex');
}

export interface CacheStats {
  entries: number;
  bytes: number;
  maxBytes: number;
  hits: number;
  misses: number;
  writes: number;
  evictions: number;
  corruptDropped: number;
  /** Puts that failed on the disk (full, read-only, gone); the cache goes on without that entry. */
  writeErrors: number;
}

// --- entry format: header (20 bytes, little-endian) + width*height*channels bytes of pixels
//   0 magic "UPRZ" · 4 version · 5 channels · 6 reserved (0) · 8 width · 12 height
//   16 crc32 of bytes 0..15 then of the pixels
const MAGIC = 0x5a525055; // "UPRZ" read as a little-endian u32
const VERSION = 1;
const HEADER_BYTES = 20;
const CRC_SLICE = 1 << 20;

/** Shared pixels from this size on are summed in the checksum thread (a message costs ~0.1 ms). */
const CRC_THREAD_MIN_BYTES = 4096;

// The checksum thread: crc32 of shared memory, which it reads without a copy. Its handles on the
// pixels must go for their memory to go (V8 does not count shared memory towards its collections,
// see shared-pixels.ts): its heap is tiny, so it collects fully after each burst of requests.
// (A function scope: a script's top-level names are globals, and \`gc\` is one already where a
// thread exposed it before this one started.)
const CHECKSUM_THREAD = `(() => {
  const { parentPort } = require('node:worker_threads');
  const { crc32 } = require('node:zlib');
  const { setFlagsFromString } = require('node:v8');
  const { runInNewContext } = require('node:vm');
  setFlagsFromString('--expose-gc');
  const collectAll = runInNewContext('gc');
  let collecting = null;
  parentPort.on('message', (request) => {
    const value = crc32(request.data, request.value);
    request = null;
    parentPort.postMessage(value);
    collecting ??= setImmediate(() => {
      collecting = null;
      collectAll();
    });
  });
})();`;

/**
 * The checksum thread's side here: requests are answered in order. Started when a cache opens (so
 * that the daemon's threads and fds are the same from start to end), ref'd only while one waits.
 */
class ChecksumThread {
  private worker: Worker | null = null;
  private readonly waiting: { resolve: (value: number) => void; reject: (error: Error) => void }[] = [];
  /** Times it crashed or exited (for tests: it never should). */
  failures = 0;

  crc32(data: Uint8Array, value: number): Promise<number> {
    const worker = this.start();
    return new Promise((resolve, reject) => {
      if (this.waiting.length === 0) worker.ref();
      this.waiting.push({ resolve, reject });
      worker.postMessage({ data, value });
    });
  }

  start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(CHECKSUM_THREAD, { eval: true, name: 'uprez-cache-checksum' });
    worker.on('message', (value: number) => {
      this.waiting.shift()?.resolve(value);
      if (this.waiting.length === 0) worker.unref();
    });
    const fail = (message: string) => {
      this.failures++;
      if (this.worker === worker) this.worker = null; // the next request starts another
      for (const { reject } of this.waiting.splice(0)) reject(new Error(message));
    };
    worker.on('error', (error) => fail(`the cache's checksum thread crashed: ${error.message}`));
    worker.on('exit', (code) => fail(`the cache's checksum thread exited (code ${code})`));
    // It never keeps the process alive by itself. (After the listeners: adding a 'message' listener refs it again.)
    worker.unref();
    this.worker = worker;
    return worker;
  }
}

const checksumThread = new ChecksumThread();

/** How often the checksum thread failed in this process (tests: it never should). */
export function checksumThreadFailures(): number {
  return checksumThread.failures;
}

/**
 * crc32 of `bytes` continuing from `value`: in the checksum thread for shared memory (a thread that
 * failed falls back to this one), else here in 1 MiB slices with a turn of the event loop between
 * them: a 4K entry never stalls it.
 */
async function crc32(bytes: Uint8Array, value: number): Promise<number> {
  if (isShared(bytes) && bytes.length >= CRC_THREAD_MIN_BYTES) {
    try {
      return await checksumThread.crc32(bytes, value);
    } catch {
      // summed here instead
    }
  }
  for (let at = 0; at < bytes.length; at += CRC_SLICE) {
    if (at > 0) await nextTurn();
    value = zlib.crc32(bytes.subarray(at, at + CRC_SLICE), value);
  }
  return value;
}

/** The parts of an entry file, in order (the pixels are not copied). */
export async function encodeEntry(image: RasterImage): Promise<Uint8Array[]> {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32LE(MAGIC, 0);
  header.writeUInt8(VERSION, 4);
  header.writeUInt8(image.channels, 5);
  header.writeUInt32LE(image.width, 8);
  header.writeUInt32LE(image.height, 12);
  header.writeUInt32LE(await crc32(image.data, zlib.crc32(header.subarray(0, 16))), 16);
  return [header, image.data];
}

/** A file's bytes in shared memory (the display thread shows the entry without a copy). */
async function readShared(path: string): Promise<Uint8Array> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const bytes = sharedPixels(size);
    for (let at = 0; at < size;) {
      const { bytesRead } = await file.read(bytes, at, size - at, at);
      if (bytesRead === 0) return bytes.subarray(0, at); // shorter than it was: decodeEntry refuses it
      at += bytesRead;
    }
    return bytes;
  } finally {
    await file.close();
  }
}

/** The image in an entry file, or null when the file is not a whole, intact entry. */
export async function decodeEntry(bytes: Uint8Array): Promise<RasterImage | null> {
  if (bytes.length < HEADER_BYTES) return null;
  const header = Buffer.from(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  const channels = header.readUInt8(5);
  const width = header.readUInt32LE(8);
  const height = header.readUInt32LE(12);
  if (header.readUInt32LE(0) !== MAGIC || header.readUInt8(4) !== VERSION || (channels !== 3 && channels !== 4)) return null;
  const data = bytes.subarray(HEADER_BYTES);
  if (data.length !== width * height * channels) return null; // truncated or padded
  if (await crc32(data, zlib.crc32(header.subarray(0, 16))) !== header.readUInt32LE(16)) return null;
  return { width, height, channels, data };
}

const KEY = /^[0-9a-f]{64}$/;
const ENTRY_FILE = /^([0-9a-f]{64})\.sr$/;
const TEMP_FILE = /^\.[0-9a-f]{64}\.[0-9a-f]+\.tmp$/;

interface Entry {
  bytes: number;
}

export class SrCache {
  /** Entries in LRU order: the first is the least recently used (a Map keeps insertion order). */
  private readonly entries = new Map<string, Entry>();
  private totalBytes = 0;
  private readonly counts = { hits: 0, misses: 0, writes: 0, evictions: 0, corruptDropped: 0, writeErrors: 0 };
  private readonly diskWrites = new DiskWrites('cache');

  private constructor(private readonly dir: string, private readonly maxBytes: number) {}

  /**
   * Opens (creates) the cache in `dir`: finds the entries already there, oldest first, removes
   * temporary files a crash left behind, and evicts down to `maxBytes`. maxBytes 0 disables the
   * cache without touching the disk (so disabling it for a while does not wipe it).
   */
  static async open(dir: string, maxBytes: number): Promise<SrCache> {
    if (!(maxBytes >= 0)) throw new RangeError(`SR cache size must be a number of bytes >= 0, got ${maxBytes}`);
    const cache = new SrCache(dir, maxBytes);
    if (maxBytes === 0) return cache;
    checksumThread.start();
    let names: string[];
    try {
      await mkdir(dir, { recursive: true });
      names = await readdir(dir);
    } catch (error) {
      throw new Error(`cannot open the SR cache folder ${dir}: ${(error as Error).message}. ` +
        'Make it writable by the uprez user, choose another folder, or set the cache size to 0 to run without a cache.');
    }
    const found: { key: string; bytes: number; mtimeMs: number }[] = [];
    await Promise.all(names.map(async (name) => {
      const path = join(dir, name);
      if (TEMP_FILE.test(name)) return removeQuietly(path);
      const key = ENTRY_FILE.exec(name)?.[1];
      if (!key) return; // not ours: leave it alone
      const info = await stat(path).catch(() => null);
      if (info?.isFile()) found.push({ key, bytes: info.size, mtimeMs: info.mtimeMs });
    }));
    found.sort((a, b) => a.mtimeMs - b.mtimeMs);
    for (const { key, bytes } of found) cache.remember(key, { bytes });
    await cache.evict();
    return cache;
  }

  /**
   * The cached image, or null on a miss. A corrupt or truncated entry is deleted, counted and missed.
   * Its data is a view into the file's buffer (byteOffset 20), not a whole ArrayBuffer.
   */
  async get(key: string): Promise<RasterImage | null> {
    checkKey(key);
    const entry = this.entries.get(key);
    if (!entry) return this.miss();
    const path = this.pathOf(key);
    let bytes: Uint8Array;
    try {
      bytes = await readShared(path);
    } catch {
      this.forget(key, entry); // deleted behind our back (or unreadable): it is not cached any more
      return this.miss();
    }
    const image = await decodeEntry(bytes);
    if (!image) {
      // Only drop it if no put replaced it while we were reading.
      if (this.forget(key, entry)) {
        this.counts.corruptDropped++;
        await removeQuietly(path);
      }
      return this.miss();
    }
    this.counts.hits++;
    if (this.entries.get(key) === entry) this.remember(key, entry); // most recently used now
    const now = new Date();
    await utimes(path, now, now).catch(() => undefined); // the LRU order on disk, for the next start
    return image;
  }

  /**
   * Stores `image` under `key` atomically, then evicts least recently used entries to fit.
   * Never throws for a disk problem (full, read-only, removed): logs it and counts it in writeErrors.
   * An entry larger than maxBytes is not stored.
   */
  async put(key: string, image: RasterImage): Promise<void> {
    checkKey(key);
    if (image.data.length !== image.width * image.height * image.channels) {
      throw new TypeError(`SR cache: image data is ${image.data.length} bytes, not ${image.width}x${image.height}x${image.channels}`);
    }
    if (this.maxBytes === 0) return;
    const parts = await encodeEntry(image);
    const bytes = parts.reduce((sum, part) => sum + part.length, 0);
    if (bytes > this.maxBytes) return;
    // A unique temporary name: concurrent puts of one key never write the same file.
    const temp = join(this.dir, `.${key}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const file = await open(temp, 'wx');
      try {
        await writeAll(file, parts);
        await file.sync(); // the data is on the card before the name points at it
      } finally {
        await file.close();
      }
      await rename(temp, this.pathOf(key));
    } catch (error) {
      this.counts.writeErrors++;
      this.diskWrites.failed(this.pathOf(key), error, 'an SR result');
      await removeQuietly(temp);
      return;
    }
    this.diskWrites.succeeded(this.pathOf(key));
    this.counts.writes++;
    this.remember(key, { bytes });
    await this.evict();
  }

  stats(): CacheStats {
    return { entries: this.entries.size, bytes: this.totalBytes, maxBytes: this.maxBytes, ...this.counts };
  }

  private pathOf(key: string): string {
    return join(this.dir, `${key}.sr`);
  }

  private miss(): null {
    this.counts.misses++;
    return null;
  }

  /** Adds the entry, or moves it to the most recently used end. */
  private remember(key: string, entry: Entry): void {
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.totalBytes -= old.bytes;
    }
    this.entries.set(key, entry);
    this.totalBytes += entry.bytes;
  }

  /** Removes the entry from the index if it is still this one; true if it was. */
  private forget(key: string, entry: Entry): boolean {
    if (this.entries.get(key) !== entry) return false;
    this.entries.delete(key);
    this.totalBytes -= entry.bytes;
    return true;
  }

  private async evict(): Promise<void> {
    const removals: Promise<void>[] = [];
    for (const [key, entry] of this.entries) {
      if (this.totalBytes <= this.maxBytes) break;
      this.forget(key, entry);
      this.counts.evictions++;
      removals.push(removeQuietly(this.pathOf(key)));
    }
    await Promise.all(removals);
  }
}

/**
 * Writes the parts one after another in as few requests as the system allows: one for a whole
 * entry, where writeFile makes one per 512 KiB (50 turns of the event loop, each a wake-up of a
 * pool thread, for a 4K entry).
 */
async function writeAll(file: FileHandle, parts: Uint8Array[]): Promise<void> {
  let pending = parts.filter((part) => part.length > 0);
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

function checkKey(key: string): void {
  // Keys become file names: only cacheKey()'s hex digests, never a path.
  if (!KEY.test(key)) throw new TypeError(`SR cache key must be a sha256 hex digest from cacheKey(), got ${JSON.stringify(key)}`);
}

async function removeQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => undefined); // already gone is fine
}
