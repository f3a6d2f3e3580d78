// The wall clock jumps (NTP after a boot without a real-time clock, a time zone change): only the
// schedule reads it. Jumping into off hours blanks the screen and stops SR; jumping back shows
// the picture again. The slideshow's interval runs on monotonic timers, so it is not disturbed,
// and no timer runs hot meanwhile. The jump goes through POST /test/clock-offset.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { daemonDirs, startDaemon, type RunningDaemon } from '../helpers/daemon.js';
import { NotifyReceiver } from '../helpers/notify-receiver.js';
import { healthz, near, notified, post, removeDirs, screenColour, writePicture, type Rgb } from './fault-helpers.js';

const hhmm = (date: Date) => `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
const HOUR = 3_600_000;

/** CPU seconds the daemon used (user + system, all threads) from /proc. */
function cpuSeconds(daemon: RunningDaemon): number {
  const fields = readFileSync(`/proc/${daemon.child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100 Hz)
}

t.test('clock jumps into off hours and back: black, then the picture again; timers sane', async (t) => {
  const dirs = daemonDirs('uprez-fault-clock-');
  t.teardown(() => removeDirs(dirs));
  const receiver = await NotifyReceiver.start(join(dirs.root, 'notify.sock'));
  t.teardown(() => receiver.stop());
  const red: Rgb = [200, 40, 40];
  const blue: Rgb = [40, 40, 200];
  await writePicture(join(dirs.folder, 'a.png'), red);
  await writePicture(join(dirs.folder, 'b.png'), blue);
  // On from an hour ago to an hour from now (local time): a jump of 3 hours lands in off hours.
  const schedule = `${hhmm(new Date(Date.now() - HOUR))}-${hhmm(new Date(Date.now() + HOUR))}`;
  const daemon = startDaemon(dirs, ['--schedule', schedule, '--interval', '2', '--transition', 'cut', '--model', 'none'], { NOTIFY_SOCKET: receiver.socketName });
  t.teardown(() => daemon.stop('SIGKILL'));
  await daemon.until((s) => s.current !== null && s.display.on, 'a picture on screen');

  const notes = receiver.messages.length;
  await post(daemon, `/test/clock-offset?ms=${3 * HOUR}`);
  const off = await daemon.until((s) => !s.display.on, 'the screen off');
  t.equal(off.display.on, false, '/status: the display is off');
  await daemon.waitForLine(/event=schedule.off/);
  await notified(receiver, /^STATUS=screen off \(schedule\)/, notes);
  await new Promise((resolve) => setTimeout(resolve, 300)); // the black frame's composition
  const screen = await daemon.screen();
  t.ok(screen.data.every((byte) => byte === 0), 'the screen is black in off hours');
  const shownBefore = (await daemon.status()).counters.shown;
  const cpuBefore = cpuSeconds(daemon);
  await new Promise((resolve) => setTimeout(resolve, 4500)); // two slideshow intervals
  const cpu = cpuSeconds(daemon) - cpuBefore;
  const idle = await daemon.status();
  t.equal(idle.counters.shown, shownBefore, 'no picture changes in off hours (the slideshow waits)');
  t.ok(cpu < 2, `no busy loop in off hours: ${cpu.toFixed(2)} CPU s in 4.5 s (the display thread still presents a black frame a second)`);
  t.equal(await healthz(daemon), 200, '/healthz ok while off (frames go on)');

  await post(daemon, '/test/clock-offset?ms=0');
  await daemon.until((s) => s.display.on && s.current !== null, 'the screen on again');
  await daemon.waitForLine(/event=schedule.on/);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const colour = await screenColour(daemon);
  t.ok(near(colour, red) || near(colour, blue), `a picture is on screen again (${colour.join(',')})`);

  // The slideshow goes on at its interval: about one change per 2 s, neither none nor a storm.
  const first = (await daemon.status()).counters.shown;
  await new Promise((resolve) => setTimeout(resolve, 5000));
  const changes = (await daemon.status()).counters.shown - first;
  t.ok(changes >= 1 && changes <= 4, `the slideshow advances at its interval after the jump (${changes} changes in 5 s at 2 s)`);
  t.equal(daemon.count(/level=error/), 0, 'no errors logged');
  t.equal(await healthz(daemon), 200, 'alive');
});
