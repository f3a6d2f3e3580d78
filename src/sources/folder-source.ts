// The folder source: watches one folder and reports the image files in it, live.
//
// A file is reported only once it is complete: its size, mtime and inode have stayed the
// same for `settleMs` (a file renamed into place is complete at once and passes that
// check in one settle window). chokidar (fs.watch/inotify) tells us *that* something
// happened; our own stat polling decides *when* the file is whole. chokidar's
// awaitWriteFinish is not used: it does not apply to the initial scan (a file being
// copied while the daemon starts would be reported half-written) and it compares the
// size only.
//
// The folder itself may be missing at start, be deleted, or be a share that gets
// unmounted: that is waited for (fs.stat every `folderPollMs`), logged, and never a
// crash. While it is away the known files stay known (the slideshow keeps what it
// has); when it comes back it is rescanned and the differences are reported.
import { EventEmitter } from 'node:events';
import { watch as watchPath, promises as fsp, type Dirent, type FSWatcher as PathWatcher, type Stats } from 'node:fs';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';

export interface FolderFile {
  /**
   * Path relative to the folder, '/' separators: 'a.jpg', 'trip/b.png'. A name that is not
   * valid UTF-8 shows its stray bytes as \xNN: 'caf\xe9.jpg'.
   */
  id: string;
  /** Absolute path (for a name that is not UTF-8: the folder joined with the id, for display only). */
  path: string;
  /** The real path's bytes, only where a name is not valid UTF-8 (a string path cannot name it). */
  rawPath?: Buffer;
  size: number;
  mtimeMs: number;
}

export type FolderSourceLogValue = string | number | boolean | undefined;
export type FolderSourceLog = (event: string, fields: Record<string, FolderSourceLogValue>) => void;

export interface FolderSourceOptions {
  folder: string;
  /** Also watch subfolders (any depth). */
  recursive: boolean;
  /** How long size and mtime must stay unchanged before a file counts as complete (ms). */
  settleMs: number;
  log?: FolderSourceLog;
  /** How often the folder itself is checked for being there (ms); default 1000. */
  folderPollMs?: number;
  /** Poll instead of fs.watch (network shares changed from other machines); default false. */
  usePolling?: boolean;
}

export interface FolderSourceEvents {
  add: [file: FolderFile];
  change: [file: FolderFile];
  remove: [id: string];
  'folder-missing': [folder: string];
  'folder-ready': [folder: string];
}

/** Extensions reported (lower case, no dot). BMP and SVG are left out: the decoder does not take them. */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  'jpg', 'jpeg', 'jpe', 'png', 'webp', 'avif', 'gif', 'tif', 'tiff', 'heic', 'heif', 'jxl',
]);

/** Name endings of files still being written by browsers, downloaders and copy tools. */
export const TEMPORARY_SUFFIXES: readonly string[] = ['.part', '.tmp', '.crdownload', '.partial', '.download', '~'];

/** Top-level subfolder where refused files are moved; never watched. */
export const REJECTED_FOLDER = 'rejected';

const DEFAULT_FOLDER_POLL_MS = 1000;

/** Hidden (dot-files, '.#foo' editor locks) or a temporary name. */
export function isHiddenOrTemporaryName(name: string): boolean {
  if (name.startsWith('.')) return true;
  const lower = name.toLowerCase();
  return TEMPORARY_SUFFIXES.some((suffix) => lower.endsWith(suffix));
}

/** An image-like extension, case-insensitive. */
export function isImageName(name: string): boolean {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return false;
  return IMAGE_EXTENSIONS.has(name.slice(dot + 1).toLowerCase());
}

/**
 * Whether a path relative to the folder ('/' separators) may be reported as an image:
 * no hidden or temporary part, not under the top-level `rejected` folder, an image
 * extension, and no subfolder unless recursive.
 */
export function isReportableId(id: string, recursive: boolean): boolean {
  const parts = id.split('/');
  if (parts.some((part) => part === '' || part === '..')) return false;
  if (!recursive && parts.length > 1) return false;
  if (parts.length > 1 && parts[0] === REJECTED_FOLDER) return false;
  if (parts.some(isHiddenOrTemporaryName)) return false;
  return isImageName(parts[parts.length - 1]!);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function decodesAsUtf8(bytes: Uint8Array): boolean {
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * A file name's bytes as text: undefined when they are valid UTF-8 (Node names the file
 * itself then); otherwise the valid parts as they are and every stray byte as \xNN.
 */
export function escapedName(bytes: Buffer): string | undefined {
  if (decodesAsUtf8(bytes)) return undefined;
  let text = '';
  for (let at = 0; at < bytes.length; ) {
    const lead = bytes[at]!;
    const length = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 0;
    const sequence = bytes.subarray(at, at + length);
    if (length > 0 && sequence.length === length && decodesAsUtf8(sequence)) {
      text += strictUtf8.decode(sequence);
      at += length;
    } else {
      text += `\\x${lead.toString(16).padStart(2, '0')}`;
      at += 1;
    }
  }
  return text;
}

interface Signature {
  size: number;
  mtimeMs: number;
  ino: number;
  dev: number;
}

interface KnownFile {
  file: FolderFile;
  signature: Signature;
}

/** A file seen but not yet complete: polled until it has settled. */
interface Pending {
  id: string;
  abs: string | Buffer;
  created: number;
  stableSince: number;
  last: Signature | undefined;
  timer: NodeJS.Timeout | undefined;
  cancelled: boolean;
  done: Promise<void>;
  finish: () => void;
}

interface FolderIdentity {
  dev: number;
  ino: number;
  /** 0 where the file system does not keep it; inode numbers alone are reused at once. */
  birthtimeMs: number;
  /** The folder was a mount point (its device differs from its parent's). */
  mountPoint: boolean;
}

type FolderState = { present: true; identity: FolderIdentity } | { present: false; reason: string; code?: string };

function signatureOf(stats: Stats): Signature {
  return { size: stats.size, mtimeMs: stats.mtimeMs, ino: stats.ino, dev: stats.dev };
}

function sameSignature(a: Signature, b: Signature): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino && a.dev === b.dev;
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function statOrUndefined(target: string): Promise<Stats | undefined> {
  try {
    return await fsp.stat(target);
  } catch {
    return undefined;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export class FolderSource extends EventEmitter<FolderSourceEvents> {
  readonly folder: string;
  private readonly recursive: boolean;
  private readonly settleMs: number;
  private readonly statPollMs: number;
  private readonly folderPollMs: number;
  private readonly usePolling: boolean;
  private readonly logger: FolderSourceLog;

  private readonly known = new Map<string, KnownFile>();
  /** Ids of files whose names are not UTF-8: chokidar cannot see them, a scan of our own does. */
  private undecodable = new Set<string>();
  private undecodableScan: Promise<void> | undefined;
  private undecodableScanAgain = false;
  private readonly pending = new Map<string, Pending>();
  private watcher: FSWatcher | undefined;
  /** A plain fs.watch on the folder itself: says at once when it is deleted or moved away. */
  private selfWatcher: PathWatcher | undefined;
  /** Bumped whenever a watcher is started or stopped: events of an older one are dropped. */
  private generation = 0;
  private identity: FolderIdentity | undefined;
  /** Set while the folder is away (since when), so missing/back are logged once per transition. */
  private missingSince: number | undefined;
  /** The folder was a mount point when last watched: an empty mount point then means "not mounted". */
  private expectMountPoint = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private checking: Promise<void> = Promise.resolve();
  private startPromise: Promise<void> | undefined;
  private closed = false;
  private signalClosed: () => void = () => {};
  private readonly closedSignal: Promise<void>;

  constructor(options: FolderSourceOptions) {
    super();
    this.folder = path.resolve(options.folder);
    this.recursive = options.recursive;
    this.settleMs = Math.max(0, options.settleMs);
    this.statPollMs = Math.max(10, Math.min(100, Math.round(this.settleMs / 3) || 10));
    this.folderPollMs = Math.max(10, options.folderPollMs ?? DEFAULT_FOLDER_POLL_MS);
    this.usePolling = options.usePolling ?? false;
    this.logger = options.log ?? (() => {});
    this.closedSignal = new Promise((resolve) => {
      this.signalClosed = resolve;
    });
  }

  /**
   * Resolves once the initial scan is done: 'add' has been emitted for every existing
   * complete file (files still being written follow when they are complete). If the
   * folder is missing it resolves at once, after 'folder-missing', and waits for it.
   */
  start(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.startPromise ??= this.requestCheck().then(() => this.schedulePoll());
    return this.startPromise;
  }

  /** The complete files known now, by id. */
  files(): FolderFile[] {
    return [...this.known.values()].map(({ file }) => ({ ...file })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Stops watchers and timers; no events are emitted after it resolves. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.signalClosed();
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    await this.stopWatching();
    await this.checking;
    await this.stopWatching();
  }

  // --- the folder itself -------------------------------------------------------------

  private schedulePoll(): void {
    if (this.closed) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined;
      void this.requestCheck().then(() => this.schedulePoll());
    }, this.folderPollMs);
  }

  /**
   * Checks the folder, one check at a time. `suspectGeneration`: the watcher of that
   * generation saw the folder itself deleted or moved, so it may be watching a directory
   * that is gone even if the path looks the same again.
   */
  private requestCheck(suspectGeneration?: number): Promise<void> {
    this.checking = this.checking
      .then(() => this.checkFolder(suspectGeneration !== undefined && suspectGeneration === this.generation))
      .catch((error: unknown) => this.log('source.error', { folder: this.folder, where: 'folder-check', message: errorMessage(error) }));
    return this.checking;
  }

  private async folderState(): Promise<FolderState> {
    let stats: Stats;
    try {
      stats = await fsp.stat(this.folder);
    } catch (error) {
      const code = errorCode(error);
      const reason = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'permission denied' : `cannot be read (${code ?? errorMessage(error)})`;
      return { present: false, reason, code };
    }
    if (!stats.isDirectory()) return { present: false, reason: 'is not a directory', code: 'ENOTDIR' };
    const parent = await statOrUndefined(path.dirname(this.folder));
    const mountPoint = parent !== undefined && parent.dev !== stats.dev;
    if (this.expectMountPoint && !mountPoint) return { present: false, reason: 'is not mounted (an empty mount point)', code: 'NOTMOUNTED' };
    return { present: true, identity: { dev: stats.dev, ino: stats.ino, birthtimeMs: stats.birthtimeMs, mountPoint } };
  }

  private async checkFolder(suspectReplaced: boolean): Promise<void> {
    if (this.closed) return;
    const state = await this.folderState();
    if (this.closed) return;
    if (state.present) {
      if (this.identity) {
        const same =
          this.identity.dev === state.identity.dev &&
          this.identity.ino === state.identity.ino &&
          this.identity.birthtimeMs === state.identity.birthtimeMs;
        if (same && !(suspectReplaced && this.watcher)) return;
        // Deleted and recreated (or another share mounted) between two checks: the old
        // watcher sees nothing of the new folder. (Same identity but the folder itself was
        // deleted or moved: inode reused, no birth time; watch it afresh all the same.)
        await this.stopWatching();
        if (!same) this.reportMissing('was replaced by another directory', 'REPLACED');
      }
      await this.startWatching(state.identity);
    } else {
      await this.stopWatching();
      this.reportMissing(state.reason, state.code);
    }
  }

  private reportMissing(reason: string, code: string | undefined): void {
    if (this.closed || this.missingSince !== undefined) return;
    this.missingSince = Date.now();
    this.log('source.folder-missing', {
      folder: this.folder,
      reason,
      code,
      known: this.known.size,
      hint: 'waiting for it to appear (checked every ' + this.folderPollMs + ' ms); the files already known are kept',
    });
    this.emitSafe('folder-missing', this.folder);
  }

  private async startWatching(identity: FolderIdentity): Promise<void> {
    const generation = ++this.generation;
    const started = Date.now();
    const seen = new Set<string>();
    const initial: Promise<void>[] = [];
    let scanning = true;
    const watcher = watch(this.folder, {
      ignoreInitial: false,
      awaitWriteFinish: false,
      atomic: true,
      followSymlinks: true,
      usePolling: this.usePolling,
      interval: 250,
      binaryInterval: 500,
      ...(this.recursive ? {} : { depth: 0 }),
      ignored: (target: string, stats?: Stats) => this.ignoredByWatcher(target, stats),
    });
    this.watcher = watcher;
    this.identity = identity;
    this.expectMountPoint = identity.mountPoint;
    watcher.on('add', (target) => {
      const id = this.idFor(generation, target);
      if (id === undefined) return;
      if (scanning) seen.add(id);
      const pending = this.track(id, target);
      if (scanning) initial.push(pending.done);
    });
    watcher.on('change', (target) => {
      const id = this.idFor(generation, target);
      if (id !== undefined) this.track(id, target);
    });
    watcher.on('unlink', (target) => {
      const id = this.idFor(generation, target);
      if (id === undefined) return;
      this.onUnlink(generation, id, target).catch((error: unknown) =>
        this.log('source.error', { folder: this.folder, id, where: 'unlink', message: errorMessage(error) }),
      );
    });
    // A name that is not UTF-8 comes only as a raw event with U+FFFD in place of its stray bytes.
    watcher.on('raw', (_event, name) => {
      if (String(name).includes('\uFFFD') && generation === this.generation) this.rescanUndecodable(generation);
    });
    watcher.on('unlinkDir', (target) => {
      if (generation === this.generation && path.resolve(target) === this.folder) void this.requestCheck();
    });
    if (!this.usePolling) {
      // chokidar reports the folder's own deletion as nothing but unlinks of its files.
      const base = path.basename(this.folder);
      try {
        const self = watchPath(this.folder, { persistent: false }, (_event, name) => {
          if (name === base && generation === this.generation && !this.closed) void this.requestCheck(generation);
        });
        self.on('error', () => {
          if (generation === this.generation && !this.closed) void this.requestCheck(generation);
        });
        this.selfWatcher = self;
      } catch {
        // Gone already: the next check notices.
      }
    }
    watcher.on('error', (error) => {
      const code = errorCode(error);
      this.log('source.error', {
        folder: this.folder,
        code,
        message: errorMessage(error),
        hint:
          code === 'ENOSPC'
            ? 'the inotify watch limit is reached: raise fs.inotify.max_user_watches (sysctl) or watch fewer subfolders'
            : code === 'EACCES' || code === 'EPERM'
              ? 'the daemon user cannot read part of the folder: fix its permissions'
              : undefined,
      });
    });
    const ready = await Promise.race([
      new Promise<boolean>((resolve) => watcher.once('ready', () => resolve(true))),
      this.closedSignal.then(() => false),
    ]);
    scanning = false;
    if (!ready || this.closed || generation !== this.generation) return;
    const undecodable = await this.findUndecodable();
    if (this.closed || generation !== this.generation) return;
    for (const [id, abs] of undecodable) {
      seen.add(id);
      initial.push(this.track(id, abs).done);
    }
    this.undecodable = new Set(undecodable.keys());

    // Back after being away: what disappeared meanwhile is removed; what changed comes
    // as 'change' once its settle check is done.
    for (const id of [...this.known.keys()]) {
      if (seen.has(id) || this.pending.has(id)) continue;
      this.known.delete(id);
      this.log('source.file-removed', { id, reason: 'gone while the folder was away' });
      this.emitSafe('remove', id);
    }
    // Files that are complete are reported before start() resolves; one still being
    // written must not hold start-up: it follows when it is complete.
    await Promise.race([Promise.all(initial), delay(this.settleMs + 4 * this.statPollMs), this.closedSignal]);
    if (this.closed || generation !== this.generation) return;
    if (this.missingSince !== undefined) {
      this.log('source.folder-back', { folder: this.folder, missingMs: Date.now() - this.missingSince });
      this.missingSince = undefined;
    }
    this.log('source.scan-done', {
      folder: this.folder,
      count: seen.size,
      ready: [...seen].filter((id) => this.known.has(id) && !this.pending.has(id)).length,
      settling: this.pending.size,
      ms: Date.now() - started,
    });
    this.emitSafe('folder-ready', this.folder);
  }

  private async stopWatching(): Promise<void> {
    this.generation++;
    this.identity = undefined;
    for (const pending of this.pending.values()) this.cancel(pending);
    this.pending.clear();
    this.selfWatcher?.close();
    this.selfWatcher = undefined;
    const watcher = this.watcher;
    this.watcher = undefined;
    if (!watcher) return;
    try {
      await watcher.close();
    } catch (error) {
      this.log('source.error', { folder: this.folder, where: 'close', message: errorMessage(error) });
    }
  }

  // --- files whose names are not UTF-8 --------------------------------------------------

  /**
   * Files whose path (relative to the folder) has a name that is not valid UTF-8, by id.
   * Node's fs.watch and readdir decode such names lossily and chokidar then loses the file;
   * reading the folder as bytes finds it, and a Buffer path opens it.
   */
  private async findUndecodable(): Promise<Map<string, Buffer>> {
    const found = new Map<string, Buffer>();
    const walk = async (dir: Buffer, prefix: string, strayAbove: boolean): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await fsp.readdir(dir, { encoding: 'buffer', withFileTypes: true }) as unknown as Dirent[];
      } catch {
        return; // gone or unreadable: the watcher reports the folder itself
      }
      for (const entry of entries) {
        const bytes = entry.name as unknown as Buffer;
        const escaped = escapedName(bytes);
        const name = escaped ?? bytes.toString('utf8');
        const id = prefix + name;
        const abs = Buffer.concat([dir, Buffer.from('/'), bytes]);
        const stray = strayAbove || escaped !== undefined;
        if (entry.isDirectory()) {
          const skipped = isHiddenOrTemporaryName(name) || (prefix === '' && name === REJECTED_FOLDER);
          if (this.recursive && !skipped) await walk(abs, `${id}/`, stray);
        } else if (stray && (entry.isFile() || entry.isSymbolicLink()) && isReportableId(id, this.recursive)) {
          found.set(id, abs);
        }
      }
    };
    await walk(Buffer.from(this.folder), '', false);
    return found;
  }

  /** Rescans for such names after a raw event showed one; one scan at a time, repeated if asked meanwhile. */
  private rescanUndecodable(generation: number): void {
    if (this.undecodableScan) {
      this.undecodableScanAgain = true;
      return;
    }
    this.undecodableScan = (async () => {
      do {
        this.undecodableScanAgain = false;
        await this.reconcileUndecodable(generation);
      } while (this.undecodableScanAgain && !this.closed && generation === this.generation);
    })()
      .catch((error: unknown) => this.log('source.error', { folder: this.folder, where: 'non-UTF-8 names', message: errorMessage(error) }))
      .finally(() => {
        this.undecodableScan = undefined;
      });
  }

  private async reconcileUndecodable(generation: number): Promise<void> {
    const found = await this.findUndecodable();
    if (this.closed || generation !== this.generation) return;
    // New or changed files go through the settle check; an unchanged one ends there quietly.
    for (const [id, abs] of found) this.track(id, abs);
    for (const id of this.undecodable) {
      if (found.has(id)) continue;
      const pending = this.pending.get(id);
      if (pending) this.drop(pending);
      if (!this.known.delete(id)) continue;
      this.log('source.file-removed', { id });
      this.emitSafe('remove', id);
    }
    this.undecodable = new Set(found.keys());
  }

  // --- files ------------------------------------------------------------------------

  /** The chokidar `ignored` filter: names are judged always, extensions only for files. */
  private ignoredByWatcher(target: string, stats?: Stats): boolean {
    const rel = path.relative(this.folder, path.resolve(target));
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return false;
    const parts = rel.split(path.sep);
    if (!this.recursive && parts.length > 1) return true;
    if (parts[0] === REJECTED_FOLDER) return true;
    if (parts.some(isHiddenOrTemporaryName)) return true;
    if (stats?.isFile() === true && !isImageName(parts[parts.length - 1]!)) return true;
    return false;
  }

  /** The id of a path from the current watcher, or undefined if it is not reportable. */
  private idFor(generation: number, target: string): string | undefined {
    if (this.closed || generation !== this.generation) return undefined;
    const rel = path.relative(this.folder, path.resolve(target));
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
    const id = rel.split(path.sep).join('/');
    return isReportableId(id, this.recursive) ? id : undefined;
  }

  /** Starts (or refreshes) the settle check of a file that was added or changed. */
  private track(id: string, abs: string | Buffer): Pending {
    const now = Date.now();
    const existing = this.pending.get(id);
    if (existing) {
      existing.stableSince = now;
      return existing;
    }
    let finish: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const pending: Pending = { id, abs, created: now, stableSince: now, last: undefined, timer: undefined, cancelled: false, done, finish };
    this.pending.set(id, pending);
    if (!this.known.has(id)) this.log('source.file-seen', { id });
    this.poll(pending, 0);
    return pending;
  }

  private poll(pending: Pending, ms: number): void {
    pending.timer = setTimeout(() => {
      pending.timer = undefined;
      this.check(pending).catch((error: unknown) => {
        this.log('source.error', { folder: this.folder, id: pending.id, where: 'settle', message: errorMessage(error) });
        this.drop(pending);
      });
    }, ms);
  }

  private async check(pending: Pending): Promise<void> {
    let stats: Stats;
    try {
      stats = await fsp.stat(pending.abs);
    } catch (error) {
      if (pending.cancelled) return;
      const code = errorCode(error);
      // Gone again (a temporary file, or deleted): the unlink event handles a known file.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') {
        this.log('source.error', { folder: this.folder, id: pending.id, code, message: errorMessage(error), hint: 'the file is skipped until it changes again' });
      }
      this.drop(pending);
      return;
    }
    if (pending.cancelled) return;
    if (!stats.isFile()) {
      this.drop(pending);
      return;
    }
    const signature = signatureOf(stats);
    const now = Date.now();
    if (pending.last === undefined) {
      pending.last = signature;
    } else if (!sameSignature(pending.last, signature)) {
      pending.last = signature;
      pending.stableSince = now;
    }
    const waited = now - pending.stableSince;
    if (waited < this.settleMs) {
      // A file not written to for a settle time already (most files of a scan) needs one
      // more look at the end of the window, not one every poll: a write in between
      // changes its size or mtime all the same.
      const remaining = this.settleMs - waited;
      const quiet = now - signature.mtimeMs >= this.settleMs;
      this.poll(pending, quiet ? remaining : Math.min(this.statPollMs, remaining));
      return;
    }
    this.pending.delete(pending.id);
    pending.finish();
    this.complete(pending, stats, signature, now);
  }

  private complete(pending: Pending, stats: Stats, signature: Signature, now: number): void {
    const file: FolderFile = typeof pending.abs === 'string'
      ? { id: pending.id, path: pending.abs, size: stats.size, mtimeMs: stats.mtimeMs }
      : { id: pending.id, path: path.join(this.folder, ...pending.id.split('/')), rawPath: pending.abs, size: stats.size, mtimeMs: stats.mtimeMs };
    const previous = this.known.get(pending.id);
    if (previous && sameSignature(previous.signature, signature)) return;
    this.known.set(pending.id, { file, signature });
    this.log('source.file-ready', { id: file.id, size: file.size, change: previous !== undefined, waitedMs: now - pending.created });
    if (previous) this.emitSafe('change', { ...file });
    else this.emitSafe('add', { ...file });
  }

  private drop(pending: Pending): void {
    if (this.pending.get(pending.id) === pending) this.pending.delete(pending.id);
    this.cancel(pending);
  }

  private cancel(pending: Pending): void {
    pending.cancelled = true;
    if (pending.timer) clearTimeout(pending.timer);
    pending.timer = undefined;
    pending.finish();
  }

  private async onUnlink(generation: number, id: string, abs: string): Promise<void> {
    const pending = this.pending.get(id);
    if (pending) this.drop(pending);
    if (!this.known.has(id)) return;
    // A file vanishing can be the whole folder going away (deleted, unmounted): then the
    // known files are kept. Or the file was replaced in the meantime: then it changed.
    const [fileStats, folderStats] = await Promise.all([statOrUndefined(abs), statOrUndefined(this.folder)]);
    if (this.closed || generation !== this.generation) return;
    if (fileStats?.isFile() === true) {
      this.track(id, abs);
      return;
    }
    const identity = this.identity;
    if (!folderStats?.isDirectory() || !identity || folderStats.ino !== identity.ino || folderStats.dev !== identity.dev) {
      void this.requestCheck();
      return;
    }
    if (!this.known.delete(id)) return;
    this.log('source.file-removed', { id });
    this.emitSafe('remove', id);
  }

  // --- output -----------------------------------------------------------------------

  private emitSafe<K extends keyof FolderSourceEvents>(event: K, ...args: FolderSourceEvents[K]): void {
    if (this.closed) return;
    try {
      (this.emit as (event: K, ...args: FolderSourceEvents[K]) => boolean)(event, ...args);
    } catch (error) {
      this.log('source.error', { folder: this.folder, where: `${event} listener`, message: errorMessage(error) });
    }
  }

  private log(event: string, fields: Record<string, FolderSourceLogValue>): void {
    try {
      this.logger(event, fields);
    } catch {
      // A failing logger must not stop the watch.
    }
  }
}
