// Starts the real daemon (`bin/uprez run`, headless on llvmpipe) in a child process for a test,
// with its own folder, state and cache directories and a free HTTP port, and talks to it.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import sharp from 'sharp';
import { repoRoot } from '../../src/service/paths.js';
import type { RasterImage } from '../../src/sr/model.js';

export const uprez = join(repoRoot, 'bin', 'uprez');

export interface DaemonDirs {
  root: string;
  folder: string;
  state: string;
  cache: string;
}

export function daemonDirs(prefix = 'uprez-daemon-'): DaemonDirs {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const dirs = { root, folder: join(root, 'photos'), state: join(root, 'state'), cache: join(root, 'cache') };
  mkdirSync(dirs.folder);
  return dirs;
}

export interface Screen {
  width: number;
  height: number;
  /** RGB, rows top to bottom. */
  data: Buffer;
  pixel(x: number, y: number): [number, number, number];
}

export class RunningDaemon {
  readonly lines: string[] = [];
  stderr = '';
  private readonly waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  private portPromise: Promise<number>;

  /** The daemon's token (from `--token` in its arguments), sent on every request of this helper. */
  token: string | null = null;

  constructor(readonly child: ChildProcess, readonly dirs: DaemonDirs) {
    child.stderr!.on('data', (chunk) => (this.stderr += chunk));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      if (process.env.UPREZ_TEST_VERBOSE) process.stderr.write(`[daemon] ${line}\n`);
      for (const waiter of this.waiters.filter((w) => w.pattern.test(line))) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    });
    this.portPromise = this.waitForLine(/event=http.listening|"event":"http.listening"/).then((line) => Number(/:(\d+)\/status/.exec(line)![1]));
  }

  /** Resolves with the first line (already printed or to come) matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    const found = this.lines.find((line) => pattern.test(line));
    if (found) return Promise.resolve(found);
    return this.waitForNewLine(pattern, timeoutMs);
  }

  /** Resolves with the next line printed from now on that matches `pattern`. */
  waitForNewLine(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; log:\n${this.lines.slice(-40).join('\n')}\n${this.stderr}`)), timeoutMs);
      const waiter = { pattern, resolve: (line: string) => { clearTimeout(timer); resolve(line); } };
      this.waiters.push(waiter);
      this.child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the daemon exited (${code}) before printing ${pattern}; log:\n${this.lines.slice(-40).join('\n')}\n${this.stderr}`));
      });
    });
  }

  count(pattern: RegExp): number {
    return this.lines.filter((line) => pattern.test(line)).length;
  }

  async url(path: string): Promise<string> {
    return `http://127.0.0.1:${await this.portPromise}${path}`;
  }

  async status(): Promise<Record<string, any>> {
    const response = await fetch(await this.url('/status'), { headers: this.headers() });
    return (await response.json()) as Record<string, any>;
  }

  async screen(): Promise<Screen> {
    const response = await fetch(await this.url('/screen.png'), { headers: this.headers() });
    if (response.status !== 200) throw new Error(`/screen.png: ${response.status}`);
    const { data, info } = await sharp(Buffer.from(await response.arrayBuffer())).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    return {
      width: info.width,
      height: info.height,
      data,
      pixel: (x, y) => {
        const i = (y * info.width + x) * 3;
        return [data[i]!, data[i + 1]!, data[i + 2]!];
      },
    };
  }

  headers(): Record<string, string> {
    return this.token ? { authorization: `Bearer ${this.token}` } : {};
  }

  /** Polls /status until `check` returns true. */
  async until(check: (status: Record<string, any>) => boolean, what: string, timeoutMs = 60_000): Promise<Record<string, any>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = await this.status();
      if (check(status)) return status;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; status: ${JSON.stringify(status.current)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    const exit = once(this.child, 'exit');
    this.child.kill(signal);
    const [code] = await exit;
    return code as number | null;
  }
}

/**
 * Starts `uprez run` headless with `args` after the defaults (later flags win). Node's own flags
 * for the daemon (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile a benchmark) come from
 * UPREZ_DAEMON_NODE_FLAGS.
 */
export function startDaemon(dirs: DaemonDirs, args: string[] = [], env: NodeJS.ProcessEnv = {}): RunningDaemon {
  const nodeFlags = (process.env.UPREZ_DAEMON_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeFlags, uprez, 'run',
    '--backend', 'headless', '--size', '320x180', '--folder', dirs.folder, '--state-dir', dirs.state, '--cache-dir', dirs.cache,
    '--http', '127.0.0.1:0', '--log', 'text', '--settle-ms', '200', ...args], {
    env: { ...process.env, XDG_CACHE_HOME: join(dirs.root, 'xdg-cache'), UPREZ_TEST_HOOKS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const daemon = new RunningDaemon(child, dirs);
  const tokenAt = args.lastIndexOf('--token');
  if (tokenAt >= 0) daemon.token = args[tokenAt + 1] ?? null;
  return daemon;
}

/** A screen capture as a RasterImage (RGB), for comparing with other pictures. */
export function screenRaster(screen: Screen): RasterImage {
  return { width: screen.width, height: screen.height, channels: 3, data: new Uint8Array(screen.data.buffer, screen.data.byteOffset, screen.data.length) };
}

/** An image file (or its bytes) decoded to RGB pixels. */
export async function readRaster(input: string | Buffer): Promise<RasterImage> {
  const { data, info } = await sharp(input).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: 3, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}
