// `uprez push` and `uprez token` end to end: the real bin/uprez in a child process, first on its
// own (token format, bad options, no daemon), then against the real daemon (headless) with a token.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { websocketUrl } from '../../src/cli/push.js';
import { daemonDirs, startDaemon, uprez, type RunningDaemon } from '../helpers/daemon.js';

interface Run { code: number; stdout: string; stderr: string }

/** The child's environment: none of the caller's UPREZ_* variables, plus `env`. */
function run(args: string[], env: Record<string, string> = {}, cwd = dir): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('UPREZ_')));
  return new Promise((done) => {
    execFile(process.execPath, [uprez, ...args], { cwd, env: { ...clean, ...env }, timeout: 120_000 }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

/** The exit-code assertion's message carries the output when the code is not the expected one. */
function exitMessage(result: Run, expected: number): string {
  return result.code === expected ? `exit code ${expected}` : `exit code ${expected}, got ${result.code}: ${result.stderr}${result.stdout}`;
}

/** A port nothing listens on (taken, then freed). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'uprez-push-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
/** 160x90 pictures (SR x2 applies on a 320x180 screen), each its own colour. */
const picture = (name: string, r: number, g: number, b: number) =>
  sharp({ create: { width: 160, height: 90, channels: 3, background: { r, g, b } } }).png().toFile(join(dir, name)).then(() => name);
const inputs = Promise.all([picture('a.png', 200, 40, 40), picture('b.png', 40, 200, 40), picture('c.png', 40, 40, 200), picture('d.png', 200, 200, 40), picture('e.png', 40, 200, 200),
  // Larger than the 320x180 screen: shrunk, no SR step.
  sharp({ create: { width: 640, height: 360, channels: 3, background: { r: 90, g: 90, b: 90 } } }).png().toFile(join(dir, 'large.png'))]);
writeFileSync(join(dir, 'x.jpg'), 'this is a text file, not a JPEG\n');
/** Noise does not compress: a PNG over the daemon's message limit in the tests (200,000 bytes). */
const big = sharp(Buffer.from(Array.from({ length: 400 * 300 * 3 }, () => Math.floor(Math.random() * 256))), { raw: { width: 400, height: 300, channels: 3 } })
  .png().toFile(join(dir, 'big.png'));

t.test('uprez token: 32 random bytes, base64url, and where to put it', async (t) => {
  const first = await run(['token']);
  const second = await run(['token']);
  t.equal(first.code, 0, exitMessage(first, 0));
  const token = first.stdout.trim();
  t.match(first.stdout, /^[A-Za-z0-9_-]{43}\n$/, 'one line: 43 base64url characters');
  t.equal(Buffer.from(token, 'base64url').length, 32, '32 bytes');
  t.equal(Buffer.from(token, 'base64url').toString('base64url'), token, 'canonical base64url, no padding');
  t.not(second.stdout.trim(), token, 'a new one each time');
  t.match(first.stderr, /--token/);
  t.match(first.stderr, /UPREZ_TOKEN/);
  t.match(first.stderr, /"token"/);
  t.match(first.stderr, /\/etc\/uprez\/config\.json/);
  const extra = await run(['token', 'again']);
  t.equal(extra.code, 2, exitMessage(extra, 2));
  const help = await run(['--help']);
  t.match(help.stderr, /^\s+push\s/m, 'push in the command list');
  t.match(help.stderr, /^\s+token\s/m, 'token in the command list');
});

t.test('uprez push: bad options exit 2 with what to do', async (t) => {
  const cases: [string[], RegExp][] = [
    [['push'], /no files to push/],
    [['push', 'a.png', '--fit', 'stretch'], /--fit stretch: use contain, cover or fill/],
    [['push', 'a.png', '--wait', 'forever'], /--wait forever: use accepted, preview or sr/],
    [['push', 'a.png', '--duration', '0'], /--duration 0: give a number of seconds/],
    [['push', 'a.png', '--duration', 'soon'], /--duration soon/],
    [['push', 'a.png', '--timeout=-1'], /--timeout -1/],
    [['push', '--next', '--prev'], /one command at a time: --next, --prev/],
    [['push', '--next', 'a.png'], /--next takes no files/],
    [['push', '--pause', '--fit', 'cover'], /are for pushing files/],
    [['push', 'a.png', '--to', 'ftp://example.org'], /--to ftp:\/\/example\.org: use ws:\/\/HOST:PORT/],
    [['push', 'a.png', '--json', '--quiet'], /--json or --quiet/],
    [['push', 'a.png', '--frobnicate'], /Unknown option '--frobnicate'/],
  ];
  for (const [args, message] of cases) {
    const result = await run(args);
    t.equal(result.code, 2, `${args.join(' ')}: ${exitMessage(result, 2)}`);
    t.match(result.stderr, message, args.join(' '));
    t.match(result.stderr, /see uprez push --help/, `${args.join(' ')}: points to --help`);
  }
  const help = await run(['push', '--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /usage: uprez push FILE\.\.\./);
  for (const flag of ['--to', '--token', '--duration', '--fit', '--no-keep', '--wait', '--next', '--prev', '--pause', '--resume', '--list', '--json']) t.match(help.stdout, flag);
});

t.test('--to: the websocket address of /ws', async (t) => {
  const cases: [string, string][] = [
    ['ws://127.0.0.1:8080', 'ws://127.0.0.1:8080/ws'],
    ['127.0.0.1:9000', 'ws://127.0.0.1:9000/ws'],
    ['pi.local', 'ws://pi.local:8080/ws'],
    ['ws://pi.local', 'ws://pi.local:8080/ws'],
    ['http://pi.local:8080/', 'ws://pi.local:8080/ws'],
    ['https://wall.example.org', 'wss://wall.example.org/ws'],
    ['ws://[::1]:8081', 'ws://[::1]:8081/ws'],
    ['[::1]', 'ws://[::1]:8080/ws'],
    ['ws://host:8080/ws?token=abc', 'ws://host:8080/ws?token=abc'],
  ];
  for (const [to, url] of cases) t.equal(websocketUrl(to).toString(), url, to);
});

t.test('uprez push: no daemon there, a file that cannot be read', async (t) => {
  await inputs;
  const port = await freePort();
  const refused = await run(['push', 'a.png', '--to', `127.0.0.1:${port}`]);
  t.equal(refused.code, 1, exitMessage(refused, 1));
  t.match(refused.stderr, `cannot reach the daemon at ws://127.0.0.1:${port}/ws: connection refused`);
  t.equal(refused.stdout, '', 'nothing on stdout');
  const command = await run(['push', '--list', '--to', `ws://127.0.0.1:${port}`]);
  t.equal(command.code, 1, exitMessage(command, 1));
  t.match(command.stderr, `ws://127.0.0.1:${port}/ws: connection refused`);

  const missing = await run(['push', 'missing.jpg', '--to', `127.0.0.1:${port}`]);
  t.equal(missing.code, 1, exitMessage(missing, 1));
  t.match(missing.stderr, /cannot read missing\.jpg: no such file \(ENOENT\)/);
  const folder = await run(['push', dir, '--to', `127.0.0.1:${port}`]);
  t.match(folder.stderr, /it is a directory \(EISDIR\)/);
});

// ---- against the real daemon ----

const token = 'push-cli-test-token-0123456789abcdef';
let daemon: RunningDaemon | null = null;
let address = '';

async function daemonStatus(): Promise<Record<string, any>> {
  const response = await fetch(await daemon!.url('/status'), { headers: { authorization: `Bearer ${token}` } });
  if (response.status !== 200) throw new Error(`/status: ${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, any>;
}

async function until(check: (status: Record<string, any>) => boolean, what: string, timeoutMs = 60_000): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await daemonStatus();
    if (check(status)) return status;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; current: ${JSON.stringify(status.current)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The id printed for `file` on stdout ("a.png: ID 160x90 (...)"). */
function idOf(stdout: string, file: string): string | null {
  const line = stdout.split('\n').find((l) => l.startsWith(`${file}: `));
  return line ? (/^\S+: (\S+) \d+x\d+ \(/.exec(line)?.[1] ?? null) : null;
}

t.test('against the daemon', async (t) => {
  await inputs;
  const dirs = daemonDirs('uprez-push-cli-');
  daemon = startDaemon(dirs, ['--token', token, '--interval', '300', '--transition', 'cut', '--background', '#202020', '--max-message-bytes', '200000']);
  t.teardown(async () => {
    await daemon?.stop('SIGKILL');
    rmSync(dirs.root, { recursive: true, force: true });
  });
  await daemon.waitForLine(/event=frame\.shown/);
  address = (await daemon.url('')).replace(/^http:/, 'ws:');
  const withToken = { UPREZ_TOKEN: token };

  await t.test('push a file: its id is printed, it is on screen', async (t) => {
    const result = await run(['push', 'a.png', '--to', address], withToken);
    t.equal(result.code, 0, exitMessage(result, 0));
    const id = idOf(result.stdout, 'a.png');
    t.ok(id, `an id on stdout: ${result.stdout}`);
    t.match(result.stdout, /^a\.png: \S+ 160x90 \(sent in \d+ ms, decoded in \d+ ms\)\n$/);
    t.equal(result.stderr, '', 'no progress line when stderr is not a terminal');
    const status = await until((s) => s.current?.id === id, `${id} on screen`);
    t.equal(status.current.source, 'push');
  });

  await t.test('--wait sr: returns once the SR version is on screen', async (t) => {
    const result = await run(['push', 'b.png', '--to', address, '--token', token, '--wait', 'sr']);
    t.equal(result.code, 0, exitMessage(result, 0));
    const id = idOf(result.stdout, 'b.png');
    t.ok(id, result.stdout);
    t.match(result.stdout, /preview on screen at \d+ ms, SR \d+ ms, SR version on screen at \d+ ms/);
    // No polling: the moment uprez push returns, the daemon shows the SR version.
    const status = await daemonStatus();
    t.equal(status.current?.id, id, 'the pushed picture is on screen');
    t.equal(status.current?.state, 'super-resolved', 'in its SR version');
  });

  await t.test('--wait sr on a picture no SR step applies to: returns with its resampled version on screen', async (t) => {
    const result = await run(['push', 'large.png', '--to', address, '--wait', 'sr', '--no-keep'], withToken);
    t.equal(result.code, 0, exitMessage(result, 0));
    t.match(result.stdout, /^large\.png: \S+ 640x360 \(.*preview on screen at \d+ ms, no SR for it \(resampled/);
    const status = await daemonStatus();
    t.equal(status.current?.id, idOf(result.stdout, 'large.png'));
    t.equal(status.current?.state, 'resampled');
  });

  await t.test('a refused image: the daemon\'s reason, exit 1, the other file still goes', async (t) => {
    const result = await run(['push', 'x.jpg', 'c.png', '--to', address, '--json'], withToken);
    t.equal(result.code, 1, exitMessage(result, 1));
    t.match(result.stderr, /x\.jpg: refused: .+\(bad-image\)/);
    const results = JSON.parse(result.stdout) as { file: string; ok: boolean; id?: string; error?: { code: string; message: string } }[];
    t.equal(results.length, 2);
    t.match(results[0], { file: 'x.jpg', ok: false, error: { code: 'bad-image' } });
    t.ok(results[0]!.error!.message.length > 0, 'with the decoder\'s message');
    t.match(results[1], { file: 'c.png', ok: true });
    const c = results[1]!.id!;
    await until((s) => s.current?.id === c, 'c.png on screen');
  });

  await t.test('a wrong token, no token: a clear message, exit 1, the token never printed', async (t) => {
    const wrong = await run(['push', 'a.png', '--to', address, '--token', 'not-the-right-token-at-all']);
    t.equal(wrong.code, 1, exitMessage(wrong, 1));
    t.match(wrong.stderr, /refused the token \(401 unauthorized\): pass the daemon's token with --token T or the UPREZ_TOKEN/);
    t.notMatch(wrong.stderr, /not-the-right-token-at-all/);
    t.equal(wrong.stdout, '');
    const none = await run(['push', '--list', '--to', address]);
    t.equal(none.code, 1, exitMessage(none, 1));
    t.match(none.stderr, /needs a token \(401 unauthorized\): pass it with --token T or set UPREZ_TOKEN/);
  });

  await t.test('--list, --next, --prev, --pause, --resume, --show, --delete', async (t) => {
    const list = await run(['push', '--list', '--to', address, '--json'], withToken);
    t.equal(list.code, 0, exitMessage(list, 0));
    const images = JSON.parse(list.stdout) as { id: string; name: string; source: string; onScreen: boolean }[];
    const pushed = images.filter((i) => i.source === 'push').map((i) => i.name);
    for (const name of ['a.png', 'b.png', 'c.png']) t.ok(pushed.includes(name), `${name} listed`);
    t.notOk(pushed.includes('x.jpg'), 'the refused one is not');
    const onScreen = images.find((i) => i.onScreen);
    t.equal(onScreen?.name, 'c.png');
    const text = await run(['push', '--list', '--to', address], withToken);
    t.equal(text.code, 0);
    t.match(text.stdout, new RegExp(`^\\*\\s+${onScreen!.id}\\s+push\\s+\\S+\\s+160x90\\s+.*c\\.png$`, 'm'), 'on-screen row marked *');
    t.equal(text.stdout.trim().split('\n').length, images.length, 'a row per image');

    const before = (await daemonStatus()).current.id as string;
    const next = await run(['push', '--next', '--to', address], withToken);
    t.equal(next.code, 0, exitMessage(next, 0));
    t.match(next.stdout, /next picture/);
    const moved = await until((s) => s.current && s.current.id !== before, 'another picture after --next');
    const prev = await run(['push', '--prev', '--to', address], withToken);
    t.equal(prev.code, 0, exitMessage(prev, 0));
    await until((s) => s.current?.id === before, `back to ${before} after --prev (from ${moved.current.id})`);

    const pause = await run(['push', '--pause', '--to', address], withToken);
    t.equal(pause.code, 0, exitMessage(pause, 0));
    t.equal((await daemonStatus()).paused, true, 'paused');
    const resume = await run(['push', '--resume', '--to', address], withToken);
    t.equal(resume.code, 0, exitMessage(resume, 0));
    t.equal((await daemonStatus()).paused, false, 'resumed');

    const a = images.find((i) => i.name === 'a.png')!.id;
    const show = await run(['push', '--show', a, '--to', address], withToken);
    t.equal(show.code, 0, exitMessage(show, 0));
    await until((s) => s.current?.id === a, 'a.png on screen after --show');
    const unknown = await run(['push', '--show', 'no-such-image', '--to', address], withToken);
    t.equal(unknown.code, 1, exitMessage(unknown, 1));
    t.match(unknown.stderr, /show: .+\(not-found\)/);

    const b = images.find((i) => i.name === 'b.png')!.id;
    const del = await run(['push', '--delete', b, '--to', address], withToken);
    t.equal(del.code, 0, exitMessage(del, 0));
    const after = JSON.parse((await run(['push', '--list', '--json', '--to', address], withToken)).stdout) as { id: string }[];
    t.notOk(after.some((i) => i.id === b), 'deleted: not listed');
  });

  await t.test('a file over the daemon\'s message limit: its reason (1009), the next file goes on a new connection', async (t) => {
    await big;
    const result = await run(['push', 'big.png', 'd.png', '--to', address, '--json'], withToken);
    t.equal(result.code, 1, exitMessage(result, 1));
    t.match(result.stderr, /big\.png: refused: the daemon closed the connection: message too big: the limit is 200000 bytes \(maxMessageBytes\) \(1009\)/);
    const results = JSON.parse(result.stdout) as { file: string; ok: boolean; id?: string }[];
    t.match(results, [{ file: 'big.png', ok: false }, { file: 'd.png', ok: true }]);
    await until((s) => s.current?.id === results[1]!.id, 'd.png on screen');
  });

  await t.test('GET /metrics counts what was pushed and refused', async (t) => {
    const response = await fetch(await daemon!.url('/metrics'), { headers: { authorization: `Bearer ${token}` } });
    t.equal(response.status, 200);
    t.match(response.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    const value = (name: string) => Number(new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
    t.ok(value('uprez_images_accepted_total{source="push"}') >= 4, 'a.png, b.png, c.png, d.png accepted');
    t.equal(value('uprez_images_rejected_total{reason="bad-image",source="push"}'), 1, 'x.jpg rejected');
    t.ok(value('uprez_images_shown_total') >= 4, 'shown');
    t.ok(value('uprez_sr_seconds_count') >= 1, 'SR timed');
    t.ok(value('uprez_preview_seconds_count') >= 4, 'previews timed');
    t.ok(value('uprez_frames_presented_total') > 0, 'frames');
    t.equal(value('uprez_websocket_clients'), 0, 'no client connected now');
    t.match(text, /^process_cpu_user_seconds_total /m);
    const anonymous = await fetch(await daemon!.url('/metrics'));
    t.equal(anonymous.status, 401, 'the token is needed for /metrics too');
  });

  await t.test('--quiet prints the ids only; --no-keep, --fit and --duration are accepted', async (t) => {
    const result = await run(['push', '-q', 'd.png', 'e.png', '--no-keep', '--fit', 'cover', '--duration', '5', '--to', address], withToken);
    t.equal(result.code, 0, exitMessage(result, 0));
    const ids = result.stdout.trim().split('\n');
    t.equal(ids.length, 2);
    for (const id of ids) t.match(id, /^\S+$/);
    await until((s) => s.current?.id === ids[1], 'the last pushed picture on screen');
  });
});
