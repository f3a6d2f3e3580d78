// The daemon's life: start (bad configuration, no screen), systemd notifications and the
// watchdog, restart after SIGKILL, SIGTERM. The real bin/uprez in a child process, headless.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import t from 'tap';
import { NotifyReceiver } from '../helpers/notify-receiver.js';
import { daemonDirs, startDaemon, uprez } from '../helpers/daemon.js';
import { threadPriorities } from '../helpers/proc.js';

function solid(path: string, rgb: [number, number, number]): Promise<unknown> {
  return sharp({ create: { width: 64, height: 36, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toFile(path);
}

t.test('an invalid configuration is refused at start with every problem listed', async (t) => {
  const dirs = daemonDirs();
  const config = join(dirs.root, 'bad.json');
  writeFileSync(config, JSON.stringify({ fit: 'stretch', interval: -3, intervall: 5, schedule: '7 to 22' }));
  const child = spawn(process.execPath, [uprez, 'run', '--config', config, '--rotate', '45'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const [code] = await once(child, 'exit');
  t.equal(code, 2, 'exit code 2');
  t.match(stderr, /fit.*stretch/, 'names the bad fit mode');
  t.match(stderr, /contain/, 'with the allowed values as a hint');
  t.match(stderr, /interval/, 'names the bad interval');
  t.match(stderr, /intervall.*did you mean "interval"/, 'names the unknown key and suggests the real one');
  t.match(stderr, /schedule/, 'names the bad schedule');
  t.match(stderr, /rotate.*--rotate/, 'names the bad flag');
  t.match(stderr, new RegExp(config.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')), 'says which file the problems are in');
});

t.test('READY=1 after the first frame; WATCHDOG=1 only while frames are produced', async (t) => {
  const dirs = daemonDirs();
  const receiver = await NotifyReceiver.start(join(dirs.root, 'notify.sock'));
  t.teardown(() => receiver.stop());
  const daemon = startDaemon(dirs, [], { NOTIFY_SOCKET: receiver.socketName, WATCHDOG_USEC: '1000000' });
  t.teardown(() => daemon.stop('SIGKILL'));
  await receiver.waitFor('READY=1');
  t.ok(daemon.lines.some((line) => /event=frame.shown what="idle card"/.test(line)), 'the idle card was on screen before READY=1');
  await receiver.waitFor('STATUS=waiting for pictures');
  t.pass('STATUS= says what is shown (the folder is empty: waiting for pictures)');
  await receiver.waitFor('WATCHDOG=1');
  const health = await fetch(await daemon.url('/healthz'));
  t.equal(health.status, 200, '/healthz is 200 while frames are produced');

  await fetch(await daemon.url('/test/freeze-display'), { method: 'POST' });
  await daemon.waitForLine(/event=watchdog.withheld/, 10_000);
  const count = () => receiver.messages.filter((m) => m === 'WATCHDOG=1').length;
  const before = count();
  await sleep(2500);
  t.equal(count(), before, 'no WATCHDOG=1 while the display thread is frozen (systemd would restart us)');
  t.equal((await fetch(await daemon.url('/healthz'))).status, 503, '/healthz is 503');
  t.ok((await daemon.status()).display.lastFrameMsAgo > 2500, '/status says how long ago the last frame was');

  // Even with a hung display thread, SIGTERM ends the process in time: the display thread gets
  // SCREEN_CLOSE_TIMEOUT_MS (13 s) to give the screen back, well within systemd's TimeoutStopSec (20 s).
  const started = Date.now();
  const code = await daemon.stop('SIGTERM');
  const ms = Date.now() - started;
  t.equal(code, 0, 'exit code 0 on SIGTERM');
  t.ok(ms < 20_000, `stopped in ${ms} ms (the display thread is ended after 13 s, the process after 15 s at the latest: before systemd's TimeoutStopSec, 20 s)`);
  t.ok(daemon.lines.some((line) => /event=display.closed .*outcome=timeout/.test(line)), 'it logs that the display thread did not give the screen back');
});

t.test('SIGTERM during a slow frame waits for it, skips the rest, gives the screen back and logs stopped', async (t) => {
  const dirs = daemonDirs();
  await solid(join(dirs.folder, 'a.png'), [200, 0, 0]);
  const daemon = startDaemon(dirs, ['--model', 'none', '--interval', '3600', '--transition', 'crossfade', '--transition-ms', '3000', '--fit', 'fill', '--on-new', 'show']);
  t.teardown(() => daemon.stop('SIGKILL'));
  await daemon.until((s) => s.current?.id === 'a.png' && s.current.state === 'resampled', 'a.png on screen');
  await daemon.waitForLine(/event=shown id=a.png/);

  // The display thread is blocked for 4 s in a frame (as in a 4K composition on a loaded Pi), and
  // the 3 frames after it would take as long. Meanwhile a new picture is sent to it (its crossfade
  // would be more slow frames), then SIGTERM.
  const slowMs = 4000;
  const response = await fetch(await daemon.url(`/test/slow-frames?ms=${slowMs}&frames=4`), { method: 'POST' });
  t.equal(response.status, 200, 'the display thread is in a slow frame');
  const slowStarted = Date.now();
  await solid(join(dirs.folder, 'b.png'), [0, 0, 200]);
  await daemon.until((s) => s.current?.id === 'b.png', 'b.png sent to the display thread');
  const inFrame = Date.now() - slowStarted;
  t.ok(inFrame < slowMs - 1000, `SIGTERM comes ${inFrame} ms into the ${slowMs} ms frame`);
  const started = Date.now();
  const code = await daemon.stop('SIGTERM');
  const ms = Date.now() - started;
  t.equal(code, 0, 'exit code 0');
  t.ok(daemon.lines.some((line) => /event=display.closed backend=headless$/.test(line)), 'the display thread closed the display (on KMS: restored the CRTC)');
  t.ok(daemon.lines.some((line) => /event=stopped signal=SIGTERM/.test(line)), 'logs that it stopped (the forced exit did not cut it short)');
  t.ok(ms >= slowMs - inFrame - 500, `it waited for the frame in flight: ${ms} ms`);
  t.ok(ms < 2 * slowMs - inFrame - 500, `and drew no frame after it (the new picture's crossfade skipped): ${ms} ms`);
});

t.test('after SIGKILL, a restart resumes the same picture; SIGTERM stops cleanly within 2 s', async (t) => {
  const dirs = daemonDirs();
  await solid(join(dirs.folder, 'a.png'), [200, 0, 0]);
  await solid(join(dirs.folder, 'b.png'), [0, 200, 0]);
  await solid(join(dirs.folder, 'c.png'), [0, 0, 200]);
  const args = ['--model', 'none', '--interval', '2', '--transition', 'cut', '--fit', 'fill'];
  const first = startDaemon(dirs, args);
  t.teardown(() => first.stop('SIGKILL'));
  await first.until((s) => s.current?.id === 'b.png', 'the slideshow to reach b.png');
  await sleep(300); // the state is written in the background right after the picture changes
  t.ok(existsSync(join(dirs.state, 'state.json')), 'the state file exists');
  await first.stop('SIGKILL');

  const second = startDaemon(dirs, [...args, '--interval', '60']);
  t.teardown(() => second.stop('SIGKILL'));
  const resumed = await second.waitForLine(/event=state.resumed/);
  t.match(resumed, /id=b.png/, 'resumes b.png');
  const status = await second.until((s) => s.current !== null, 'a picture on screen');
  t.equal(status.current.id, 'b.png', 'the picture on screen is b.png');
  const screen = await second.screen();
  t.same(screen.pixel(160, 90), [0, 200, 0], 'and the screen shows it');

  const started = Date.now();
  const code = await second.stop('SIGTERM');
  const ms = Date.now() - started;
  t.equal(code, 0, 'exit code 0');
  t.ok(ms < 2500, `stopped in ${ms} ms (nothing in flight: at once)`);
  t.ok(second.lines.some((line) => /event=display.closed backend=headless$/.test(line)), 'the display thread closed the display');
  t.ok(second.lines.some((line) => /event=stopped signal=SIGTERM/.test(line)), 'logs that it stopped');
});

t.test('the main thread runs ahead of the bulk work: every other thread of the daemon at a lower priority', async (t) => {
  const dirs = daemonDirs();
  await solid(join(dirs.folder, 'a.png'), [200, 0, 0]);
  const daemon = startDaemon(dirs, ['--interval', '60']);
  t.teardown(() => daemon.stop('SIGKILL'));
  await daemon.waitForLine(/event=sr.done/, 120_000);
  await sleep(2500); // threads started since the last sweep are lowered at the next (every 2 s)
  const threads = threadPriorities(daemon.child.pid!);
  const main = threads.find((thread) => thread.tid === daemon.child.pid);
  t.equal(main?.nice, 0, 'the main thread: nice 0');
  const others = threads.filter((thread) => thread.tid !== daemon.child.pid);
  t.ok(others.length >= 8, `${others.length} other threads (libuv's pool, V8's helpers, the worker threads)`);
  const higher = others.filter((thread) => thread.nice < 10).map((thread) => `${thread.name}(${thread.tid}) nice ${thread.nice}`);
  t.same(higher, [], 'none of them at a priority above nice 10');
  t.ok(others.some((thread) => thread.nice === 19), 'the SR thread keeps its own, lower priority (nice 19: nine below the others)');
});

t.test('a bug that escapes every handler is logged with its stack: a rejection and the daemon goes on; an exception and it stops, exit 1', async (t) => {
  const dirs = daemonDirs();
  await solid(join(dirs.folder, 'a.png'), [200, 0, 0]);
  const daemon = startDaemon(dirs, ['--model', 'none', '--interval', '60', '--fit', 'fill', '--transition', 'cut']);
  t.teardown(() => daemon.stop('SIGKILL'));
  await daemon.until((s) => s.current?.id === 'a.png', 'a.png on screen');
  await fetch(await daemon.url('/test/escape?kind=rejection'), { method: 'POST' });
  const rejection = await daemon.waitForLine(/event=bug.unhandled-rejection/);
  t.match(rejection, /level=error .*test: an escaped rejection.*at /, 'logged as an error, with its message and stack, on one line');
  t.match(rejection, /action="going on"/, 'and what uprez does about it');
  await sleep(500);
  t.equal(daemon.child.exitCode, null, 'the daemon is still running');
  t.equal((await daemon.status()).current.id, 'a.png', '/status answers, the same picture on screen');
  t.same((await daemon.screen()).pixel(160, 90), [200, 0, 0], 'the screen still shows it');

  const exited = once(daemon.child, 'exit');
  await fetch(await daemon.url('/test/escape?kind=exception'), { method: 'POST' });
  const [code] = await exited;
  const exception = daemon.lines.find((line) => /event=bug.uncaught-exception/.test(line)) ?? '';
  t.match(exception, /level=error .*test: an escaped exception.*at /, 'an exception is logged as an error with its stack');
  t.equal(code, 1, 'exit code 1 (systemd restarts it)');
  t.ok(daemon.lines.some((line) => /event=display.closed/.test(line)), 'after closing the display (the screen is given back)');
});

t.test('auto falls back to headless when there is no KMS screen, and says why', { skip: existsSync('/dev/dri') ? 'this machine has /dev/dri' : false }, async (t) => {
  const dirs = daemonDirs();
  const child = spawn(process.execPath, [uprez, 'run', '--folder', dirs.folder, '--state-dir', dirs.state, '--cache-dir', dirs.cache,
    '--http', 'off', '--size', '64x36', '--model', 'none'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => child.kill('SIGKILL'));
  let out = '';
  const opened = new Promise<string>((resolve) => child.stdout.on('data', (chunk) => {
    out += chunk;
    if (/event=frame.shown/.test(out)) resolve(out);
  }));
  const log = await opened;
  t.match(log, /event=display.opened backend=headless/);
  t.match(log, /reason=.*KMS/i, 'the reason names the missing KMS card');
  child.kill('SIGTERM');
  t.equal((await once(child, 'exit'))[0], 0);
});

t.test('--backend kms without a screen fails with advice', { skip: existsSync('/dev/dri') ? 'this machine has /dev/dri' : false }, async (t) => {
  const dirs = daemonDirs();
  const child = spawn(process.execPath, [uprez, 'run', '--backend', 'kms', '--folder', dirs.folder, '--state-dir', dirs.state, '--http', 'off'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const [code] = await once(child, 'exit');
  t.equal(code, 1);
  t.match(stderr, /KMS/);
});

t.test('outside its schedule the screen is black and no picture is prepared; JSON logs with --log json', async (t) => {
  const dirs = daemonDirs();
  await solid(join(dirs.folder, 'a.png'), [200, 0, 0]);
  // A one-minute window twelve hours away: now is outside it (the daemon uses local time).
  const now = new Date();
  const minute = (now.getHours() * 60 + now.getMinutes() + 720) % 1440;
  const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
  const schedule = `${hhmm(minute)}-${hhmm((minute + 1) % 1440)}`;
  const daemon = startDaemon(dirs, ['--model', 'none', '--schedule', schedule, '--log', 'json']);
  t.teardown(() => daemon.stop('SIGKILL'));
  await daemon.waitForLine(/"event":"schedule.off"/);
  const status = await daemon.until((s) => s.display.on === false, 'the screen to be off');
  t.equal(status.display.on, false, '/status says the screen is off');
  await sleep(1500);
  const screen = await daemon.screen();
  t.same(screen.pixel(160, 90), [0, 0, 0], 'the screen is black');
  t.same(screen.pixel(5, 5), [0, 0, 0], 'all of it');
  t.equal((await fetch(await daemon.url('/healthz'))).status, 200, 'frames (black ones) are still produced: the watchdog stays fed');
  for (const line of daemon.lines) t.doesNotThrow(() => JSON.parse(line), `a JSON line: ${line.slice(0, 60)}`);
  t.ok(daemon.lines.every((line) => typeof JSON.parse(line).event === 'string'), 'every line has its event');
});

t.test('off hours during a crossfade: /screen.png is the black frame on screen, not a mix of the fade', async (t) => {
  const dirs = daemonDirs();
  await solid(join(dirs.folder, 'a.png'), [200, 0, 0]);
  // On from an hour ago to an hour from now (local time); the clock-offset hook jumps into off hours.
  const hour = 3_600_000;
  const hhmm = (date: Date) => `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
  const schedule = `${hhmm(new Date(Date.now() - hour))}-${hhmm(new Date(Date.now() + hour))}`;
  const daemon = startDaemon(dirs, ['--model', 'none', '--schedule', schedule, '--interval', '3600', '--transition', 'crossfade',
    '--transition-ms', '10000', '--fit', 'fill', '--on-new', 'show']);
  t.teardown(() => daemon.stop('SIGKILL'));
  await daemon.waitForLine(/event=shown id=a.png/);
  await solid(join(dirs.folder, 'b.png'), [0, 0, 200]);
  await daemon.waitForLine(/event=image.taken id=b.png/);
  // The 10 s fade under way: a capture is a frame of it (a mix), as on screen.
  let mid: number[] = [];
  for (let attempt = 0; attempt < 100; attempt++) {
    mid = (await daemon.screen()).pixel(160, 90);
    if (mid[2]! > 5) break;
    await sleep(100);
  }
  t.ok(mid[0]! > 0 && mid[2]! > 0, `during the fade the capture is a mix (${mid.join(',')})`);

  const response = await fetch(await daemon.url(`/test/clock-offset?ms=${3 * hour}`), { method: 'POST' });
  t.equal(response.status, 200, 'the clock jumps into off hours');
  await daemon.waitForLine(/event=schedule.off/);
  await sleep(300); // the black frame
  const screen = await daemon.screen();
  t.ok(screen.data.every((byte) => byte === 0), `the capture is black, as the screen (the first pixel: ${screen.pixel(0, 0).join(',')}, the middle: ${screen.pixel(160, 90).join(',')})`);
  t.equal((await daemon.status()).current.id, 'b.png', 'the picture fading in is still the current one (shown when the screen is on again)');
});
