// Websocket clients that misbehave, against the real daemon (headless) with real ws clients and
// raw TCP sockets: half a frame then silence, a PNG whose header claims 100000x100000, 50 pushes in
// flight from one client, and the close codes of docs/protocol.md that websocket.test.ts leaves out
// (1007 for text that is not UTF-8, 1002 for a broken frame, too-large for a long text message).
// Each time: a clear answer to that client, the others served, the screen and the fds unchanged.
import { createHash, randomBytes } from 'node:crypto';
import { connect as tcpConnect, type Socket } from 'node:net';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import t from 'tap';
import { daemonDirs, startDaemon, type RunningDaemon } from '../helpers/daemon.js';
import { fdTargets, openFds } from '../helpers/proc.js';
import { openWs, type Message, type WsClient } from '../helpers/ws-client.js';

const TOKEN = 'faults-token-0123456789abcdef';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A PNG with a gradient (no two of them alike: `seed` shifts it). */
const gradientPng = (width: number, height: number, seed: number) => {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = (x * 255) / width;
      data[i + 1] = (y * 255) / height;
      data[i + 2] = (seed * 37) % 256;
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } }).png().toBuffer();
};

/** A valid small PNG whose IHDR says width x height (its CRC fixed up). */
async function pngClaiming(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await gradientPng(16, 16, 1));
  if (png.toString('latin1', 12, 16) !== 'IHDR') throw new Error('IHDR is not the first chunk');
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

/** A raw TCP socket that did the websocket handshake by hand: it writes frames byte by byte. */
async function rawWebsocket(port: number): Promise<{ socket: Socket; received: () => Buffer; closed: Promise<void> }> {
  const socket = tcpConnect(port, '127.0.0.1');
  let data = Buffer.alloc(0);
  socket.on('data', (chunk) => (data = Buffer.concat([data, chunk])));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  const key = randomBytes(16).toString('base64');
  socket.write(['GET /ws HTTP/1.1', `Host: 127.0.0.1:${port}`, 'Upgrade: websocket', 'Connection: Upgrade',
    `Sec-WebSocket-Key: ${key}`, 'Sec-WebSocket-Version: 13', `Authorization: Bearer ${TOKEN}`, '', ''].join('\r\n'));
  const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  for (let i = 0; i < 100 && !data.includes('\r\n\r\n'); i++) await sleep(50);
  const head = data.subarray(0, data.indexOf('\r\n\r\n') + 4).toString();
  if (!head.startsWith('HTTP/1.1 101') || !head.includes(accept)) throw new Error(`the handshake failed: ${head}`);
  data = data.subarray(head.length);
  return { socket, received: () => data, closed };
}

/** A masked client frame header (FIN set) for a payload of `length` bytes. */
function frameHeader(opcode: number, length: number, mask: Buffer): Buffer {
  if (length < 126) return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | length]), mask]);
  const head = Buffer.alloc(4);
  head[0] = 0x80 | opcode;
  head[1] = 0x80 | 126;
  head.writeUInt16BE(length, 2);
  return Buffer.concat([head, mask]);
}

/** The daemon's (unmasked) frames in `bytes`: [opcode, payload]. */
function serverFrames(bytes: Buffer): [number, Buffer][] {
  const frames: [number, Buffer][] = [];
  let at = 0;
  while (at + 2 <= bytes.length) {
    const opcode = bytes[at]! & 0x0f;
    let length = bytes[at + 1]! & 0x7f;
    let start = at + 2;
    if (length === 126) {
      length = bytes.readUInt16BE(at + 2);
      start = at + 4;
    }
    if (start + length > bytes.length) break;
    frames.push([opcode, bytes.subarray(start, start + length)]);
    at = start + length;
  }
  return frames;
}

/** Polls until the daemon holds `expected` fds (sockets close asynchronously); the count it ended at. */
async function settleFds(d: RunningDaemon, expected: number): Promise<number> {
  let count = openFds(d.child.pid!);
  for (let i = 0; i < 100 && count !== expected; i++) {
    await sleep(100);
    count = openFds(d.child.pid!);
  }
  return count;
}

const metric = async (d: RunningDaemon, name: string): Promise<number> => {
  const body = await (await fetch(await d.url('/metrics'), { headers: d.headers() })).text();
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(body);
  return match ? Number(match[1]) : NaN;
};

t.test('misbehaving websocket clients against the real daemon', async (t) => {
  const dirs = daemonDirs('uprez-ws-faults-');
  const d = startDaemon(dirs, ['--token', TOKEN, '--idle-timeout-s', '2', '--max-requests-per-second', '1000',
    '--interval', '3600', '--transition', 'cut', '--background', '#000000']);
  t.teardown(() => d.stop('SIGKILL'));
  const base = await d.url('');
  const port = Number(new URL(base).port);
  const wsUrl = `${base.replace(/^http/, 'ws')}/ws`;
  await d.waitForLine(/event=slideshow\.ready/);

  // Something on screen to keep: a pushed picture, super-resolved.
  const watcher = await openWs(wsUrl, TOKEN);
  t.teardown(() => watcher.ws.terminate());
  await watcher.request({ id: 'sub', cmd: 'subscribe' });
  watcher.send(JSON.stringify({ id: 'first', cmd: 'push', name: 'first.png' }));
  watcher.send(await gradientPng(160, 90, 0));
  const first = (await watcher.reply('first')).image.id as string;
  await watcher.wait((m) => m.event === 'shown' && m.id === first && m.version === 'final', 'the first picture final on screen');
  // fds with the watcher connected and no other client (HTTP keep-alive sockets come and go: let them go).
  await sleep(200);
  const baseline = openFds(d.child.pid!);

  await t.test('half a frame, then silence: closed after idleTimeoutS; the others are served meanwhile', async (t) => {
    const raw = await rawWebsocket(port);
    const opened = Date.now();
    // A binary frame that says 1000 bytes, and 500 of them.
    const mask = randomBytes(4);
    raw.socket.write(Buffer.concat([frameHeader(2, 1000, mask), randomBytes(500)]));
    await sleep(300);
    t.equal(await metric(d, 'uprez_websocket_clients'), 2, 'the stalled client counts as connected');

    // Meanwhile another client gets its replies and its pushes shown.
    const other = await openWs(wsUrl, TOKEN);
    t.teardown(() => other.ws.terminate());
    const asked = performance.now();
    t.match(await other.request({ id: 1, cmd: 'status' }), { ok: true, status: { display: { width: 320 } } }, 'another client is served');
    t.comment(`status round trip with a stalled client: ${Math.round(performance.now() - asked)} ms`);
    other.send(JSON.stringify({ id: 2, cmd: 'push', name: 'during-stall.png' }));
    other.send(await gradientPng(160, 90, 2));
    const during = (await other.reply(2)).image.id as string;
    await watcher.wait((m) => m.event === 'preview-shown' && m.id === during, 'a push shown while a client stalls');
    t.pass('a push from another client is shown');

    await raw.closed;
    const ms = Date.now() - opened;
    t.ok(ms >= 1900 && ms < 10_000, `the stalled socket was closed after ${ms} ms (idleTimeoutS 2)`);
    const close = serverFrames(raw.received()).find(([opcode]) => opcode === 8);
    t.ok(close, 'a close frame came first');
    if (close) {
      t.equal(close[1].readUInt16BE(0), 1008, 'close code 1008');
      t.equal(close[1].subarray(2).toString(), 'no pong for 2 s', 'with the reason');
    }
    await d.waitForLine(/event=ws\.close .*reason="?no pong/);
    other.ws.close();
    await other.closed;
    // The client sees its close before the daemon has counted it out: poll briefly.
    for (let i = 0; i < 50 && (await metric(d, 'uprez_websocket_clients')) !== 1; i++) await sleep(100);
    t.equal(await metric(d, 'uprez_websocket_clients'), 1, 'only the watcher is left');
    const fds = await settleFds(d, baseline);
    t.equal(fds, baseline, `the daemon holds as many fds as before (${fds}): ${fds !== baseline ? fdTargets(d.child.pid!).join(' ') : 'ok'}`);
  });

  await t.test('a PNG whose header claims 100000x100000: bad-image to the sender, nothing shown, the screen unchanged', async (t) => {
    const before = await d.screen();
    const current = (await d.status()).current.id as string;
    const listed = (await watcher.request({ id: 'list-1', cmd: 'list' })).images.length as number;
    const sender = await openWs(wsUrl, TOKEN);
    t.teardown(() => sender.ws.terminate());
    sender.send(JSON.stringify({ id: 'huge', cmd: 'push', name: 'huge.png' }));
    sender.send(await pngClaiming(100_000, 100_000));
    const reply = await sender.reply('huge');
    t.match(reply, { id: 'huge', ok: false, cmd: 'push', error: { code: 'bad-image', message: /huge\.png: .*100000x100000 is 10,000,000,000 pixels, over the limit/ } });
    t.comment(`the daemon said: ${reply.error.message}`);
    t.match(await watcher.wait((m) => m.event === 'rejected' && m.name === 'huge.png', 'the rejected event'), { id: null, source: 'push', code: 'bad-image' });
    t.equal((await watcher.request({ id: 'list-2', cmd: 'list' })).images.length, listed, 'nothing was added');
    t.equal((await d.status()).current.id, current, 'the picture on screen stays');
    const after = await d.screen();
    t.ok(after.data.equals(before.data), 'the screen is unchanged, pixel for pixel');
    t.match(await sender.request({ id: 'after', cmd: 'status' }), { ok: true }, 'the sender can go on');
  });

  await t.test('50 pushes in flight from one client: each answered (accepted or busy), none lost, the daemon responsive', async (t) => {
    const pusher = await openWs(wsUrl, TOKEN);
    t.teardown(() => pusher.ws.terminate());
    const images = await Promise.all(Array.from({ length: 50 }, (_, i) => gradientPng(96 + i, 54, 100 + i)));
    const pushedBefore = d.count(/event=image\.pushed /);
    const pending = images.map((_, i) => pusher.reply(`p${i}`, 120_000));
    for (const [i, image] of images.entries()) {
      pusher.send(JSON.stringify({ id: `p${i}`, cmd: 'push', name: `burst-${i}.png` }));
      pusher.send(image);
    }
    // While the burst is decoded and shown, another client is answered.
    const other = await openWs(wsUrl, TOKEN);
    t.teardown(() => other.ws.terminate());
    const asked = performance.now();
    t.match(await other.request({ id: 'during', cmd: 'status' }), { ok: true }, 'another client is served during the burst');
    t.comment(`status round trip during the burst: ${Math.round(performance.now() - asked)} ms`);

    const replies = await Promise.all(pending);
    const accepted = replies.filter((r) => r.ok);
    const busy = replies.filter((r) => !r.ok && r.error.code === 'busy');
    t.equal(accepted.length + busy.length, 50, `every push has one reply, accepted (${accepted.length}) or busy (${busy.length})`);
    t.ok(accepted.length >= 4, 'at least maxPendingPushes (4) of them were accepted');
    for (const r of busy) t.match(r.error.message, /pushes (of this connection are pending \(maxPendingPushes\)|are being decoded already)/, `${r.id}: busy says why`);
    // The bytes that followed a refused announcement went with it: not pushed, no second answer.
    await sleep(500);
    const bare = pusher.messages.filter((m) => 'ok' in m && m.id === null);
    t.same(bare, [], 'the images sent after a busy announcement were dropped with it (no bare push)');
    t.equal(d.count(/event=image\.pushed /) - pushedBefore, accepted.length, 'as many pictures pushed as accepted replies');

    // None lost: each accepted image was shown (preview-shown) or is in the list.
    const ids = accepted.map((r) => r.image.id as string);
    // Pushes are shown as their decodes end, so the last reply to arrive is the picture on screen.
    const last = pusher.messages.filter((m) => m.ok && m.cmd === 'push').at(-1)!.image.id as string;
    await watcher.wait((m) => m.event === 'preview-shown' && m.id === last, 'the last accepted push shown', 60_000);
    const shown = new Set(watcher.events.filter((m: Message) => m.event === 'preview-shown').map((m) => m.id as string));
    const listed = new Set((await watcher.request({ id: 'list-3', cmd: 'list' })).images.map((i: Message) => i.id as string));
    const lost = ids.filter((id) => !shown.has(id) && !listed.has(id));
    t.same(lost, [], 'every accepted push was shown or is listed');
    t.equal((await d.status()).current.id, last, 'the last accepted push is on screen');

    // Once the replies are in, the same client pushes again.
    pusher.send(JSON.stringify({ id: 'again', cmd: 'push', name: 'again.png' }));
    pusher.send(await gradientPng(120, 60, 7));
    t.match(await pusher.reply('again', 60_000), { ok: true }, 'and after the replies, pushes are accepted again');
    t.equal((await fetch(`${base}/healthz`)).status, 200, 'frames are still produced');
  });

  await t.test('text that is not UTF-8: close 1007; a broken frame: close 1002; a long text: too-large', async (t) => {
    const other = await openWs(wsUrl, TOKEN);
    t.teardown(() => other.ws.terminate());

    const notUtf8 = await rawWebsocket(port);
    const mask = Buffer.alloc(4); // a zero mask leaves the payload as it is
    notUtf8.socket.write(Buffer.concat([frameHeader(1, 4, mask), Buffer.from([0xc3, 0x28, 0xff, 0xfe])]));
    await notUtf8.closed;
    const close1007 = serverFrames(notUtf8.received()).find(([opcode]) => opcode === 8);
    t.equal(close1007?.[1].readUInt16BE(0), 1007, 'invalid UTF-8 text: close 1007');

    const broken = await rawWebsocket(port);
    // An unmasked client frame is a protocol error (RFC 6455 5.1).
    broken.socket.write(Buffer.from([0x81, 0x02, 0x68, 0x69]));
    await broken.closed;
    const close1002 = serverFrames(broken.received()).find(([opcode]) => opcode === 8);
    t.equal(close1002?.[1].readUInt16BE(0), 1002, 'an unmasked frame: close 1002');

    const talker = await openWs(wsUrl, TOKEN);
    t.teardown(() => talker.ws.terminate());
    talker.send(JSON.stringify({ id: 'long', cmd: 'status', pad: 'x'.repeat(70_000) }));
    t.match(await talker.wait((m) => m.ok === false && m.error?.code === 'too-large', 'too-large'),
      { id: null, error: { message: /^a text message is at most 65536 bytes; this one has \d+/ } });
    t.match(await talker.request({ id: 'next', cmd: 'status' }), { ok: true }, 'the connection stays open after too-large');
    t.match(await other.request({ id: 'o', cmd: 'status' }), { ok: true }, 'another client was served throughout');
  });

  await t.test('the daemon is alive and holds no more fds than before', async (t) => {
    // Every client of the subtests above is gone: only the watcher is connected.
    for (let i = 0; i < 50 && (await metric(d, 'uprez_websocket_clients')) !== 1; i++) await sleep(100);
    t.equal(await metric(d, 'uprez_websocket_clients'), 1, 'one websocket client left');
    const fds = await settleFds(d, baseline);
    t.equal(fds, baseline, `fds: ${baseline} before, ${fds} now${fds !== baseline ? `: ${fdTargets(d.child.pid!).join(' ')}` : ''}`);
    t.equal(d.child.exitCode, null, 'still running');
    t.equal((await fetch(`${base}/healthz`)).status, 200, 'and producing frames');
  });
});
