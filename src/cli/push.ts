// `uprez push`: sends image files to a running daemon over its websocket (docs/protocol.md), one
// after the other, and controls the slideshow from scripts (--next, --prev, --pause, --resume,
// --list, --show, --delete, --status). Results go to stdout (one line per file, or --json); the
// progress line and the errors go to stderr, so `id=$(uprez push -q a.jpg)` works.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { env, stderr, stdout } from 'node:process';
import WebSocket from 'ws';
import { parseCommandArgs } from './args.js';

const USAGE = `usage: uprez push FILE... [--to ws://HOST:PORT] [--token T] [--duration S]
                  [--fit contain|cover|fill] [--no-keep] [--wait accepted|preview|sr]
                  [--timeout S] [--json | --quiet]
       uprez push --next | --prev | --pause | --resume | --list | --status
                  | --show ID | --delete ID   [--to ...] [--token T] [--json]

Sends image files to a running uprez daemon (its websocket, /ws on its HTTP address), one
after the other: each is shown at once, then super-resolved. Prints, per file, the image's
id, its size and the timings. A refused image (e.g. one that does not decode) is reported
with the daemon's reason; the other files still go.

options:
  --to URL          the daemon: ws://HOST:PORT (default ws://127.0.0.1:8080, the daemon's
                    default --http); HOST:PORT, http:// and wss:// work too; no port: 8080
  --token T         the daemon's token (default: the UPREZ_TOKEN environment variable);
                    needed when the daemon has one (uprez token prints a new one)
  --duration S      seconds each picture stays before the slideshow goes on (default: the
                    daemon's interval)
  --fit MODE        contain, cover or fill, for these pictures only
  --no-keep         show the pictures once; they do not join the slideshow
  --wait WHAT       accepted (default): until the daemon has decoded and queued the picture;
                    preview: until its first frame is on screen; sr: until its super-resolved
                    version is on screen (or the daemon says SR does not apply)
  --timeout S       how long to wait for each picture (default 120)
  --json            print a JSON array (files) or the daemon's reply (commands)
  -q, --quiet       print only the image ids, one a line
  --next, --prev    the next / previous picture of the slideshow now
  --pause, --resume stop / restart the slideshow clock (the picture stays)
  --list            the daemon's images: * on screen, id, source, state, size, bytes, name
  --show ID         show an image (an id from --list) now
  --delete ID       forget a pushed image and delete its stored copy
  --status          the daemon's status (as GET /status), JSON
  -h, --help        this text

exit status: 0 when everything went, 1 when a file could not be read, an image was refused,
a command failed or the daemon could not be reached, 2 on bad options.
`;

const DEFAULT_TO = 'ws://127.0.0.1:8080';
const DEFAULT_PORT = '8080';
const FITS = ['contain', 'cover', 'fill'] as const;
const WAITS = ['accepted', 'preview', 'sr'] as const;
type WaitFor = (typeof WAITS)[number];
/** Refusals that pass: the file is sent again after a pause, until --timeout. */
const RETRY_CODES = new Set(['busy', 'rate-limited']);
const RETRY_PAUSE_MS = 1000;

/** Bad options: exit status 2. */
class UsageError extends Error {}

/** The daemon refused something, with its error code (docs/protocol.md, "Error codes"). */
class DaemonError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/** The connection could not be made or was lost: the remaining files cannot go this way. */
class ConnectionError extends Error {
  constructor(message: string, readonly closeCode: number | null = null) {
    super(message);
  }
}

interface Reply {
  id: string | number | null;
  ok: boolean;
  cmd?: string;
  error?: { code: string; message: string };
  [field: string]: unknown;
}

interface DaemonEvent {
  event: string;
  id: string | null;
  ms?: number;
  srMs?: number;
  cache?: string;
  version?: string;
  state?: string;
  code?: string;
  message?: string;
}

/** `--to` as the websocket URL of the daemon's /ws endpoint. */
export function websocketUrl(to: string): URL {
  let text = to.trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) text = `ws://${text}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--to ${to}: not an address; give ws://HOST:PORT, e.g. ${DEFAULT_TO}`);
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new UsageError(`--to ${to}: use ws://HOST:PORT (or wss://), e.g. ${DEFAULT_TO}`);
  if (!url.hostname) throw new UsageError(`--to ${to}: no host; give ws://HOST:PORT, e.g. ${DEFAULT_TO}`);
  // No port given: the daemon's default HTTP port (not 80) for ws://.
  const authority = text.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').split(/[/?#]/)[0] ?? '';
  if (url.protocol === 'ws:' && !/:\d+$/.test(authority)) url.port = DEFAULT_PORT;
  if (url.pathname === '' || url.pathname === '/') url.pathname = '/ws';
  return url;
}

/** The address for messages: without a token in its query. */
function shown(url: URL): string {
  const copy = new URL(url);
  if (copy.searchParams.has('token')) copy.searchParams.set('token', '…');
  return copy.toString();
}

function errorCode(error: unknown): string | undefined {
  const e = error as { code?: string; errors?: { code?: string }[] };
  return e.code ?? e.errors?.find((inner) => inner.code)?.code;
}

/** One websocket connection to the daemon: requests matched to replies by id, and events. */
class DaemonConnection {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();
  readonly events: DaemonEvent[] = [];
  private readonly eventWaiters = new Set<() => void>();
  closed: ConnectionError | null = null;

  private constructor(private readonly ws: WebSocket, readonly url: URL) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let message: Reply | DaemonEvent;
      try {
        message = JSON.parse(data.toString()) as Reply | DaemonEvent;
      } catch {
        return;
      }
      if ('event' in message) {
        this.events.push(message as DaemonEvent);
        for (const waiter of [...this.eventWaiters]) waiter();
        return;
      }
      const reply = message as Reply;
      if (typeof reply.id === 'number' && this.pending.has(reply.id)) {
        const request = this.pending.get(reply.id)!;
        this.pending.delete(reply.id);
        request.resolve(reply);
      }
    });
    ws.on('close', (code, reason) => {
      const why = reason.toString();
      this.closed = new ConnectionError(code === 1009
        ? `the daemon closed the connection: ${why || 'message too big'} (1009)`
        : code === 1001 ? 'the daemon is stopping (1001)'
        : `the daemon closed the connection (${code}${why ? `: ${why}` : ''})`, code);
      for (const request of this.pending.values()) request.reject(this.closed);
      this.pending.clear();
      for (const waiter of [...this.eventWaiters]) waiter();
    });
    ws.on('error', () => {
      // 'close' follows and says what happened.
    });
  }

  static open(url: URL, token: string | null, timeoutMs: number): Promise<DaemonConnection> {
    return new Promise((resolve, reject) => {
      const where = shown(url);
      const ws = new WebSocket(url, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
        perMessageDeflate: false,
        handshakeTimeout: timeoutMs,
        maxPayload: 256 * 1024 * 1024,
      });
      let settled = false;
      const fail = (message: string) => {
        if (settled) return;
        settled = true;
        reject(new ConnectionError(message));
      };
      ws.once('open', () => {
        if (settled) return;
        settled = true;
        ws.removeAllListeners('error');
        resolve(new DaemonConnection(ws, url));
      });
      ws.on('error', (error) => {
        const code = errorCode(error);
        if (code === 'ECONNREFUSED') fail(`cannot reach the daemon at ${where}: connection refused. Is uprez run running there, with that --http address? (--to sets the address; the default is ${DEFAULT_TO})`);
        else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') fail(`cannot reach the daemon at ${where}: no such host (${url.hostname}); check --to`);
        else if (code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') fail(`cannot reach the daemon at ${where}: ${code}; check --to and the network`);
        else if (/timed out/i.test(error.message)) fail(`cannot reach the daemon at ${where}: no answer within ${Math.round(timeoutMs / 1000)} s`);
        else fail(`cannot reach the daemon at ${where}: ${error.message}${code ? ` (${code})` : ''}`);
      });
      ws.once('unexpected-response', (request, response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          if (body.length < 4096) body += chunk;
        });
        const done = () => {
          let detail = '';
          try {
            detail = (JSON.parse(body) as { error?: { message?: string } }).error?.message ?? '';
          } catch {
            detail = body.trim().split('\n')[0] ?? '';
          }
          const status = response.statusCode ?? 0;
          if (status === 401) {
            fail(token
              ? `the daemon at ${where} refused the token (401 unauthorized): pass the daemon's token with --token T or the UPREZ_TOKEN environment variable (the daemon has it from its --token, UPREZ_TOKEN or "token" in its config file, /etc/uprez/config.json under systemd)`
              : `the daemon at ${where} needs a token (401 unauthorized): pass it with --token T or set UPREZ_TOKEN (the daemon has it from its --token, UPREZ_TOKEN or "token" in its config file, /etc/uprez/config.json under systemd)`);
          } else if (status === 503) {
            fail(`the daemon at ${where} has too many clients connected (503${detail ? `: ${detail}` : ''}); try again later`);
          } else if (status === 404) {
            fail(`no websocket at ${where} (404): is this an uprez daemon with remote push, and is the path /ws?`);
          } else {
            fail(`the daemon at ${where} refused the connection: HTTP ${status}${detail ? `: ${detail}` : ''}`);
          }
          request.destroy();
          ws.terminate();
        };
        response.on('end', done);
        response.on('error', done);
        setTimeout(done, 2000).unref();
      });
    });
  }

  /** Sends a request; resolves with the reply (ok or not). */
  request(cmd: string, params: Record<string, unknown> = {}): Promise<Reply> {
    if (this.closed) return Promise.reject(this.closed);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ id, cmd, ...params }), (error) => {
        if (error && this.pending.delete(id)) reject(this.closed ?? new ConnectionError(`sending to the daemon failed: ${error.message}`));
      });
    });
  }

  /** Like request(), but an error reply throws a DaemonError. */
  async command(cmd: string, params: Record<string, unknown> = {}): Promise<Reply> {
    const reply = await this.request(cmd, params);
    if (!reply.ok) throw new DaemonError(reply.error?.code ?? 'internal', reply.error?.message ?? 'failed (no reason given)');
    return reply;
  }

  /**
   * Announces a push and sends the bytes. Resolves with the push's reply; `onSent` when the bytes
   * left (the time it took), `onProgress` with the fraction sent so far.
   */
  push(bytes: Buffer, params: Record<string, unknown>, onProgress: (fraction: number) => void, onSent: () => void): Promise<Reply> {
    if (this.closed) return Promise.reject(this.closed);
    const reply = this.request('push', params);
    const before = this.ws.bufferedAmount;
    let done = false;
    const timer = setInterval(() => {
      if (done) return;
      const left = Math.max(0, this.ws.bufferedAmount - before);
      onProgress(bytes.length === 0 ? 1 : Math.min(1, 1 - left / bytes.length));
    }, 100);
    this.ws.send(bytes, { binary: true }, () => {
      done = true;
      clearInterval(timer);
      onProgress(1);
      onSent();
    });
    // A refused push (busy, rate-limited, ...) takes its bytes with it: its reply says it all.
    return reply.finally(() => {
      done = true;
      clearInterval(timer);
    });
  }

  /**
   * Calls `check` on each event from index `from` on (past and future) until it returns a value
   * other than undefined; rejects after `timeoutMs` or when the connection closes.
   */
  waitForEvent<T>(from: number, check: (event: DaemonEvent) => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      let index = from;
      const finish = (error: Error | null, value?: T) => {
        clearTimeout(timer);
        this.eventWaiters.delete(scan);
        if (error) reject(error);
        else resolve(value as T);
      };
      const scan = () => {
        for (; index < this.events.length; index++) {
          const value = check(this.events[index]!);
          if (value !== undefined) {
            index++;
            finish(null, value);
            return;
          }
        }
        if (this.closed) finish(this.closed);
      };
      const timer = setTimeout(() => finish(new DaemonError('timeout', `no ${what} within ${Math.round(timeoutMs / 1000)} s (--timeout)`)), timeoutMs);
      this.eventWaiters.add(scan);
      scan();
    });
  }

  close(): Promise<void> {
    if (this.closed || this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.ws.terminate();
        resolve();
      }, 1000);
      this.ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.ws.close(1000, 'done');
    });
  }
}

interface PushResult {
  file: string;
  ok: boolean;
  id?: string;
  name?: string;
  width?: number;
  height?: number;
  /** Writing the bytes to the connection. */
  sendMs?: number;
  /** The daemon's decode and planning time. */
  decodeMs?: number;
  /** From the first byte sent to the reply. */
  acceptedMs?: number;
  /** Daemon-side times from taking the picture (events). */
  previewMs?: number;
  srMs?: number;
  cache?: string;
  finalMs?: number;
  /** With --wait sr: final (SR version on screen), resampled (SR does not apply), sr-failed, replaced. */
  outcome?: string;
  error?: { code: string; message: string };
}

interface PushOptions {
  to: URL;
  token: string | null;
  params: Record<string, unknown>;
  wait: WaitFor;
  timeoutMs: number;
  json: boolean;
  quiet: boolean;
}

/** A progress line on stderr, only on a terminal; cleared before anything else is printed. */
class Progress {
  private active = false;
  private readonly tty = stderr.isTTY === true;

  set(text: string): void {
    if (!this.tty) return;
    const width = Math.max(20, (stderr.columns || 80) - 1);
    stderr.write(`\r\x1b[2K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
    this.active = true;
  }

  clear(): void {
    if (!this.active) return;
    stderr.write('\r\x1b[2K');
    this.active = false;
  }
}

function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function readError(file: string, error: unknown): string {
  const code = errorCode(error);
  const why = code === 'ENOENT' ? 'no such file'
    : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
    : code === 'EISDIR' ? 'it is a directory'
    : (error as Error).message;
  return `cannot read ${file}: ${why}${code ? ` (${code})` : ''}`;
}

function resultLine(r: PushResult): string {
  if (!r.ok) {
    // The daemon's message often starts with the name already.
    let message = r.error?.message ?? 'failed';
    if (message.startsWith(`${basename(r.file)}: `)) message = message.slice(basename(r.file).length + 2);
    return `${r.file}: ${r.error?.code === 'unreadable' ? '' : 'refused: '}${message}${r.error?.code && r.error.code !== 'unreadable' ? ` (${r.error.code})` : ''}`;
  }
  const parts = [`sent in ${r.sendMs} ms`, `decoded in ${r.decodeMs} ms`];
  if (r.previewMs !== undefined) parts.push(`preview on screen at ${r.previewMs} ms`);
  if (r.cache === 'hit') parts.push('SR from the cache');
  else if (r.srMs !== undefined) parts.push(`SR ${r.srMs} ms`);
  if (r.outcome === 'final') parts.push(`SR version on screen at ${r.finalMs} ms`);
  else if (r.outcome === 'resampled') parts.push('no SR for it (resampled: no model, or no x2 step helps at this size)');
  else if (r.outcome === 'sr-failed') parts.push('SR failed (the resampled preview stays)');
  else if (r.outcome === 'replaced') parts.push('replaced on screen before its SR version');
  return `${r.file}: ${r.id} ${r.width}x${r.height} (${parts.join(', ')})`;
}

/** What --wait preview / sr waits for, from the events of one image. */
function watchImage(id: string, wait: WaitFor, result: PushResult): (event: DaemonEvent) => string | undefined {
  return (event) => {
    if (event.id !== id) {
      // Another picture came on screen after ours: ours is no longer there to wait for.
      if (event.event === 'preview-shown' && result.previewMs !== undefined) return 'replaced';
      return undefined;
    }
    switch (event.event) {
      case 'preview-shown':
        result.previewMs = event.ms;
        return wait === 'preview' ? 'preview' : undefined;
      case 'sr-done':
        result.srMs = event.srMs;
        result.cache = event.cache;
        return undefined;
      case 'shown':
        // The last version of a picture is 'final': its SR version, or the resampled one when no
        // SR step applies; the state tells them apart.
        if (event.state === 'resampled' || event.state === 'sr-failed') return event.state;
        if (event.version === 'final') {
          result.finalMs = event.ms;
          return 'final';
        }
        return undefined;
      default:
        return undefined;
    }
  };
}

async function pushFiles(files: string[], options: PushOptions): Promise<number> {
  const progress = new Progress();
  const results: PushResult[] = [];
  let connection: DaemonConnection | null = null;
  let failed = false;
  const connect = async (): Promise<DaemonConnection> => {
    if (connection && !connection.closed) return connection;
    connection = await DaemonConnection.open(options.to, options.token, Math.min(options.timeoutMs, 15_000));
    if (options.wait !== 'accepted') await connection.command('subscribe', { events: ['preview-shown', 'sr-done', 'shown'] });
    return connection;
  };
  const report = (result: PushResult) => {
    progress.clear();
    results.push(result);
    if (!result.ok) {
      failed = true;
      stderr.write(`uprez push: ${resultLine(result)}\n`);
    } else {
      if (options.quiet) stdout.write(`${result.id}\n`);
      else if (!options.json) stdout.write(`${resultLine(result)}\n`);
    }
  };

  try {
    for (const [index, file] of files.entries()) {
      const label = files.length > 1 ? `[${index + 1}/${files.length}] ${file}` : file;
      let bytes: Buffer;
      try {
        bytes = await readFile(file);
      } catch (error) {
        report({ file, ok: false, error: { code: 'unreadable', message: readError(file, error) } });
        continue;
      }
      const result: PushResult = { file, ok: false };
      try {
        const firstTry = performance.now();
        let daemon: DaemonConnection;
        let started: number;
        let from: number;
        let reply: Reply;
        for (;;) {
          daemon = await connect();
          progress.set(`${label} (${sizeText(bytes.length)}): sending`);
          started = performance.now();
          from = daemon.events.length;
          reply = await daemon.push(
            bytes,
            { name: basename(file).slice(0, 200) || 'pushed', ...options.params },
            (fraction) => progress.set(`${label} (${sizeText(bytes.length)}): ${fraction < 1 ? `sending ${Math.floor(fraction * 100)}%` : 'decoding'}`),
            () => (result.sendMs = Math.round(performance.now() - started)),
          );
          const code = reply.error?.code ?? '';
          if (reply.ok || !RETRY_CODES.has(code) || performance.now() - firstTry + RETRY_PAUSE_MS > options.timeoutMs) break;
          progress.set(`${label}: the daemon is ${code === 'busy' ? 'busy' : 'rate-limiting'}; sending again in a moment`);
          await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
        }
        if (!reply.ok) {
          result.error = { code: reply.error?.code ?? 'internal', message: reply.error?.message ?? 'refused (no reason given)' };
          report(result);
          continue;
        }
        const image = reply.image as { id: string; name: string; width: number; height: number };
        Object.assign(result, {
          ok: true, id: image.id, name: image.name, width: image.width, height: image.height,
          decodeMs: typeof reply.ms === 'number' ? Math.round(reply.ms) : undefined,
          acceptedMs: Math.round(performance.now() - started),
        });
        result.sendMs ??= result.acceptedMs;
        if (options.wait !== 'accepted') {
          progress.set(`${label}: accepted as ${image.id}; waiting for ${options.wait === 'sr' ? 'the SR version' : 'the preview'}`);
          try {
            result.outcome = await daemon.waitForEvent(from, watchImage(image.id, options.wait, result), options.timeoutMs,
              options.wait === 'sr' ? `SR version of ${image.id} on screen` : `preview of ${image.id} on screen`);
          } catch (error) {
            // Accepted, but what was waited for did not come: a failure for scripts.
            result.ok = false;
            result.error = { code: error instanceof DaemonError ? error.code : 'closed', message: `accepted as ${image.id}, but ${(error as Error).message}` };
          }
        }
        report(result);
      } catch (error) {
        // A refused handshake (401, not reachable) stops everything; after a lost connection
        // (e.g. 1009, a file over the daemon's message limit) the next file connects again.
        if (error instanceof ConnectionError && error.closeCode === null) throw error;
        result.ok = false;
        result.error = { code: error instanceof ConnectionError ? 'connection' : error instanceof DaemonError ? error.code : 'internal', message: (error as Error).message };
        report(result);
      }
    }
  } catch (error) {
    progress.clear();
    stderr.write(`uprez push: ${(error as Error).message}\n`);
    failed = true;
  } finally {
    await (connection as DaemonConnection | null)?.close();
  }
  if (options.json) stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  return failed ? 1 : 0;
}

function listText(images: Record<string, unknown>[]): string {
  if (images.length === 0) return 'no images\n';
  const rows = images.map((i) => [
    i.onScreen ? '*' : ' ',
    String(i.id),
    String(i.source),
    String(i.state),
    i.width != null && i.height != null ? `${String(i.width)}x${String(i.height)}` : '-',
    typeof i.bytes === 'number' ? sizeText(i.bytes) : '-',
    `${String(i.name)}${i.rejected ? `  (rejected: ${String(i.rejected)})` : ''}`,
  ]);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return `${rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')).join('\n')}\n`;
}

async function runCommand(cmd: string, params: Record<string, unknown>, options: PushOptions): Promise<number> {
  let connection: DaemonConnection | null = null;
  try {
    connection = await DaemonConnection.open(options.to, options.token, Math.min(options.timeoutMs, 15_000));
    const reply = await Promise.race([
      connection.command(cmd, params),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no reply to ${cmd} within ${Math.round(options.timeoutMs / 1000)} s`)), options.timeoutMs).unref()),
    ]);
    const { id: _id, ok: _ok, cmd: _cmd, ...result } = reply;
    if (options.json) stdout.write(`${JSON.stringify(cmd === 'list' ? result.images : cmd === 'status' ? result.status : result, null, 2)}\n`);
    else if (cmd === 'list') stdout.write(listText((result.images ?? []) as Record<string, unknown>[]));
    else if (cmd === 'status') stdout.write(`${JSON.stringify(result.status, null, 2)}\n`);
    else {
      const said: Record<string, string> = {
        next: 'showing the next picture', prev: 'showing the previous picture', pause: 'paused (the picture stays; pushes are still shown)',
        resume: 'resumed', show: `showing ${String(params.image)}`, delete: `deleted ${String(params.image)}`,
      };
      if (!options.quiet) stdout.write(`${said[cmd] ?? 'ok'}\n`);
    }
    return 0;
  } catch (error) {
    const code = error instanceof DaemonError ? ` (${error.code})` : '';
    stderr.write(`uprez push: ${error instanceof DaemonError ? `${cmd}: ` : ''}${(error as Error).message}${code}\n`);
    return 1;
  } finally {
    await connection?.close();
  }
}

const optionSpec = {
  to: { type: 'string' },
  token: { type: 'string' },
  duration: { type: 'string' },
  fit: { type: 'string' },
  'no-keep': { type: 'boolean' },
  wait: { type: 'string' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  next: { type: 'boolean' },
  prev: { type: 'boolean' },
  pause: { type: 'boolean' },
  resume: { type: 'boolean' },
  list: { type: 'boolean' },
  status: { type: 'boolean' },
  show: { type: 'string' },
  delete: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function positiveNumber(flag: string, text: string, max: number): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0 || value > max) throw new UsageError(`--${flag} ${text}: give a number of seconds, more than 0 and at most ${max}`);
  return value;
}

export async function main(args: string[]): Promise<number> {
  try {
    let parsed;
    try {
      parsed = parseCommandArgs('push', args, optionSpec);
    } catch (error) {
      throw new UsageError((error as Error).message.replace(/^uprez push: /, '').replace(/ \(see uprez push --help\)$/, ''));
    }
    const { values, positionals } = parsed;
    if (values.help) {
      stdout.write(USAGE);
      return 0;
    }
    const commands: [string, Record<string, unknown>][] = [];
    for (const name of ['next', 'prev', 'pause', 'resume', 'list', 'status'] as const) if (values[name]) commands.push([name, {}]);
    if (values.show !== undefined) commands.push(['show', { image: values.show }]);
    if (values.delete !== undefined) commands.push(['delete', { image: values.delete }]);
    if (commands.length > 1) throw new UsageError(`one command at a time: ${commands.map(([c]) => `--${c}`).join(', ')}`);
    if (commands.length === 1 && positionals.length > 0) throw new UsageError(`--${commands[0]![0]} takes no files (push the files in another uprez push)`);
    if (commands.length === 0 && positionals.length === 0) throw new UsageError('no files to push (or a command: --next, --prev, --pause, --resume, --list, --status, --show ID, --delete ID)');
    if (values.json && values.quiet) throw new UsageError('--json or --quiet, not both');

    const params: Record<string, unknown> = {};
    if (values.duration !== undefined) params.duration = positiveNumber('duration', values.duration, 86400);
    if (values.fit !== undefined) {
      if (!(FITS as readonly string[]).includes(values.fit)) throw new UsageError(`--fit ${values.fit}: use contain, cover or fill`);
      params.fit = values.fit;
    }
    if (values['no-keep']) params.keep = false;
    const wait = (values.wait ?? 'accepted') as WaitFor;
    if (!(WAITS as readonly string[]).includes(wait)) throw new UsageError(`--wait ${values.wait}: use accepted, preview or sr`);
    if (commands.length === 1 && (values.duration !== undefined || values.fit !== undefined || values['no-keep'] || values.wait !== undefined)) {
      throw new UsageError(`--duration, --fit, --no-keep and --wait are for pushing files, not --${commands[0]![0]}`);
    }
    const options: PushOptions = {
      to: websocketUrl(values.to ?? DEFAULT_TO),
      token: values.token || env.UPREZ_TOKEN || null,
      params,
      wait,
      timeoutMs: (values.timeout !== undefined ? positiveNumber('timeout', values.timeout, 86400) : 120) * 1000,
      json: values.json === true,
      quiet: values.quiet === true,
    };
    if (commands.length === 1) return await runCommand(commands[0]![0], commands[0]![1], options);
    return await pushFiles(positionals, options);
  } catch (error) {
    if (error instanceof UsageError) {
      stderr.write(`uprez push: ${error.message} (see uprez push --help)\n`);
      return 2;
    }
    throw error;
  }
}
