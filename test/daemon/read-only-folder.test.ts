// A watched folder that is read-only (a share mounted ro, a card with its lock switch on):
// the daemon shows what it can, and a file it refuses cannot be moved to rejected/, so it is
// left where it is, listed in /status with the reason and logged; nothing crashes.
// The folder is a real read-only tmpfs (mounting needs root, as CI has).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import t from 'tap';
import { daemonDirs, startDaemon } from '../helpers/daemon.js';

function mountProblem(): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'uprez-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'uprez-test', dir], { stdio: 'ignore' });
    execFileSync('umount', [dir], { stdio: 'ignore' });
    return null;
  } catch (error) {
    return `mounting a tmpfs is not allowed here (${(error as Error).message.split('\n')[0]})`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const problem = mountProblem();
t.test('a read-only folder: good files shown, a refused one left in place and listed', { skip: problem ?? false }, async (t) => {
  const dirs = daemonDirs();
  t.teardown(() => rmSync(dirs.root, { recursive: true, force: true }));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'uprez-ro', dirs.folder]);
  t.teardown(() => execFileSync('umount', ['-l', dirs.folder]));
  const good = await sharp({ create: { width: 64, height: 36, channels: 3, background: { r: 200, g: 30, b: 90 } } }).png().toBuffer();
  await writeFile(join(dirs.folder, 'good.png'), good);
  await writeFile(join(dirs.folder, 'broken.jpg'), 'not a picture');
  execFileSync('mount', ['-o', 'remount,ro', dirs.folder]);
  await t.rejects(writeFile(join(dirs.folder, 'probe'), 'x'), { code: 'EROFS' }, 'the folder really is read-only');

  const daemon = startDaemon(dirs, ['--model', 'none', '--interval', '1', '--transition', 'cut', '--order', 'name']);
  t.teardown(() => daemon.stop('SIGKILL'));
  const inPlace = await daemon.waitForLine(/event=image\.rejected-in-place id=broken\.jpg/);
  t.match(inPlace, /EROFS|read-only/i, `the log says why it stays (${inPlace})`);
  await daemon.waitForLine(/event=shown id=good\.png/);
  const status = await daemon.status();
  const entry = (status.rejections as { id: string; reason: string; movedTo: string | null; leftInPlace: string | null }[])
    .find((r) => r.id === 'broken.jpg');
  t.ok(entry, 'broken.jpg is listed in /status rejections');
  t.match(entry?.reason ?? '', /not a readable image/, 'with the reason');
  t.equal(entry?.movedTo, null, 'not moved');
  t.ok(entry?.leftInPlace, `left in place: ${entry?.leftInPlace}`);
  t.equal(await readFile(join(dirs.folder, 'broken.jpg'), 'utf8'), 'not a picture', 'the file is untouched');
  t.notOk(existsSync(join(dirs.folder, 'rejected')), 'no rejected/ folder was made');
  const screen = await daemon.screen();
  const [r, g, b] = screen.pixel(160, 90);
  t.ok(Math.abs(r - 200) <= 3 && Math.abs(g - 30) <= 3 && Math.abs(b - 90) <= 3, `good.png is on screen (${r},${g},${b})`);
  // The slideshow goes on (1 s interval) without taking the refused file again and again.
  await new Promise((resolve) => setTimeout(resolve, 2500));
  const again = daemon.lines.filter((line) => /event=image\.rejected id=broken\.jpg/.test(line)).length;
  t.equal(again, 1, 'the refused file is not retried until it changes');
  t.equal(daemon.child.exitCode, null, 'the daemon runs');
});
