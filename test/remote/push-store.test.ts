// Pushed pictures are kept in the state directory: they survive a restart, can be shown again,
// and are bounded (the oldest shown go first; never the one on screen, nor one that has not been
// on screen yet: while the store is full of those, a push waits for room, up to pushWaitS, then
// is refused as busy).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import t from 'tap';
import { WebSocket } from 'ws';
import { post } from '../faults/fault-helpers.js';
import { daemonDirs, startDaemon, type RunningDaemon } from '../helpers/daemon.js';

const token = 'push-store-test-token-0123456789';

/** A websocket client: request(cmd, params) resolves with the reply; push(bytes, params) too. */
async function connect(daemon: RunningDaemon) {
  const url = (await daemon.url('/ws')).replace('http:', 'ws:');
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  let nextId = 1;
  const waiting = new Map<number, (reply: Record<string, any>) => void>();
  const events: Record<string, any>[] = [];
  let eventSeen = () => {};
  ws.on('message', (data, binary) => {
    if (binary) return;
    const message = JSON.parse(String(data)) as Record<string, any>;
    if ('event' in message) {
      events.push(message);
      eventSeen();
    } else if (typeof message.id === 'number') waiting.get(message.id)?.(message);
  });
  /** Waits for an event (subscribe first). */
  const event = async (check: (e: Record<string, any>) => boolean, what: string) => {
    const deadline = Date.now() + 30_000;
    while (!events.some(check)) {
      if (Date.now() > deadline) throw new Error(`no ${what}; events: ${JSON.stringify(events.slice(-5))}`);
      await new Promise<void>((resolve) => { eventSeen = resolve; setTimeout(resolve, 200); });
    }
  };
  const request = (cmd: string, params: Record<string, unknown> = {}, bytes?: Buffer) => new Promise<Record<string, any>>((resolve) => {
    const id = nextId++;
    waiting.set(id, resolve);
    ws.send(JSON.stringify({ id, cmd, ...params }));
    if (bytes) ws.send(bytes);
  });
  return { request, event, close: () => ws.close() };
}

function png(r: number, g: number, b: number): Promise<Buffer> {
  return sharp({ create: { width: 64, height: 36, channels: 3, background: { r, g, b } } }).png().toBuffer();
}

t.test('pushed pictures survive a restart and can be shown again; the store is bounded', async (t) => {
  const dirs = daemonDirs();
  const args = ['--model', 'none', '--token', token, '--transition', 'cut', '--fit', 'fill', '--push-max-images', '2', '--interval', '60'];
  const first = startDaemon(dirs, args);
  t.teardown(() => first.stop('SIGKILL'));
  await first.waitForLine(/event=slideshow.ready/);
  const client = await connect(first);
  await client.request('subscribe', { events: ['preview-shown'] });
  // Each on screen before the next: a shown picture may be evicted (one never shown is not).
  const pushShown = async (name: string, bytes: Buffer) => {
    const reply = await client.request('push', { name }, bytes);
    if (reply.ok) await client.event((e) => e.event === 'preview-shown' && e.id === reply.image.id, `${name} on screen`);
    return reply;
  };
  const red = await pushShown('red.png', await png(220, 0, 0));
  const green = await pushShown('green.png', await png(0, 220, 0));
  const blue = await pushShown('blue.png', await png(0, 0, 220));
  t.ok(red.ok && green.ok && blue.ok, 'three pushes accepted');
  const listed = (await client.request('list')).images as Array<{ id: string; name: string }>;
  t.same(listed.map((i) => i.name).sort(), ['blue.png', 'green.png'], 'at most 2 kept: the oldest (red) was evicted');
  const stored = readdirSync(join(dirs.state, 'pushed')).filter((name) => name.endsWith('.img'));
  t.equal(stored.length, 2, 'and its file is gone from the state directory');
  t.notOk(existsSync(join(dirs.state, 'pushed', `${red.image.id}.img`)), 'the evicted file is deleted');
  client.close();
  t.equal(await first.stop('SIGTERM'), 0);

  const second = startDaemon(dirs, args);
  t.teardown(() => second.stop('SIGKILL'));
  await second.until((s) => s.current?.id === blue.image.id, 'the last pushed picture back on screen after the restart');
  t.same((await second.screen()).pixel(32, 18).map((v) => Math.round(v / 10)), [0, 0, 22], 'blue on the screen');
  const again = await connect(second);
  const names = ((await again.request('list')).images as Array<{ name: string }>).map((i) => i.name).sort();
  t.same(names, ['blue.png', 'green.png'], 'the stored pushes are listed after the restart');
  const shown = await again.request('show', { image: green.image.id });
  t.ok(shown.ok, 'a stored push can be shown again by its id');
  await second.until((s) => s.current?.id === green.image.id, 'green on screen');
  t.same((await second.screen()).pixel(32, 18).map((v) => Math.round(v / 10)), [0, 22, 0], 'green on the screen');
  const removed = await again.request('delete', { image: blue.image.id });
  t.ok(removed.ok, 'delete a pushed picture');
  t.notOk(existsSync(join(dirs.state, 'pushed', `${blue.image.id}.img`)), 'its file is deleted');
  const gone = await again.request('show', { image: blue.image.id });
  t.equal(gone.error?.code, 'not-found', 'and it is gone');
  again.close();
});

const hhmm = (date: Date) => `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
const HOUR = 3_600_000;

t.test('an accepted push is never evicted unseen: while the store is full of pictures not yet shown, a push waits for room (pushWaitS), then is busy', async (t) => {
  const dirs = daemonDirs();
  // Off hours (the schedule's clock moved 3 hours on): pushes are accepted but not shown.
  const schedule = `${hhmm(new Date(Date.now() - HOUR))}-${hhmm(new Date(Date.now() + HOUR))}`;
  const waitS = 5;
  const daemon = startDaemon(dirs, ['--model', 'none', '--token', token, '--transition', 'cut', '--fit', 'fill', '--push-max-images', '2',
    '--interval', '2', '--schedule', schedule, '--push-wait-s', String(waitS)]);
  t.teardown(() => daemon.stop('SIGKILL'));
  await daemon.waitForLine(/event=slideshow.ready/);
  await post(daemon, `/test/clock-offset?ms=${3 * HOUR}`);
  await daemon.waitForLine(/event=schedule.off/);
  const client = await connect(daemon);
  await client.request('subscribe', { events: ['preview-shown'] });
  const red = await client.request('push', { name: 'red.png' }, await png(220, 0, 0));
  const green = await client.request('push', { name: 'green.png' }, await png(0, 220, 0));
  t.ok(red.ok && green.ok, 'two pushes accepted in off hours');
  const blueBytes = await png(0, 0, 220);
  const asked = performance.now();
  const blue = await client.request('push', { name: 'blue.png' }, blueBytes);
  const waitedMs = performance.now() - asked;
  t.equal(blue.error?.code, 'busy', 'the third, with no picture coming on screen, is refused: busy');
  t.ok(waitedMs >= waitS * 1000 - 100, `after waiting pushWaitS for room (${Math.round(waitedMs)} ms)`);
  t.match(blue.error?.message, /^2 pushed pictures \(0 MB\) still wait for their first turn on screen \(pushMaxImages 2, pushMaxBytes \d+\); send again once one has been shown/);
  const names = () => client.request('list').then((r) => (r.images as Array<{ name: string }>).map((i) => i.name).sort());
  t.same(await names(), ['green.png', 'red.png'], 'neither waiting picture was evicted for it');

  // Sent again, it waits; on hours again, red comes on screen at once: room, and blue is accepted.
  let answered = false;
  const again = client.request('push', { name: 'blue.png' }, blueBytes).finally(() => (answered = true));
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.notOk(answered, 'sent again, it waits for room (no reply yet)');
  await post(daemon, '/test/clock-offset?ms=0');
  await client.event((e) => e.event === 'preview-shown' && e.id === red.image.id, 'red on screen');
  t.ok((await again).ok, 'once red came on screen, the waiting push is accepted: its bytes were not sent again');
  // Red was on screen when blue came (never evicted then): the store holds one over its bound until the next push.
  t.same(await names(), ['blue.png', 'green.png', 'red.png'], 'blue is kept, and green (not shown yet) was not evicted for it');
  await client.event((e) => e.event === 'preview-shown' && e.id === green.image.id, 'green on screen');
  const more = await client.request('push', { name: 'white.png' }, await png(250, 250, 250));
  t.ok(more.ok, 'with every picture shown, the next push is accepted at once');
  t.equal((await names()).length, 2, 'and the store is back to its 2: shown ones were evicted for it');
  client.close();

  // The store remembers what was shown across a restart.
  t.equal(await daemon.stop('SIGTERM'), 0);
  const index = JSON.parse(readFileSync(join(dirs.state, 'pushed', 'index.json'), 'utf8')) as { images: Array<{ name: string; shownAt: string | null }> };
  const shownAt = Object.fromEntries(index.images.map((i) => [i.name, i.shownAt]));
  t.ok(Object.values(shownAt).some((v) => typeof v === 'string'), `the index records first showings (${JSON.stringify(shownAt)})`);
});

t.test('a push moves to the decoding thread and back: the stored file is exactly the bytes sent', async (t) => {
  const dirs = daemonDirs();
  const daemon = startDaemon(dirs, ['--model', 'none', '--token', token, '--transition', 'cut', '--interval', '60']);
  t.teardown(() => daemon.stop('SIGKILL'));
  await daemon.waitForLine(/event=slideshow.ready/);
  const client = await connect(daemon);
  // Noise does not compress: a few MB, a message ws hands over as a Buffer of its own (moved, not
  // copied); a tiny one comes as a slice of a larger buffer (copied once).
  const noise = Buffer.alloc(1024 * 768 * 3);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
  const large = await sharp(noise, { raw: { width: 1024, height: 768, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
  const small = await png(10, 200, 30);
  for (const [what, bytes] of [['large', large], ['small', small]] as const) {
    const reply = await client.request('push', { name: `${what}.png` }, bytes);
    t.ok(reply.ok, `the ${what} push (${bytes.length} bytes) is accepted`);
    const stored = readFileSync(join(dirs.state, 'pushed', `${reply.image.id}.img`));
    t.ok(stored.equals(bytes), `the ${what} push is stored byte for byte (${stored.length} bytes)`);
  }
  t.match(daemon.lines.filter((line) => /event=image.pushed/.test(line)).join('\n'), new RegExp(`bytes=${large.length}\\b`), 'its size is logged');
  client.close();
});
