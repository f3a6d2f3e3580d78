// Files that move under the reader: deleted between the watcher's event and the read, deleted
// while being read, replaced (renamed over) and rewritten in place while being read. The test
// hook /test/delay-reads widens the window between the event, the open and the read.
import { readdirSync, renameSync, unlinkSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { daemonDirs, startDaemon } from '../helpers/daemon.js';
import { healthz, near, post, removeDirs, screenColour, writePicture, type Rgb } from './fault-helpers.js';

t.test('files deleted or replaced around the read: logged, no crash, last good picture kept, the new version shown', async (t) => {
  const dirs = daemonDirs('uprez-fault-race-');
  t.teardown(() => removeDirs(dirs));
  const red: Rgb = [200, 40, 40];
  await writePicture(join(dirs.folder, 'a.png'), red);
  const daemon = startDaemon(dirs, ['--interval', '1000', '--transition', 'cut', '--model', 'none']);
  t.teardown(() => daemon.stop('SIGKILL'));
  await daemon.until((s) => s.current?.id === 'a.png', 'a.png on screen');

  const deleted = async (name: string, delays: string) => {
    await post(daemon, `/test/delay-reads?${delays}`);
    await writePicture(join(dirs.folder, name), [40, 40, 200]);
    // Before the open: the file is taken (logged) and the read waits; during the read: the file is open.
    await daemon.waitForLine(new RegExp(`event=${delays.startsWith('before') ? 'image.taken' : 'test.read-opened'} id=${name.replace('.', '\\.')}(\\s|$)`));
    unlinkSync(join(dirs.folder, name));
    t.match(await daemon.waitForLine(new RegExp(`event=image.vanished id=${name.replace('.', '\\.')} `), 10_000), /deleted or renamed before or while it was read/, `${name}: the log says it vanished`);
    const status = await daemon.status();
    t.equal(status.current.id, 'a.png', `${name}: the picture on screen stays`);
    t.ok(near(await screenColour(daemon), red), `${name}: the screen still shows a.png`);
    t.notOk(status.rejections.some((r: { id: string }) => r.id === name), `${name}: not counted as a bad file`);
    t.equal(await healthz(daemon), 200, `${name}: /healthz ok`);
  };
  await t.test('deleted between the watcher\'s event and the read', () => deleted('gone-before.png', 'beforeOpen=1500'));
  await t.test('deleted while being read', () => deleted('gone-during.png', 'afterOpen=1500'));

  await t.test('replaced (renamed over) while being read: the new version is shown', async (t) => {
    await post(daemon, '/test/delay-reads?afterOpen=1500');
    await writePicture(join(dirs.folder, 'b.png'), [40, 170, 40]);
    await daemon.waitForLine(/event=test.read-opened id=b\.png/);
    const blue: Rgb = [40, 40, 200];
    await writePicture(join(dirs.root, 'b-new.png'), blue);
    renameSync(join(dirs.root, 'b-new.png'), join(dirs.folder, 'b.png'));
    t.match(await daemon.waitForLine(/event=image.changed-while-read id=b\.png/, 10_000), /replaced while it was read/, 'the log says it changed while read');
    await daemon.until((s) => s.current?.id === 'b.png', 'b.png on screen', 20_000);
    t.ok(near(await screenColour(daemon), blue), 'the new version is on screen');
  });

  await t.test('rewritten in place while being read: the new version is shown', async (t) => {
    await post(daemon, '/test/delay-reads?afterOpen=1500');
    await writePicture(join(dirs.folder, 'c.png'), [40, 170, 40]);
    await daemon.waitForLine(/event=test.read-opened id=c\.png/);
    const yellow: Rgb = [200, 200, 40];
    await writePicture(join(dirs.root, 'c-new.png'), yellow, 200, 100); // another size: the rewrite is seen even within one mtime tick
    writeFileSync(join(dirs.folder, 'c.png'), readFileSync(join(dirs.root, 'c-new.png'))); // truncates and writes the same inode
    t.match(await daemon.waitForLine(/event=image.changed-while-read id=c\.png/, 10_000), /rewritten while it was read/, 'the log says it changed while read');
    await post(daemon, '/test/delay-reads');
    await daemon.until((s) => s.current?.id === 'c.png', 'c.png on screen', 20_000);
    t.ok(near(await screenColour(daemon), yellow), 'the new version is on screen');
  });

  t.notOk(existsSync(join(dirs.folder, 'rejected')) && readdirSync(join(dirs.folder, 'rejected')).length > 0, 'nothing was moved to rejected/');
  t.equal(daemon.count(/level=error/), 0, 'no errors logged');
  t.equal(await healthz(daemon), 200, 'alive');
});
