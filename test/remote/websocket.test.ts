// The websocket protocol (docs/protocol.md): first WebsocketSource and HttpService in this
// process with a fake Controller (fast: every command, bad input, limits, close codes), then
// the real daemon (headless) with real ws clients.
import { EventEmitter, once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import t, { type Test } from 'tap';
import { WebSocket } from 'ws';
import { ControlError, type Accepted, type Controller, type ImageInfo, type PushOptions } from '../../src/service/controller.js';
import { HttpService, text } from '../../src/service/http.js';
import type { LogFields } from '../../src/service/log.js';
import { WebsocketSource, type WebsocketOptions } from '../../src/sources/websocket.js';
import { daemonDirs, startDaemon } from '../helpers/daemon.js';
import { WsClient, type Message } from '../helpers/ws-client.js';

const TOKEN = 'test-token-0123456789abcdef';

// ---- a client for the tests: WsClient (test/helpers/ws-client.ts), or the refusal of the upgrade ----

interface Refused {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** Opens a websocket: a WsClient, or the HTTP answer that refused the upgrade. */
function connect(url: string, options: { token?: string | null; query?: boolean; autoPong?: boolean } = {}): Promise<WsClient | Refused> {
  const token = options.token === undefined ? TOKEN : options.token;
  const target = token !== null && options.query ? `${url}?token=${encodeURIComponent(token)}` : url;
  const headers = token !== null && !options.query ? { authorization: `Bearer ${token}` } : undefined;
  const ws = new WebSocket(target, { headers, autoPong: options.autoPong ?? true });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(new WsClient(ws)));
    ws.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body, headers: response.headers }));
      response.on('error', () => resolve({ status: response.statusCode ?? 0, body, headers: response.headers }));
    });
    ws.once('error', reject);
  });
}

async function open(t: Test, url: string, options?: Parameters<typeof connect>[1]): Promise<WsClient> {
  const client = await connect(url, options);
  if (!(client instanceof WsClient)) throw new Error(`the upgrade was refused: ${client.status} ${client.body}`);
  t.teardown(() => client.ws.terminate());
  return client;
}

async function refused(url: string, options?: Parameters<typeof connect>[1]): Promise<Refused> {
  const result = await connect(url, options);
  if (result instanceof WsClient) {
    result.ws.terminate();
    throw new Error('the upgrade was accepted');
  }
  return result;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- a fake Controller ----

class FakeController implements Controller {
  readonly events = new EventEmitter();
  readonly calls: string[] = [];
  paused = false;
  private n = 0;
  private readonly images: ImageInfo[] = [
    { id: 'a.jpg', source: 'folder', name: 'a.jpg', bytes: 100, width: 64, height: 32, state: 'super-resolved', onScreen: true, rejected: null, addedAt: new Date(0).toISOString() },
  ];
  /** How long a push's decode takes (ms). */
  decodeMs = 5;

  async push(bytes: Buffer, options: PushOptions, client: string): Promise<Accepted> {
    this.calls.push(`push ${bytes.length} ${JSON.stringify(options)} ${client.startsWith('127.0.0.1:') ? 'local' : client}`);
    await sleep(this.decodeMs);
    const name = options.name ?? `pushed-${this.n + 1}`;
    if (bytes.subarray(0, 3).toString() === 'BAD') {
      this.events.emit('event', { type: 'rejected', id: null, name, source: 'push', code: 'bad-image', message: 'Input buffer contains unsupported image format' });
      throw new ControlError('bad-image', 'Input buffer contains unsupported image format');
    }
    if (bytes.subarray(0, 5).toString() === 'CRASH') throw new Error('disk full');
    const id = `p-${++this.n}`;
    this.images.push({ id, source: 'push', name, bytes: bytes.length, width: 8, height: 4, state: 'waiting', onScreen: false, rejected: null, addedAt: new Date().toISOString() });
    const emit = (event: Record<string, unknown>) => this.events.emit('event', event);
    emit({ type: 'accepted', id, name, source: 'push', width: 8, height: 4, ms: 5 });
    setTimeout(() => emit({ type: 'preview-shown', id, ms: 10 }), 5);
    setTimeout(() => emit({ type: 'sr-done', id, ms: 20, srMs: 10, cache: 'miss' }), 10);
    setTimeout(() => emit({ type: 'shown', id, ms: 30, version: 'final', state: 'super-resolved' }), 15);
    return { id, name, width: 8, height: 4, decodeMs: this.decodeMs };
  }
  private known(id: string): ImageInfo {
    const image = this.images.find((i) => i.id === id);
    if (!image) throw new ControlError('not-found', `no image with id ${JSON.stringify(id)}`);
    return image;
  }
  async show(id: string): Promise<void> {
    this.known(id);
    this.calls.push(`show ${id}`);
  }
  async next(): Promise<void> {
    this.calls.push('next');
  }
  async prev(): Promise<void> {
    this.calls.push('prev');
  }
  pause(): void {
    this.calls.push('pause');
    this.paused = true;
  }
  resume(): void {
    this.calls.push('resume');
    this.paused = false;
  }
  list(): ImageInfo[] {
    return this.images;
  }
  async delete(id: string): Promise<void> {
    const image = this.known(id);
    if (image.source !== 'push') throw new ControlError('not-allowed', `${id} is a file of the watched folder: delete the file instead`);
    this.images.splice(this.images.indexOf(image), 1);
    this.calls.push(`delete ${id}`);
  }
  status(): Record<string, unknown> {
    return { display: { backend: 'fake' }, paused: this.paused };
  }
}

const defaults: WebsocketOptions = { maxMessageBytes: 100_000, maxClients: 8, maxRequestsPerSecond: 50, maxPendingPushes: 4, idleTimeoutS: 60 };

/** HttpService + WebsocketSource + FakeController on a free port, with their log lines. */
async function serve(t: Test, options: Partial<WebsocketOptions> = {}, token: string | null = TOKEN) {
  const lines: string[] = [];
  const log = {
    info: (event: string, fields: LogFields = {}) => lines.push(`${event} ${JSON.stringify(fields)}`),
    warn: (event: string, fields: LogFields = {}) => lines.push(`${event} ${JSON.stringify(fields)}`),
  };
  const controller = new FakeController();
  const source = new WebsocketSource(controller, { ...defaults, ...options }, log);
  const http = new HttpService(new Map([['GET /status', () => text('status')], ['GET /healthz', () => text('ok')]]), (m) => lines.push(`error ${m}`),
    { token, publicRoutes: new Set(['GET /healthz']), log });
  http.onUpgrade('/ws', (request, socket, head) => source.handleUpgrade(request, socket, head));
  const { port } = await http.listen('127.0.0.1', 0);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await source.close();
    await http.close();
  };
  t.teardown(close);
  return { url: `ws://127.0.0.1:${port}/ws`, http: `http://127.0.0.1:${port}`, controller, source, lines, close };
}

// ---- unit tests: WebsocketSource with a fake Controller ----

t.test('unit: every command, with its documented reply', async (t) => {
  const s = await serve(t);
  const c = await open(t, s.url);
  t.equal(s.source.clients, 1);
  t.same(await c.request({ id: 1, cmd: 'subscribe' }), { id: 1, ok: true, cmd: 'subscribe', events: ['accepted', 'rejected', 'preview-shown', 'sr-done', 'shown'] });

  c.send(JSON.stringify({ id: 'p1', cmd: 'push', name: 'one.jpg', duration: 30, fit: 'cover', keep: false }));
  c.send(Buffer.from('IMAGE-BYTES-1'));
  t.same(await c.reply('p1'), { id: 'p1', ok: true, cmd: 'push', image: { id: 'p-1', name: 'one.jpg', width: 8, height: 4 }, ms: 5 });
  t.match(s.controller.calls.at(-1), /^push 13 \{"name":"one.jpg","durationS":30,"fit":"cover","keep":false\} local$/);
  await c.wait((m) => m.event === 'shown' && m.id === 'p-1', 'shown');
  t.same(c.events.map((e) => e.event), ['accepted', 'preview-shown', 'sr-done', 'shown'], 'events in order');
  t.same(c.events[0], { event: 'accepted', id: 'p-1', name: 'one.jpg', source: 'push', width: 8, height: 4, ms: 5 });
  t.same(c.events[2], { event: 'sr-done', id: 'p-1', ms: 20, srMs: 10, cache: 'miss' });

  c.send(Buffer.from('BARE'));
  t.same(await c.wait((m) => m.ok === true && m.id === null, 'the bare push reply'), { id: null, ok: true, cmd: 'push', image: { id: 'p-2', name: 'pushed-2', width: 8, height: 4 }, ms: 5 });
  await c.wait((m) => m.event === 'shown' && m.id === 'p-2', 'shown of p-2');

  t.same(await c.request({ id: 2, cmd: 'show', image: 'a.jpg' }), { id: 2, ok: true, cmd: 'show' });
  t.same(await c.request({ id: 3, cmd: 'next' }), { id: 3, ok: true, cmd: 'next' });
  t.same(await c.request({ id: 4, cmd: 'prev' }), { id: 4, ok: true, cmd: 'prev' });
  t.same(await c.request({ id: 5, cmd: 'pause' }), { id: 5, ok: true, cmd: 'pause', paused: true });
  t.same(await c.request({ id: 6, cmd: 'resume' }), { id: 6, ok: true, cmd: 'resume', paused: false });
  const list = await c.request({ id: 7, cmd: 'list' });
  t.same(list.images.map((i: ImageInfo) => i.id), ['a.jpg', 'p-1', 'p-2']);
  t.same(await c.request({ id: 8, cmd: 'status' }), { id: 8, ok: true, cmd: 'status', status: { display: { backend: 'fake' }, paused: false } });
  t.same(await c.request({ id: 9, cmd: 'delete', image: 'p-1' }), { id: 9, ok: true, cmd: 'delete' });
  t.same(await c.request({ id: 10, cmd: 'delete', image: 'a.jpg' }),
    { id: 10, ok: false, cmd: 'delete', error: { code: 'not-allowed', message: 'a.jpg is a file of the watched folder: delete the file instead' } });
  t.same(await c.request({ id: 11, cmd: 'show', image: 'nope' }), { id: 11, ok: false, cmd: 'show', error: { code: 'not-found', message: 'no image with id "nope"' } });
  t.same(await c.request({ id: 12, cmd: 'subscribe', events: ['shown'] }), { id: 12, ok: true, cmd: 'subscribe', events: ['shown'] });
  const before = c.events.length;
  c.send(Buffer.from('THIRD'));
  await c.wait((m) => m.event === 'shown' && m.id === 'p-3', 'shown of p-3');
  t.same(c.events.slice(before).map((e) => e.event), ['shown'], 'only the subscribed events');
  t.same(await c.request({ id: 13, cmd: 'subscribe', events: [] }), { id: 13, ok: true, cmd: 'subscribe', events: [] });
  t.same(s.controller.calls.filter((call) => !call.startsWith('push')), ['show a.jpg', 'next', 'prev', 'pause', 'resume', 'delete p-1']);
  t.ok(s.lines.some((l) => /^ws\.request \{"client":"127\.0\.0\.1:\d+","cmd":"push","outcome":"ok","ms":\d+,"bytes":13,"image":"p-1"\}$/.test(l)), 'a push is logged');
  t.ok(s.lines.some((l) => /^ws\.request .*"cmd":"delete","outcome":"not-allowed"/.test(l)), 'a refusal is logged with its code');
  t.ok(s.lines.some((l) => /^ws\.open \{"client":"127\.0\.0\.1:\d+","clients":1\}$/.test(l)));
  c.close();
  t.same(await c.closed, { code: 1005, reason: '' });
  await sleep(50);
  t.ok(s.lines.some((l) => /^ws\.close \{"client":"127\.0\.0\.1:\d+","code":1005,"requests":\d+,"ms":\d+,"clients":0\}$/.test(l)), 'the close is logged');
  t.notOk(s.lines.some((l) => l.includes(TOKEN)), 'the token is never logged');
  t.notOk(s.lines.some((l) => l.includes('IMAGE-BYTES')), 'nor image bytes');
});

t.test('unit: bad input gets the documented error and changes nothing', async (t) => {
  const s = await serve(t);
  const c = await open(t, s.url);
  const error = async (request: string | Message, id: unknown, code: string, message: RegExp, cmd?: string) => {
    c.send(typeof request === 'string' ? request : JSON.stringify(request));
    // A client sends a push's bytes right after it: a refused push takes them with it (not pushed).
    if (cmd === 'push') c.send(Buffer.from('BYTES-OF-A-REFUSED-PUSH'));
    const reply = await c.wait((m) => m.ok === false && m.id === id && !c.messages.slice(0, -1).includes(m) && m.error.code === code, `${code} for ${JSON.stringify(request)}`);
    c.messages.splice(c.messages.indexOf(reply), 1);
    t.equal(reply.error.code, code, `${JSON.stringify(request)}: ${code}`);
    t.match(reply.error.message, message);
    t.equal(reply.cmd, cmd, 'cmd echoed when known');
  };
  await error('hello', null, 'bad-json', /^not JSON: /);
  await error('[1,2]', null, 'bad-request', /a request is a JSON object/);
  await error('"status"', null, 'bad-request', /a request is a JSON object/);
  await error({ cmd: 'status' }, null, 'bad-request', /^id: missing; every request needs an id/, 'status');
  await error({ id: null, cmd: 'status' }, null, 'bad-request', /^id: missing/, 'status');
  await error({ id: { a: 1 }, cmd: 'status' }, null, 'bad-request', /^id: must be a string \(1 to 200 characters\) or a number/, 'status');
  await error({ id: '', cmd: 'status' }, null, 'bad-request', /^id: must be/, 'status');
  await error({ id: 21 }, 21, 'bad-request', /^cmd: missing; the commands are push, show, next, prev, pause, resume, list, delete, status, subscribe$/);
  await error({ id: 22, cmd: 5 }, 22, 'bad-request', /^cmd: must be a string/);
  await error({ id: 23, cmd: 'reboot' }, 23, 'unknown-command', /^unknown command "reboot"; the commands are push, /, 'reboot');
  await error({ id: 24, cmd: 'push', duration: 'long' }, 24, 'bad-request', /^duration: must be a number$/, 'push');
  await error({ id: 25, cmd: 'push', duration: 0 }, 25, 'bad-request', /^duration: must be >= 1$/, 'push');
  await error({ id: 26, cmd: 'push', fit: 'stretch', keep: 'yes' }, 26, 'bad-request', /^fit: must be one of "contain", "cover", "fill"; keep: must be true or false$/, 'push');
  await error({ id: 27, cmd: 'push', durationS: 5 }, 27, 'bad-request', /^durationS: unknown parameter \(push takes name, duration, fit, keep\)$/, 'push');
  await error({ id: 28, cmd: 'show' }, 28, 'bad-request', /^image: missing$/, 'show');
  await error({ id: 29, cmd: 'show', image: 7 }, 29, 'bad-request', /^image: must be a string$/, 'show');
  await error({ id: 30, cmd: 'next', now: true }, 30, 'bad-request', /^now: unknown parameter \(next takes no parameters\)$/, 'next');
  await error({ id: 31, cmd: 'subscribe', events: ['shown', 'everything'] }, 31, 'bad-request', /^events\.1: must be one of "accepted", /, 'subscribe');
  await error(JSON.stringify({ id: 32, cmd: 'status', pad: 'x'.repeat(70_000) }), null, 'too-large', /^a text message is at most 65536 bytes; this one has \d+/);
  // An image that does not decode: the decoder's reason; then the connection still works.
  c.send(JSON.stringify({ id: 33, cmd: 'push', name: 'broken.jpg' }));
  c.send(Buffer.from('BAD-NOT-AN-IMAGE'));
  t.same(await c.reply(33), { id: 33, ok: false, cmd: 'push', error: { code: 'bad-image', message: 'Input buffer contains unsupported image format' } });
  c.send(JSON.stringify({ id: 34, cmd: 'push' }));
  c.send(Buffer.from('CRASH'));
  t.same(await c.reply(34), { id: 34, ok: false, cmd: 'push', error: { code: 'internal', message: 'the daemon failed: disk full' } });
  t.same(await c.request({ id: 35, cmd: 'pause' }), { id: 35, ok: true, cmd: 'pause', paused: true }, 'the connection keeps working');
  t.same(s.controller.calls.filter((call) => !call.startsWith('push')), ['pause'], 'nothing else reached the controller');
  t.same(s.controller.calls.filter((call) => call.startsWith('push')).map((call) => call.split(' ')[1]), ['16', '5'],
    'only the two announced images reached it, not the bytes of the refused pushes');
  t.equal(s.controller.list().length, 1, 'no image was added');
});

t.test('unit: token on HTTP routes and on the upgrade; other paths 404', async (t) => {
  const s = await serve(t);
  for (const [what, token, query] of [['no token', null, false], ['a wrong token', 'wrong-token-0123456789abcdef', false], ['a wrong ?token=', 'x', true]] as const) {
    const refusal = await refused(s.url, { token, query });
    t.equal(refusal.status, 401, `${what}: 401 on the upgrade`);
    t.equal(refusal.headers['www-authenticate'], 'Bearer realm="uprez"');
    t.equal(JSON.parse(refusal.body).error.code, 'unauthorized');
  }
  t.equal(s.source.clients, 0, 'no websocket opened');
  t.ok(await open(t, s.url, { query: true }), '?token= opens it');
  t.ok(await open(t, s.url), 'Authorization: Bearer opens it');
  const missing = await fetch(`${s.http}/status`);
  t.equal(missing.status, 401);
  t.equal(missing.headers.get('www-authenticate'), 'Bearer realm="uprez"');
  t.match(await missing.json(), { error: { code: 'unauthorized', message: /needs a token: send the header "Authorization: Bearer TOKEN"/ } });
  const wrong = await fetch(`${s.http}/status?token=nope`);
  t.equal(wrong.status, 401);
  t.match(await wrong.json(), { error: { code: 'unauthorized', message: /^wrong token/ } });
  t.equal((await fetch(`${s.http}/status`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200);
  t.equal((await fetch(`${s.http}/status?token=${TOKEN}`)).status, 200);
  t.equal((await fetch(`${s.http}/healthz`)).status, 200, 'a public route needs no token');
  t.equal((await fetch(`${s.http}/nothing-here`)).status, 401, 'an unknown path without a token: 401, not 404');
  t.equal((await refused(s.url.replace('/ws', '/socket'))).status, 404, 'another upgrade path: 404');
  t.ok(s.lines.some((l) => /^http\.upgrade-refused .*"status":401,"reason":"wrong-token"/.test(l)), 'the reason is logged');
  t.ok(s.lines.some((l) => /^http\.request \{"client":"127\.0\.0\.1:\d+","method":"GET","path":"\/status","status":401,"ms":\d+,"reason":"missing-token"\}$/.test(l)));
  t.notOk(s.lines.some((l) => l.includes(TOKEN) || l.includes('nope')), 'neither the token nor a wrong one is logged');
});

t.test('unit: without a token nothing is asked', async (t) => {
  const s = await serve(t, {}, null);
  const c = await open(t, s.url, { token: null });
  t.match(await c.request({ id: 1, cmd: 'status' }), { ok: true });
  t.equal((await fetch(`${s.http}/status`)).status, 200);
});

t.test('unit: over maxClients the upgrade gets 503; a freed place can be taken', async (t) => {
  const s = await serve(t, { maxClients: 3 });
  const clients = await Promise.all([1, 2, 3].map(() => open(t, s.url)));
  const refusal = await refused(s.url);
  t.equal(refusal.status, 503);
  t.equal(refusal.headers['retry-after'], '5');
  t.same(JSON.parse(refusal.body), { error: { code: 'too-many-clients', message: '3 clients are connected already (maxClients); try again later' } });
  clients[0].close();
  await clients[0].closed;
  await sleep(50);
  const again = await open(t, s.url);
  t.match(await again.request({ id: 1, cmd: 'status' }), { ok: true });
});

t.test('unit: a message over maxMessageBytes closes with 1009 and a reason; others go on', async (t) => {
  const s = await serve(t, { maxMessageBytes: 10_000 });
  const other = await open(t, s.url);
  const c = await open(t, s.url);
  c.send(JSON.stringify({ id: 1, cmd: 'push' }));
  c.send(Buffer.alloc(10_001, 1));
  t.same(await c.closed, { code: 1009, reason: 'message too big: the limit is 10000 bytes (maxMessageBytes)' });
  t.match(await other.request({ id: 1, cmd: 'status' }), { ok: true }, 'another client is unaffected');
  t.notOk(s.controller.calls.some((call) => call.startsWith('push')), 'nothing was pushed');
});

t.test('unit: maxPendingPushes per connection: busy', async (t) => {
  const s = await serve(t, { maxPendingPushes: 2 });
  s.controller.decodeMs = 300;
  const c = await open(t, s.url);
  c.send(JSON.stringify({ id: 1, cmd: 'push' }));
  c.send(JSON.stringify({ id: 2, cmd: 'push' }));
  t.same(await c.request({ id: 3, cmd: 'push' }), { id: 3, ok: false, cmd: 'push',
    error: { code: 'busy', message: '2 pushes of this connection are pending (maxPendingPushes): wait for their replies, then send again' } });
  c.send(Buffer.from('ONE'));
  c.send(Buffer.from('TWO'));
  c.send(Buffer.from('THREE')); // the bytes of the refused push 3: dropped, not pushed
  c.send(Buffer.from('BARE'));
  t.match(await c.wait((m) => m.id === null, 'the bare push'), { ok: false, error: { code: 'busy' } }, 'a bare push beyond the limit: busy');
  t.match(await c.reply(1), { ok: true, image: { id: 'p-1' } });
  t.match(await c.reply(2), { ok: true, image: { id: 'p-2' } });
  c.send(JSON.stringify({ id: 4, cmd: 'push' }));
  c.send(Buffer.from('FOUR'));
  t.match(await c.reply(4), { ok: true }, 'after the replies, pushes go again');
  t.same(s.controller.calls.filter((call) => call.startsWith('push')).map((call) => call.split(' ')[1]), ['3', '3', '4'],
    'pushed: ONE, TWO and FOUR (byte counts); THREE, whose push was refused, was not');
  t.equal(c.messages.filter((m) => 'ok' in m && m.cmd === 'push').length, 5, 'one reply per push request and one for the bare bytes, none for THREE');
});

t.test('unit: a push refused before its bytes (bad-request, rate-limited) takes its bytes with it', async (t) => {
  const s = await serve(t, { maxRequestsPerSecond: 4 });
  const c = await open(t, s.url);
  c.send(JSON.stringify({ id: 'bad', cmd: 'push', fit: 'stretch' }));
  c.send(Buffer.from('BAD-FIT'));
  t.match(await c.reply('bad'), { ok: false, error: { code: 'bad-request' } });
  // The burst (4) is spent by those two and the next two; the fifth message, a push, is rate-limited.
  t.match(await c.request({ id: 's1', cmd: 'status' }), { ok: true });
  t.match(await c.request({ id: 's2', cmd: 'status' }), { ok: true });
  c.send(JSON.stringify({ id: 'limited', cmd: 'push' }));
  c.send(Buffer.from('LIMITED'));
  t.match(await c.reply('limited'), { ok: false, error: { code: 'rate-limited' } });
  await sleep(1500); // the bucket refills
  c.send(JSON.stringify({ id: 'good', cmd: 'push', name: 'good.jpg' }));
  c.send(Buffer.from('GOOD'));
  t.match(await c.reply('good'), { ok: true, image: { name: 'good.jpg' } });
  t.same(s.controller.calls.filter((call) => call.startsWith('push')).map((call) => call.split(' ')[1]), ['4'], 'only GOOD was pushed');
  t.same(c.messages.filter((m) => m.id === null), [], 'no bytes were taken as a bare push');
  t.equal(c.messages.filter((m) => m.id === 'limited').length, 1, 'the rate-limited push has one reply (its bytes none)');
});

t.test('unit: 64 refused pushes without their bytes: closed with 1008', async (t) => {
  const s = await serve(t, { maxPendingPushes: 1, maxRequestsPerSecond: 1000 });
  const c = await open(t, s.url);
  c.send(JSON.stringify({ id: 'first', cmd: 'push' })); // announced, pending: the rest are busy
  for (let i = 0; i < 70; i++) c.send(JSON.stringify({ id: i, cmd: 'push' }));
  t.same(await c.closed, { code: 1008, reason: '64 refused pushes still without their binary message' });
  t.equal(c.messages.filter((m) => m.ok === false && m.error.code === 'busy').length, 65, 'busy replies up to the 65th refusal');
});

t.test('unit: 1,000 requests in a second: replies or rate-limited, then 1008; another client unaffected', async (t) => {
  const s = await serve(t, { maxRequestsPerSecond: 50 });
  const flood = await open(t, s.url);
  const other = await open(t, s.url);
  const sending = performance.now();
  for (let i = 0; i < 1000; i++) {
    flood.send(JSON.stringify({ id: i, cmd: 'status' }));
    if (i % 100 === 99) await sleep(100);
  }
  await flood.reply(999);
  const seconds = (performance.now() - sending) / 1000;
  const replies = flood.messages.filter((m) => 'ok' in m);
  t.equal(replies.length, 1000, 'every request got one reply');
  const ok = replies.filter((m) => m.ok).length;
  const limited = replies.filter((m) => !m.ok && m.error.code === 'rate-limited').length;
  t.equal(ok + limited, 1000, 'each is a reply or rate-limited');
  t.ok(ok >= 50 && ok <= 50 + 50 * seconds + 2, `the burst of 50 and 50/s were served (${ok} in ${seconds.toFixed(2)} s)`);
  t.same(replies.find((m) => !m.ok), { id: replies.find((m) => !m.ok)!.id, ok: false, cmd: 'status',
    error: { code: 'rate-limited', message: 'over 50 requests per second (maxRequestsPerSecond): slow down' } });
  t.match(await other.request({ id: 'x', cmd: 'status' }), { ok: true }, 'the other client is served meanwhile');
  // It persists: closed with 1008 within about 3 s of the first refusal.
  const started = Date.now();
  let closed: { code: number; reason: string } | null = null;
  void flood.closed.then((c) => (closed = c));
  for (let i = 0; i < 400 && !closed; i++) {
    if (flood.ws.readyState === WebSocket.OPEN) flood.send(JSON.stringify({ id: `more-${i}`, cmd: 'status' }));
    await sleep(10);
  }
  t.same(await flood.closed, { code: 1008, reason: 'rate limit exceeded for 3 s' });
  t.ok(Date.now() - started < 5000, `closed after about 3 s (${Date.now() - started} ms)`);
  t.match(await other.request({ id: 'y', cmd: 'status' }), { ok: true }, 'the other client still is');
  t.equal(s.lines.filter((l) => l.startsWith('ws.rate-limited')).length, 1, 'one log line for the stretch of refusals');
  await sleep(50);
  t.ok(s.lines.some((l) => /^ws\.close .*"code":1008,"reason":"rate limit exceeded for 3 s".*"rateLimited":\d+/.test(l)));
});

t.test('unit: a client that does not answer pings is dropped after idleTimeoutS', async (t) => {
  const s = await serve(t, { idleTimeoutS: 2 });
  const silent = await open(t, s.url, { autoPong: false });
  const alive = await open(t, s.url);
  const started = Date.now();
  t.same(await silent.closed, { code: 1008, reason: 'no pong for 2 s' });
  const ms = Date.now() - started;
  t.ok(ms >= 1900 && ms < 4000, `dropped after ${ms} ms`);
  t.equal(alive.ws.readyState, WebSocket.OPEN, 'a client answering pings stays');
  t.match(await alive.request({ id: 1, cmd: 'status' }), { ok: true });
});

t.test('unit: close() closes every client with 1001', async (t) => {
  const s = await serve(t);
  const clients = await Promise.all([1, 2].map(() => open(t, s.url)));
  await s.close();
  for (const c of clients) t.same(await c.closed, { code: 1001, reason: 'daemon stopping' });
});

t.test('unit: 200 clients connecting at once all get replies', async (t) => {
  const s = await serve(t, { maxClients: 256 });
  const clients = await Promise.all(Array.from({ length: 200 }, () => open(t, s.url)));
  const replies = await Promise.all(clients.map((c, i) => c.request({ id: i, cmd: 'status' })));
  t.equal(replies.filter((r) => r.ok).length, 200);
  t.equal(s.source.clients, 200);
});

// ---- the real daemon (headless), real ws clients ----

/** A PNG of one colour. */
const png = (width: number, height: number, colour: string) => sharp({ create: { width, height, channels: 3, background: colour } }).png().toBuffer();

t.test('daemon: no token and a non-loopback --http: refused at start, saying to set a token', async (t) => {
  const dirs = daemonDirs('uprez-ws-');
  const d = startDaemon(dirs, ['--http', '0.0.0.0:0']);
  t.teardown(() => d.stop('SIGKILL'));
  d.url('').catch(() => {}); // it never listens
  const [code] = (await once(d.child, 'exit')) as [number];
  t.equal(code, 2);
  t.match(d.stderr, /http: 0\.0\.0\.0:0 can be reached from other machines, but no token is set \(from flag --http\); set a token \(--token, UPREZ_TOKEN or "token" in the config file; `uprez token` prints a new one\)/);
});

t.test('daemon: the protocol against the real daemon', async (t) => {
  const dirs = daemonDirs('uprez-ws-');
  writeFileSync(join(dirs.folder, 'blue.png'), await png(160, 90, '#2040c0'));
  const d = startDaemon(dirs, ['--token', TOKEN, '--max-clients', '256', '--max-message-bytes', '100000', '--interval', '60',
    '--background', '#000000', '--transition', 'cut']);
  t.teardown(() => d.stop('SIGKILL'));
  const base = await d.url('');
  const wsUrl = `${base.replace(/^http/, 'ws')}/ws`;
  const auth = { authorization: `Bearer ${TOKEN}` };
  const status = async () => (await (await fetch(`${base}/status`, { headers: auth })).json()) as Record<string, any>;
  await d.waitForLine(/event=slideshow\.ready/);

  await t.test('push: the reply, events in order with timings, /status and the screen show it', async (t) => {
    const c = await open(t, wsUrl);
    await c.request({ id: 's', cmd: 'subscribe' });
    c.send(JSON.stringify({ id: 'p', cmd: 'push', name: 'red.png', keep: true }));
    c.send(await png(160, 90, '#c03030'));
    const reply = await c.reply('p');
    t.match(reply, { id: 'p', ok: true, cmd: 'push', image: { id: String, name: 'red.png', width: 160, height: 90 }, ms: Number });
    const id = reply.image.id as string;
    await c.wait((m) => m.event === 'shown' && m.id === id && m.version === 'final', 'the final version shown');
    const events = c.events.filter((e) => e.id === id);
    t.same(events.map((e) => e.event).filter((e) => e !== 'shown'), ['accepted', 'preview-shown', 'sr-done'], `in order: ${events.map((e) => e.event).join(', ')}`);
    t.equal(events.at(-1)!.event, 'shown', 'shown (final) last');
    t.match(events[0], { event: 'accepted', id, name: 'red.png', source: 'push', width: 160, height: 90, ms: Number });
    t.match(events.find((e) => e.event === 'sr-done'), { srMs: Number, cache: 'miss' });
    for (const e of events) t.ok(Number.isInteger(e.ms) && e.ms >= 0, `${e.event} has ms (${e.ms})`);
    const current = (await status()).current;
    t.match(current, { id, source: 'push', state: 'super-resolved' });
    const screen = await fetch(`${base}/screen.png`, { headers: auth });
    const { data, info } = await sharp(Buffer.from(await screen.arrayBuffer())).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const i = (Math.floor(info.height / 2) * info.width + Math.floor(info.width / 2)) * 3;
    t.ok(Math.abs(data[i]! - 0xc0) < 12 && Math.abs(data[i + 1]! - 0x30) < 12 && Math.abs(data[i + 2]! - 0x30) < 12, `the screen is red (${data.subarray(i, i + 3).join(',')})`);
    t.match(d.lines.join('\n'), new RegExp(`event=ws\\.request client=127\\.0\\.0\\.1:\\d+ cmd=push outcome=ok ms=\\d+ bytes=\\d+ image=${id}`));
  });

  await t.test('every command', async (t) => {
    const c = await open(t, wsUrl);
    const list = await c.request({ id: 1, cmd: 'list' });
    const pushed = list.images.find((i: ImageInfo) => i.source === 'push');
    t.ok(pushed, 'the pushed image is listed');
    t.match(list.images.find((i: ImageInfo) => i.id === 'blue.png'), { source: 'folder', name: 'blue.png', width: 160, height: 90 });
    t.same(await c.request({ id: 2, cmd: 'pause' }), { id: 2, ok: true, cmd: 'pause', paused: true });
    t.equal((await c.request({ id: 3, cmd: 'status' })).status.queue.paused, true, 'status says paused');
    t.same(await c.request({ id: 4, cmd: 'show', image: 'blue.png' }), { id: 4, ok: true, cmd: 'show' });
    t.equal((await status()).current.id, 'blue.png', 'show: on screen');
    t.same(await c.request({ id: 5, cmd: 'next' }), { id: 5, ok: true, cmd: 'next' });
    t.same(await c.request({ id: 6, cmd: 'prev' }), { id: 6, ok: true, cmd: 'prev' });
    t.same(await c.request({ id: 7, cmd: 'resume' }), { id: 7, ok: true, cmd: 'resume', paused: false });
    t.match(await c.request({ id: 8, cmd: 'delete', image: 'blue.png' }), { ok: false, error: { code: 'not-allowed' } });
    t.match(await c.request({ id: 9, cmd: 'show', image: 'no-such-image' }), { ok: false, error: { code: 'not-found' } });
    t.same(await c.request({ id: 10, cmd: 'delete', image: pushed.id }), { id: 10, ok: true, cmd: 'delete' });
    t.notOk((await c.request({ id: 11, cmd: 'list' })).images.some((i: ImageInfo) => i.id === pushed.id), 'deleted');
    t.match(await c.request({ id: 12, cmd: 'delete', image: pushed.id }), { ok: false, error: { code: 'not-found' } });
  });

  await t.test('bad input: an error reply, nothing changes, the daemon serves the others', async (t) => {
    const c = await open(t, wsUrl);
    const other = await open(t, wsUrl);
    const before = (await c.request({ id: 0, cmd: 'list' })).images.length;
    c.send('{"id": 1, "cmd": "status"');
    t.match(await c.wait((m) => m.id === null && m.error?.code === 'bad-json', 'bad-json'), { ok: false, error: { message: /^not JSON: / } });
    c.send(JSON.stringify({ cmd: 'status' }));
    t.match(await c.wait((m) => m.id === null && m.error?.code === 'bad-request', 'missing id'), { cmd: 'status', error: { message: /^id: missing/ } });
    t.match(await c.request({ id: 2, cmd: 'explode' }), { ok: false, error: { code: 'unknown-command' } });
    c.send(JSON.stringify({ id: 3, cmd: 'push', duration: 'forever', keep: 1 }));
    c.send(await sharp({ create: { width: 16, height: 9, channels: 3, background: '#123456' } }).png().toBuffer()); // dropped with its push
    t.match(await c.reply(3), { ok: false, error: { code: 'bad-request', message: 'duration: must be a number; keep: must be true or false' } });
    c.send(JSON.stringify({ id: 4, cmd: 'push', name: 'broken.jpg' }));
    c.send(Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(200, 7)]));
    const broken = await c.reply(4);
    t.match(broken, { ok: false, cmd: 'push', error: { code: 'bad-image', message: /broken\.jpg: .*(JPEG|jpeg|Input|unsupported|corrupt|premature)/i } });
    t.comment(`the decoder said: ${broken.error.message}`);
    t.equal((await c.request({ id: 5, cmd: 'list' })).images.length, before, 'no image was added');
    t.match(await other.request({ id: 1, cmd: 'status' }), { ok: true }, 'another client is served');
    t.match(await c.request({ id: 6, cmd: 'status' }), { ok: true }, 'and this one still');
    t.equal((await fetch(`${base}/healthz`)).status, 200, 'the screen goes on');
  });

  await t.test('token: 401 on HTTP routes and on the upgrade', async (t) => {
    t.equal((await fetch(`${base}/status`)).status, 401, 'no token');
    const wrong = await fetch(`${base}/status`, { headers: { authorization: 'Bearer wrong-token-0123456789abcdef' } });
    t.equal(wrong.status, 401);
    t.equal(wrong.headers.get('www-authenticate'), 'Bearer realm="uprez"');
    t.match(await wrong.json(), { error: { code: 'unauthorized' } });
    t.equal((await fetch(`${base}/screen.png?token=nope`)).status, 401, 'a wrong ?token=');
    t.equal((await fetch(`${base}/status?token=${TOKEN}`)).status, 200, '?token= on HTTP');
    t.equal((await fetch(`${base}/healthz`)).status, 200, '/healthz needs none');
    t.equal((await refused(wsUrl, { token: null })).status, 401, 'upgrade without a token');
    t.equal((await refused(wsUrl, { token: 'wrong-token-0123456789abcdef' })).status, 401, 'upgrade with a wrong token');
    t.equal((await refused(wsUrl, { token: 'wrong-token-0123456789abcdef', query: true })).status, 401, 'a wrong ?token= on the upgrade');
    const c = await open(t, wsUrl, { query: true });
    t.match(await c.request({ id: 1, cmd: 'status' }), { ok: true }, '?token= on the upgrade');
    await d.waitForLine(/event=http\.upgrade-refused .*status=401 reason=wrong-token/);
    t.notOk(d.lines.some((l) => l.includes(TOKEN)), 'the token is never logged');
    t.notOk(d.lines.some((l) => l.includes('wrong-token-0123456789abcdef')), 'nor a wrong one');
  });

  await t.test('a message over --max-message-bytes: close 1009 with a reason', async (t) => {
    const c = await open(t, wsUrl);
    const other = await open(t, wsUrl);
    c.send(JSON.stringify({ id: 1, cmd: 'push' }));
    c.send(Buffer.alloc(100_001, 0x55));
    t.same(await c.closed, { code: 1009, reason: 'message too big: the limit is 100000 bytes (maxMessageBytes)' });
    t.match(await other.request({ id: 1, cmd: 'status' }), { ok: true }, 'another client is unaffected');
  });

  await t.test('200 clients connecting at once all get replies', async (t) => {
    const clients = await Promise.all(Array.from({ length: 200 }, () => open(t, wsUrl)));
    const replies = await Promise.all(clients.map((c, i) => c.request({ id: i, cmd: 'status' })));
    t.equal(replies.filter((r) => r.ok && r.status.display).length, 200);
    for (const c of clients) c.ws.terminate();
  });

  await t.test('1,000 requests in a second from one client: replies or rate-limited, then 1008; another client unaffected', async (t) => {
    const flood = await open(t, wsUrl);
    const other = await open(t, wsUrl);
    const started = Date.now();
    for (let i = 0; i < 1000; i++) {
      flood.send(JSON.stringify({ id: i, cmd: 'list' }));
      if (i % 100 === 99) await sleep(95);
    }
    await flood.reply(999);
    const seconds = (Date.now() - started) / 1000;
    t.ok(seconds < 2, `1,000 requests and replies in ${seconds} s`);
    const replies = flood.messages.filter((m) => 'ok' in m);
    t.equal(replies.length, 1000, 'one reply each');
    const ok = replies.filter((m) => m.ok).length;
    t.equal(ok + replies.filter((m) => m.error?.code === 'rate-limited').length, 1000, `served (${ok}) or rate-limited`);
    t.ok(ok >= 50 && ok <= 50 + 50 * seconds + 2, `the burst of 50 and 50/s were served (${ok} in ${seconds} s)`);
    const t0 = performance.now();
    t.match(await other.request({ id: 'o', cmd: 'status' }), { ok: true }, 'another client is served');
    t.ok(performance.now() - t0 < 1000, 'promptly');
    let closed = false;
    void flood.closed.then(() => (closed = true));
    for (let i = 0; i < 500 && !closed; i++) {
      if (flood.ws.readyState === WebSocket.OPEN) flood.send(JSON.stringify({ id: `m${i}`, cmd: 'list' }));
      await sleep(10);
    }
    t.same(await flood.closed, { code: 1008, reason: 'rate limit exceeded for 3 s' });
    t.match(await other.request({ id: 'o2', cmd: 'status' }), { ok: true }, 'the other client still is');
    t.equal((await fetch(`${base}/healthz`)).status, 200, 'and the screen');
  });

  await t.test('SIGTERM closes clients with 1001', async (t) => {
    const c = await open(t, wsUrl);
    await c.request({ id: 1, cmd: 'status' });
    const exit = d.stop('SIGTERM');
    t.same(await c.closed, { code: 1001, reason: 'daemon stopping' });
    t.equal(await exit, 0);
  });
});

t.test('daemon: over --max-clients the upgrade gets 503', async (t) => {
  const dirs = daemonDirs('uprez-ws-');
  const d = startDaemon(dirs, ['--token', TOKEN, '--max-clients', '2', '--model', 'none']);
  t.teardown(() => d.stop('SIGKILL'));
  const wsUrl = `${(await d.url('')).replace(/^http/, 'ws')}/ws`;
  const [a] = await Promise.all([open(t, wsUrl), open(t, wsUrl)]);
  const refusal = await refused(wsUrl);
  t.equal(refusal.status, 503);
  t.match(JSON.parse(refusal.body), { error: { code: 'too-many-clients' } });
  await d.waitForLine(/event=ws\.refused .*status=503 reason=too-many-clients/);
  a.close();
  await a.closed;
  await d.waitForLine(/event=ws\.close .*clients=1/);
  const again = await open(t, wsUrl);
  t.match(await again.request({ id: 1, cmd: 'status' }), { ok: true }, 'a freed place can be taken');
});
