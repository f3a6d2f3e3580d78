// Pushed pictures are kept in the state directory: they survive a restart, can be shown again,
// and are bounded (the oldest go first, never the one on screen).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import t from 'tap';
import { WebSocket } from 'ws';
import { daemonDirs, startDaemon, type RunningDaemon } from '../helpers/daemon.js';

const token = 'push-store-test-token-0123456789';

/** A websocket client: request(cmd, params) resolves with the reply; push(bytes, params) too. */
async function connect(daemon: RunningDaemon) {
  const url = (await daemon.url('/ws')).replace('http:', 'ws:');
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  let nextId = 1;
  const waiting = new Map<number, (reply: Record<string, any>) => void>();
  ws.on('message', (data, binary) => {
    if (binary) return;
    const message = JSON.parse(String(data)) as Record<string, any>;
    if (typeof message.id === 'number') waiting.get(message.id)?.(message);
  });
  const request = (cmd: string, params: Record<string, unknown> = {}, bytes?: Buffer) => new Promise<Record<string, any>>((resolve) => {
    const id = nextId++;
    waiting.set(id, resolve);
    ws.send(JSON.stringify({ id, cmd, ...params }));
    if (bytes) ws.send(bytes);
  });
  return { request, close: () => ws.close() };
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
  const red = await client.request('push', { name: 'red.png' }, await png(220, 0, 0));
  const green = await client.request('push', { name: 'green.png' }, await png(0, 220, 0));
  const blue = await client.request('push', { name: 'blue.png' }, await png(0, 0, 220));
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
