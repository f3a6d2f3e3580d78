// The SR engine fails through GL: shaders the driver does not compile, then a destroyed GL
// context. The resampled picture stays on screen; /status, the log and STATUS= say so; SR is
// tried again after srRetryS, the engine is opened again, and SR works again.
import { join } from 'node:path';
import t from 'tap';
import { daemonDirs, startDaemon } from '../helpers/daemon.js';
import { NotifyReceiver } from '../helpers/notify-receiver.js';
import { healthz, near, notified, post, removeDirs, screenColour, writePicture, type Rgb } from './fault-helpers.js';

t.test('SR fails (a shader that does not compile, a lost context): resampled picture, said so, retried, recovered', async (t) => {
  const dirs = daemonDirs('uprez-fault-sr-');
  t.teardown(() => removeDirs(dirs));
  const receiver = await NotifyReceiver.start(join(dirs.root, 'notify.sock'));
  t.teardown(() => receiver.stop());
  const red: Rgb = [200, 40, 40];
  await writePicture(join(dirs.folder, 'a.png'), red);
  const daemon = startDaemon(dirs, ['--sr-retry-s', '1', '--interval', '1000', '--transition', 'cut'], { NOTIFY_SOCKET: receiver.socketName });
  t.teardown(() => daemon.stop('SIGKILL'));
  await daemon.until((s) => s.current?.id === 'a.png' && s.current.state === 'super-resolved', 'a.png super-resolved');

  const cases: { fault: 'shader' | 'context'; file: string; rgb: Rgb; message: RegExp }[] = [
    { fault: 'shader', file: 'b.png', rgb: [40, 40, 200], message: /could not be opened again: compileShader: .*does not compile/ },
    { fault: 'context', file: 'c.png', rgb: [40, 170, 40], message: /lost its GL context/ },
  ];
  for (const { fault, file, rgb, message } of cases) {
    await t.test(`fault: ${fault}`, async (t) => {
      const notes = receiver.messages.length;
      const linesBefore = daemon.lines.length;
      await post(daemon, `/test/break-sr?fault=${fault}&count=1`);
      await writePicture(join(dirs.folder, file), rgb);
      const failed = await daemon.until((s) => s.current?.id === file && s.current.state === 'sr-failed', `${file} sr-failed`);
      t.match(failed.sr, { available: true, working: false, problem: message }, '/status: SR not working, and why');
      t.match(failed.sr.problem, /showing the resampled picture, retrying in 1 s/);
      t.match(daemon.lines.slice(linesBefore).find((line) => /event=sr.failed/.test(line)), message, 'the log says why SR failed');
      const status = await notified(receiver, /^STATUS=.*\(sr-failed\); SR failed/, notes);
      t.match(status, message, 'STATUS= says SR failed and why');
      t.notMatch(status, /\n/, 'STATUS= is one line');
      t.ok(near(await screenColour(daemon), rgb), 'the screen shows the new picture, resampled');
      t.equal(await healthz(daemon), 200, '/healthz ok');

      const recovered = await daemon.until((s) => s.current?.id === file && s.current.state === 'super-resolved', `${file} super-resolved after the retry`);
      t.match(recovered.sr, { working: true, problem: null }, '/status: SR works again');
      t.type(recovered.sr.recoveredAt, 'string');
      const after = daemon.lines.slice(linesBefore);
      for (const event of ['sr.retry', 'sr.reopened', 'sr.recovered']) t.ok(after.some((line) => line.includes(`event=${event} `)), `the log says ${event}`);
      await notified(receiver, new RegExp(`^STATUS=showing ${file.replace('.', '\\.')} \\(super-resolved\\); SR works again$`), notes);
      t.ok(near(await screenColour(daemon), rgb), 'the screen shows the SR version');
    });
  }
  t.equal(await healthz(daemon), 200, 'alive after both faults');
  t.equal(daemon.child.exitCode, null, 'the daemon never exited');
});
