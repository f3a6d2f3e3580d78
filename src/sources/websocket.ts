// The websocket source: remote clients push images and control the slideshow over `/ws`
// (docs/protocol.md is the contract; keep the two in step). Every request goes to the
// daemon's Controller; nothing here knows about the screen.
//
// A slow or bad client never holds up another: messages are handled as they come, never
// awaited in a row; each connection has its own rate limit (a token bucket), its own bound on
// pushes in flight and commands in flight, and a bound on the replies waiting to be read.
// Bad input gets an error reply and changes nothing. The logs name the client, the command,
// the outcome and the time; never a token or image bytes.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { describeClient } from '../service/auth.js';
import { ControlError, type Controller, type DaemonEvent, type PushOptions } from '../service/controller.js';
import { errorReply, refuseUpgrade } from '../service/http.js';
import type { LogFields } from '../service/log.js';

export interface WebsocketOptions {
  /** Largest message in bytes (ws's maxPayload); over it: close 1009 with a reason. */
  maxMessageBytes: number;
  /** Connections at once; one more: HTTP 503 on the upgrade. */
  maxClients: number;
  /** Messages per second per connection (and the burst); over it: rate-limited replies, then 1008. */
  maxRequestsPerSecond: number;
  /** Pushes announced or decoding per connection; one more: busy. */
  maxPendingPushes: number;
  /** Seconds without a pong (or any message) before a client is dropped; pings every half of it. */
  idleTimeoutS: number;
}

export interface WebsocketLog {
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
}

/** The protocol's error codes (docs/protocol.md). */
export type ProtocolErrorCode =
  | 'bad-json' | 'bad-request' | 'unknown-command' | 'bad-image' | 'not-found' | 'not-allowed'
  | 'busy' | 'rate-limited' | 'too-large' | 'internal';

export const EVENT_NAMES = ['accepted', 'rejected', 'preview-shown', 'sr-done', 'shown'] as const;
export type EventName = (typeof EVENT_NAMES)[number];

export const COMMANDS = ['push', 'show', 'next', 'prev', 'pause', 'resume', 'list', 'delete', 'status', 'subscribe'] as const;
type Command = (typeof COMMANDS)[number];

/** Largest text message (a request); bigger ones get too-large and the connection stays. */
export const MAX_TEXT_BYTES = 65_536;
/** Unread output beyond which a client is cut (it does not read its replies and events). */
export const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
/** Commands other than pushes in flight per connection (show, next, ... awaiting the daemon). */
export const MAX_COMMANDS_IN_FLIGHT = 32;
/** Over the rate limit this long (without a 1 s pause): close 1008. */
const RATE_LIMIT_CLOSE_MS = 3000;
const RATE_LIMIT_PAUSE_MS = 1000;

type RequestId = string | number | null;

// ---- request schemas (ajv), one per command ----

const idSchema = { anyOf: [{ type: 'string', minLength: 1, maxLength: 200 }, { type: 'number' }] };
const imageParam = { type: 'string', minLength: 1, maxLength: 200 };
const params: Record<Command, { properties: Record<string, object>; required?: string[] }> = {
  push: {
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 200 },
      duration: { type: 'number', minimum: 1, maximum: 86400 },
      fit: { type: 'string', enum: ['contain', 'cover', 'fill'] },
      keep: { type: 'boolean' },
    },
  },
  show: { properties: { image: imageParam }, required: ['image'] },
  next: { properties: {} },
  prev: { properties: {} },
  pause: { properties: {} },
  resume: { properties: {} },
  list: { properties: {} },
  delete: { properties: { image: imageParam }, required: ['image'] },
  status: { properties: {} },
  subscribe: { properties: { events: { type: 'array', maxItems: 16, items: { type: 'string', enum: [...EVENT_NAMES] } } } },
};

const ajv = new Ajv({ allErrors: true });
const validators = new Map<Command, ValidateFunction>(
  COMMANDS.map((cmd) => [
    cmd,
    ajv.compile({
      type: 'object',
      additionalProperties: false,
      required: ['id', 'cmd', ...(params[cmd].required ?? [])],
      properties: { id: idSchema, cmd: { const: cmd }, ...params[cmd].properties },
    }),
  ]),
);

const typeWords: Record<string, string> = { number: 'a number', string: 'a string', boolean: 'true or false', array: 'an array', object: 'an object', integer: 'an integer' };

/** ajv's errors as one line a person can act on: "duration: must be a number; image: missing". */
function describeErrors(cmd: Command, errors: ErrorObject[]): string {
  const parts: string[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    const at = error.instancePath.slice(1).replace(/\//g, '.');
    let part: string;
    if (error.keyword === 'additionalProperties') {
      const name = String(error.params.additionalProperty);
      const known = Object.keys(params[cmd].properties);
      part = `${name}: unknown parameter (${cmd} takes ${known.length > 0 ? known.join(', ') : 'no parameters'})`;
    } else if (error.keyword === 'required') {
      part = `${String(error.params.missingProperty)}: missing`;
    } else if (error.keyword === 'type') {
      part = `${at}: must be ${typeWords[String(error.params.type)] ?? String(error.params.type)}`;
    } else if (error.keyword === 'enum') {
      part = `${at}: must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    } else {
      part = `${at}: ${error.message ?? 'is not valid'}`;
    }
    const key = part.split(':')[0];
    if (seen.has(key)) continue; // the first error of a field says enough
    seen.add(key);
    parts.push(part);
  }
  return parts.join('; ');
}

const validId = (id: unknown): id is string | number =>
  (typeof id === 'string' && id.length >= 1 && id.length <= 200) || (typeof id === 'number' && Number.isFinite(id));

// ---- connections ----

interface Announced {
  id: RequestId;
  options: PushOptions;
  started: number;
  /** Answered already (busy, rate-limited, bad-request): its bytes, when they come, are dropped. */
  refused: boolean;
}

/** Refused pushes whose bytes have not come; one more: close 1008 (a client that never sends them). */
export const MAX_REFUSED_AWAITING_BYTES = 64;

class Connection {
  readonly openedAt = performance.now();
  tokens: number;
  refilledAt = performance.now();
  /** Start of the current stretch of rate-limited messages, and the last of them. */
  limitedSince: number | null = null;
  limitedAt = -Infinity;
  limitedCount = 0;
  lastSeen = Date.now();
  requests = 0;
  /**
   * `push` requests waiting for their bytes (the next binary message takes the first), refused
   * ones too: a client sends the bytes right after the request, so they must not become a push.
   */
  readonly announced: Announced[] = [];
  decoding = 0;
  commandsInFlight = 0;
  subscribed = new Set<EventName>();
  closeReason: string | null = null;

  constructor(readonly ws: WebSocket, readonly client: string, burst: number) {
    this.tokens = burst;
  }

  /** Pushes announced (not refused) or decoding: what maxPendingPushes bounds. */
  get pendingPushes(): number {
    return this.announced.filter((a) => !a.refused).length + this.decoding;
  }
}

export class WebsocketSource {
  private readonly server: WebSocketServer;
  private readonly connections = new Set<Connection>();
  private readonly pingTimer: NodeJS.Timeout;
  private readonly onEvent = (event: DaemonEvent) => this.broadcast(event);
  private closing = false;

  constructor(
    private readonly controller: Controller,
    private readonly options: WebsocketOptions,
    private readonly log: WebsocketLog,
  ) {
    this.server = new WebSocketServer({ noServer: true, maxPayload: options.maxMessageBytes, perMessageDeflate: false, clientTracking: false });
    this.controller.events.on('event', this.onEvent);
    this.pingTimer = setInterval(() => this.pingAll(), Math.max(500, (options.idleTimeoutS * 1000) / 2));
    this.pingTimer.unref();
  }

  /** Open connections. */
  get clients(): number {
    return this.connections.size;
  }

  /** For HttpService.onUpgrade('/ws', ...): the token has been checked already. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const client = describeClient(request);
    if (this.closing) {
      refuseUpgrade(socket, errorReply(503, 'stopping', 'the daemon is stopping', { 'retry-after': '5' }));
      this.log.warn('ws.refused', { client, status: 503, reason: 'stopping' });
      return;
    }
    // ws completes a handshake synchronously, so this count is exact even under a burst.
    if (this.connections.size >= this.options.maxClients) {
      refuseUpgrade(socket, errorReply(503, 'too-many-clients',
        `${this.options.maxClients} clients are connected already (maxClients); try again later`, { 'retry-after': '5' }));
      this.log.warn('ws.refused', { client, status: 503, reason: 'too-many-clients', clients: this.connections.size });
      return;
    }
    this.server.handleUpgrade(request, socket, head, (ws) => this.open(ws, client));
  }

  /** Closes every connection with 1001 (waits up to a second for them to go, then cuts them). */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.pingTimer);
    this.controller.events.off('event', this.onEvent);
    const closed = [...this.connections].map(
      (connection) => new Promise<void>((resolve) => {
        if (connection.ws.readyState === WebSocket.CLOSED) return resolve();
        connection.ws.once('close', () => resolve());
        connection.closeReason = 'daemon stopping';
        connection.ws.close(1001, 'daemon stopping');
      }),
    );
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, 1000).unref());
    await Promise.race([Promise.all(closed), timeout]);
    for (const connection of this.connections) connection.ws.terminate();
    this.server.close();
  }

  private open(ws: WebSocket, client: string): void {
    const connection = new Connection(ws, client, this.options.maxRequestsPerSecond);
    this.connections.add(connection);
    this.log.info('ws.open', { client, clients: this.connections.size });

    // ws closes with 1009 and no reason when a message is over maxPayload: give it one.
    const tooBig = `message too big: the limit is ${this.options.maxMessageBytes} bytes (maxMessageBytes)`;
    const close = ws.close.bind(ws);
    ws.close = ((code?: number, reason?: string | Buffer) => close(code, code === 1009 && !reason ? tooBig : reason)) as typeof ws.close;

    ws.on('message', (data, isBinary) => this.onMessage(connection, data, isBinary));
    ws.on('pong', () => (connection.lastSeen = Date.now()));
    ws.on('error', (error) => {
      connection.closeReason ??= error.message;
      this.log.warn('ws.error', { client, message: error.message });
    });
    ws.on('close', (code, reason) => {
      this.connections.delete(connection);
      connection.announced.length = 0;
      this.log.info('ws.close', {
        client, code, reason: reason.toString() || connection.closeReason || undefined, requests: connection.requests,
        rateLimited: connection.limitedCount || undefined, ms: Math.round(performance.now() - connection.openedAt), clients: this.connections.size,
      });
    });
  }

  private pingAll(): void {
    const now = Date.now();
    for (const connection of this.connections) {
      const { ws } = connection;
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (now - connection.lastSeen > this.options.idleTimeoutS * 1000) {
        // Vanished, or not answering pings: close (if it can still hear it) and cut.
        connection.closeReason = 'no pong';
        ws.close(1008, `no pong for ${this.options.idleTimeoutS} s`);
        setTimeout(() => ws.terminate(), 1000).unref();
        continue;
      }
      ws.ping();
    }
  }

  // ---- sending ----

  private send(connection: Connection, message: Record<string, unknown>): void {
    this.sendText(connection, JSON.stringify(message));
  }

  private sendText(connection: Connection, text: string): void {
    const { ws } = connection;
    if (ws.readyState !== WebSocket.OPEN) return;
    ws.send(text);
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      // It does not read what it gets: it must not make the daemon hold its replies for ever.
      connection.closeReason = 'not reading';
      this.log.warn('ws.dropped', { client: connection.client, reason: 'not-reading', buffered: ws.bufferedAmount });
      ws.terminate();
    }
  }

  private broadcast(event: DaemonEvent): void {
    let text: string | null = null;
    for (const connection of this.connections) {
      if (!connection.subscribed.has(event.type)) continue;
      if (text === null) {
        const { type, ...fields } = event;
        text = JSON.stringify({ event: type, ...fields });
      }
      this.sendText(connection, text);
    }
  }

  private reply(connection: Connection, id: RequestId, cmd: string | undefined, result: Record<string, unknown>): void {
    this.send(connection, cmd === undefined ? { id, ok: true, ...result } : { id, ok: true, cmd, ...result });
  }

  private fail(connection: Connection, id: RequestId, cmd: string | undefined, code: ProtocolErrorCode, message: string, started: number): void {
    const error = { code, message };
    this.send(connection, cmd === undefined ? { id, ok: false, error } : { id, ok: false, cmd, error });
    this.logRequest(connection, cmd, code, started);
  }

  private logRequest(connection: Connection, cmd: string | undefined, outcome: string, started: number, extra: LogFields = {}): void {
    const fields = { client: connection.client, cmd: cmd ?? '-', outcome, ms: Math.round(performance.now() - started), ...extra };
    if (outcome === 'ok') this.log.info('ws.request', fields);
    else this.log.warn('ws.request', fields);
  }

  // ---- receiving ----

  /** Takes a token from the connection's bucket; false when it is empty. */
  private takeToken(connection: Connection, now: number): boolean {
    const rate = this.options.maxRequestsPerSecond;
    connection.tokens = Math.min(rate, connection.tokens + ((now - connection.refilledAt) / 1000) * rate);
    connection.refilledAt = now;
    if (connection.tokens < 1) return false;
    connection.tokens -= 1;
    return true;
  }

  private onMessage(connection: Connection, data: RawData, isBinary: boolean): void {
    const { ws } = connection;
    if (ws.readyState !== WebSocket.OPEN) return;
    const started = performance.now();
    connection.lastSeen = Date.now();
    connection.requests++;
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);

    if (!this.takeToken(connection, started)) {
      this.rateLimited(connection, bytes, isBinary, started);
      return;
    }
    if (isBinary) {
      this.onImage(connection, bytes, started);
      return;
    }
    if (bytes.length > MAX_TEXT_BYTES) {
      this.fail(connection, null, undefined, 'too-large', `a text message is at most ${MAX_TEXT_BYTES} bytes; this one has ${bytes.length} (send images as binary messages)`, started);
      return;
    }
    let request: unknown;
    try {
      request = JSON.parse(bytes.toString('utf8'));
    } catch (error) {
      this.fail(connection, null, undefined, 'bad-json', `not JSON: ${(error as Error).message}`, started);
      return;
    }
    this.onRequest(connection, request, started);
  }

  private rateLimited(connection: Connection, bytes: Buffer, isBinary: boolean, now: number): void {
    let id: RequestId = null;
    let cmd: string | undefined;
    let answered = false;
    if (isBinary) {
      // The bytes of an announced push: that push is answered (and dropped) here.
      const announced = connection.announced.shift();
      id = announced?.id ?? null;
      cmd = 'push';
      answered = announced?.refused ?? false;
    } else if (bytes.length <= MAX_TEXT_BYTES) {
      try {
        const request = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
        if (request && typeof request === 'object' && validId(request.id)) id = request.id;
        if (request && typeof request === 'object' && typeof request.cmd === 'string') cmd = request.cmd;
      } catch {
        // answered with id null
      }
      if (cmd === 'push') this.refusePush(connection, id, now);
    }
    const error = { code: 'rate-limited', message: `over ${this.options.maxRequestsPerSecond} requests per second (maxRequestsPerSecond): slow down` };
    if (!answered) this.send(connection, cmd === undefined ? { id, ok: false, error } : { id, ok: false, cmd, error });

    if (now - connection.limitedAt > RATE_LIMIT_PAUSE_MS) {
      connection.limitedSince = now;
      // One line per stretch of rate-limited requests (a flood must not flood the log too).
      this.log.warn('ws.rate-limited', { client: connection.client, limit: this.options.maxRequestsPerSecond });
    }
    connection.limitedAt = now;
    connection.limitedCount++;
    if (connection.limitedSince !== null && now - connection.limitedSince >= RATE_LIMIT_CLOSE_MS) {
      connection.closeReason = 'rate limit';
      connection.ws.close(1008, 'rate limit exceeded for 3 s');
    }
  }

  private onRequest(connection: Connection, request: unknown, started: number): void {
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      this.fail(connection, null, undefined, 'bad-request', 'a request is a JSON object: {"id": 1, "cmd": "status"}', started);
      return;
    }
    const fields = request as Record<string, unknown>;
    const cmd = typeof fields.cmd === 'string' ? fields.cmd.slice(0, 100) : undefined;
    if (!validId(fields.id)) {
      const problem = fields.id === undefined || fields.id === null ? 'missing' : 'must be a string (1 to 200 characters) or a number';
      this.fail(connection, null, cmd, 'bad-request', `id: ${problem}; every request needs an id, which its reply carries`, started);
      if (cmd === 'push') this.refusePush(connection, null, started);
      return;
    }
    const id = fields.id;
    if (cmd === undefined) {
      const problem = fields.cmd === undefined ? 'missing' : 'must be a string';
      this.fail(connection, id, undefined, 'bad-request', `cmd: ${problem}; the commands are ${COMMANDS.join(', ')}`, started);
      return;
    }
    if (!(COMMANDS as readonly string[]).includes(cmd)) {
      this.fail(connection, id, cmd, 'unknown-command', `unknown command ${JSON.stringify(cmd)}; the commands are ${COMMANDS.join(', ')}`, started);
      return;
    }
    const command = cmd as Command;
    const validate = validators.get(command)!;
    if (!validate(fields)) {
      this.fail(connection, id, cmd, 'bad-request', describeErrors(command, validate.errors ?? []), started);
      if (command === 'push') this.refusePush(connection, id, started);
      return;
    }
    this.dispatch(connection, id, command, fields, started);
  }

  private dispatch(connection: Connection, id: string | number, cmd: Command, fields: Record<string, unknown>, started: number): void {
    const c = this.controller;
    switch (cmd) {
      case 'push': {
        if (connection.pendingPushes >= this.options.maxPendingPushes) {
          this.fail(connection, id, cmd, 'busy', `${this.options.maxPendingPushes} pushes of this connection are pending (maxPendingPushes): wait for their replies, then send again`, started);
          this.refusePush(connection, id, started);
          return;
        }
        const options: PushOptions = {};
        if (typeof fields.name === 'string') options.name = fields.name;
        if (typeof fields.duration === 'number') options.durationS = fields.duration;
        if (typeof fields.fit === 'string') options.fit = fields.fit as PushOptions['fit'];
        if (typeof fields.keep === 'boolean') options.keep = fields.keep;
        connection.announced.push({ id, options, started, refused: false });
        return; // answered when its bytes come
      }
      case 'pause':
        return this.sync(connection, id, cmd, started, () => (c.pause(), { paused: c.paused }));
      case 'resume':
        return this.sync(connection, id, cmd, started, () => (c.resume(), { paused: c.paused }));
      case 'list':
        return this.sync(connection, id, cmd, started, () => ({ images: c.list() }));
      case 'status':
        return this.sync(connection, id, cmd, started, () => ({ status: c.status() }));
      case 'subscribe': {
        const wanted = Array.isArray(fields.events) ? new Set(fields.events as EventName[]) : new Set(EVENT_NAMES);
        connection.subscribed = new Set(EVENT_NAMES.filter((name) => wanted.has(name)));
        return this.sync(connection, id, cmd, started, () => ({ events: [...connection.subscribed] }));
      }
      case 'show':
        return this.async(connection, id, cmd, started, () => c.show(fields.image as string));
      case 'next':
        return this.async(connection, id, cmd, started, () => c.next());
      case 'prev':
        return this.async(connection, id, cmd, started, () => c.prev());
      case 'delete':
        return this.async(connection, id, cmd, started, () => c.delete(fields.image as string));
    }
  }

  private sync(connection: Connection, id: RequestId, cmd: Command, started: number, work: () => Record<string, unknown>): void {
    let result: Record<string, unknown>;
    try {
      result = work();
    } catch (error) {
      this.failWith(connection, id, cmd, error, started);
      return;
    }
    this.reply(connection, id, cmd, result);
    this.logRequest(connection, cmd, 'ok', started);
  }

  private async(connection: Connection, id: RequestId, cmd: Command, started: number, work: () => Promise<void>): void {
    if (connection.commandsInFlight >= MAX_COMMANDS_IN_FLIGHT) {
      this.fail(connection, id, cmd, 'busy', `${MAX_COMMANDS_IN_FLIGHT} commands of this connection are in progress: wait for their replies`, started);
      return;
    }
    connection.commandsInFlight++;
    let promise: Promise<void>;
    try {
      promise = work();
    } catch (error) {
      promise = Promise.reject(error);
    }
    promise.then(
      () => {
        this.reply(connection, id, cmd, {});
        this.logRequest(connection, cmd, 'ok', started);
      },
      (error: unknown) => this.failWith(connection, id, cmd, error, started),
    ).finally(() => connection.commandsInFlight--);
  }

  private failWith(connection: Connection, id: RequestId, cmd: Command, error: unknown, started: number): void {
    if (error instanceof ControlError) {
      this.fail(connection, id, cmd, error.code, error.message, started);
    } else {
      const message = error instanceof Error ? error.message : String(error);
      this.log.warn('ws.internal', { client: connection.client, cmd, message });
      this.fail(connection, id, cmd, 'internal', `the daemon failed: ${message}`, started);
    }
  }

  /** A refused push (answered already): its bytes, the next binary message, are dropped when they come. */
  private refusePush(connection: Connection, id: RequestId, started: number): void {
    const waiting = connection.announced.filter((a) => a.refused).length;
    if (waiting >= MAX_REFUSED_AWAITING_BYTES) {
      connection.closeReason = 'refused pushes without their bytes';
      connection.ws.close(1008, `${MAX_REFUSED_AWAITING_BYTES} refused pushes still without their binary message`);
      return;
    }
    connection.announced.push({ id, options: {}, started, refused: true });
  }

  private onImage(connection: Connection, bytes: Buffer, received: number): void {
    const announced = connection.announced.shift();
    if (announced?.refused) return; // its push was answered (busy, bad-request, rate-limited): not pushed
    const id = announced?.id ?? null;
    const started = announced?.started ?? received;
    if (!announced && connection.pendingPushes >= this.options.maxPendingPushes) {
      this.fail(connection, null, 'push', 'busy', `${this.options.maxPendingPushes} pushes of this connection are pending (maxPendingPushes): wait for their replies, then send again`, started);
      return;
    }
    connection.decoding++;
    const size = bytes.length; // the controller may move the bytes to another thread: `bytes` is empty then
    let promise: Promise<Awaited<ReturnType<Controller['push']>>>;
    try {
      promise = this.controller.push(bytes, announced?.options ?? {}, connection.client);
    } catch (error) {
      promise = Promise.reject(error);
    }
    promise.then(
      (accepted) => {
        this.reply(connection, id, 'push', {
          image: { id: accepted.id, name: accepted.name, width: accepted.width, height: accepted.height },
          ms: accepted.decodeMs,
        });
        this.logRequest(connection, 'push', 'ok', started, { bytes: size, image: accepted.id });
      },
      (error: unknown) => this.failWith(connection, id, 'push', error, started),
    ).finally(() => connection.decoding--);
  }
}
