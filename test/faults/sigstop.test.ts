// SIGSTOP then SIGCONT (a debugger, a frozen container, a machine suspended by hand): while
// stopped the daemon sends nothing, so systemd's watchdog would restart it after WatchdogSec;
// after SIGCONT it goes on: WATCHDOG=1 resumes, the screen keeps its picture, new pictures show.
import { join } from 'node:path';
import t from 'tap';
import { daemonDirs, startDaemon } from '../helpers/daemon.js';
import { NotifyReceiver } from '../helpers/notify-receiver.js';
import { healthz, near, notified, removeDirs, screenColour, writePicture, type Rgb } from './fault-helpers.js';

t.test('SIGSTOP / SIGCONT: silent while stopped, then the watchdog is fed again and the screen goes on', async (t) => {
  const dirs = daemonDirs('uprez-fault-stop-');
  t.teardown(() => removeDirs(dirs));
  const receiver = await NotifyReceiver.start(join(dirs.root, 'notify.sock'));
  t.teardown(() => receiver.stop());
  const red: Rgb = [200, 40, 40];
  await writePicture(join(dirs.folder, 'a.png'), red);
  const daemon = startDaemon(dirs, ['--interval', '1000', '--transition', 'cut', '--model', 'none'],
    { NOTIFY_SOCKET: receiver.socketName, WATCHDOG_USEC: '1000000' });
  t.teardown(async () => {
    daemon.child.kill('SIGCONT'); // never leave a stopped process behind
    await daemon.stop('SIGKILL');
  });
  await daemon.until((s) => s.current?.id === 'a.png', 'a.png on screen');
  await notified(receiver, /^WATCHDOG=1$/);

  daemon.child.kill('SIGSTOP');
  await new Promise((resolve) => setTimeout(resolve, 300)); // a datagram sent just before the stop
  const during = receiver.messages.length;
  await new Promise((resolve) => setTimeout(resolve, 2500)); // longer than WatchdogSec (1 s) here
  t.equal(receiver.messages.length, during, 'nothing is sent while stopped (systemd would count the watchdog down)');

  daemon.child.kill('SIGCONT');
  await notified(receiver, /^WATCHDOG=1$/, during, 5000);
  t.pass('WATCHDOG=1 resumes after SIGCONT');
  t.equal(await healthz(daemon), 200, '/healthz ok after SIGCONT');
  t.ok(near(await screenColour(daemon), red), 'the screen kept its picture');
  const status = await daemon.status();
  t.equal(status.current.id, 'a.png', '/status: the same picture');
  t.ok(status.display.lastFrameMsAgo < 3000, 'frames are produced again');

  const blue: Rgb = [40, 40, 200];
  await writePicture(join(dirs.folder, 'b.png'), blue);
  await daemon.until((s) => s.current?.id === 'b.png', 'b.png on screen after SIGCONT');
  t.ok(near(await screenColour(daemon), blue), 'a new picture shows after SIGCONT');
  t.equal(daemon.child.exitCode, null, 'still running');
});
