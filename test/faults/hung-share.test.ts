// A folder on a share that hangs on read: a FUSE file system (test/faults/fixtures/hanging-share.py)
// whose "hang*" files never answer a read, like a dead NFS or SMB server. The read is given up
// after readTimeoutS (the child process reading it is killed), the file is refused with a clear
// log line, and the screen and the other pictures go on.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import t from 'tap';
import { repoRoot } from '../../src/service/paths.js';
import { daemonDirs, startDaemon, type RunningDaemon } from '../helpers/daemon.js';
import { healthz, near, removeDirs, screenColour, writePicture, type Rgb } from './fault-helpers.js';

const script = join(repoRoot, 'test', 'faults', 'fixtures', 'hanging-share.py');
const python = '/usr/bin/python3'; // Debian's, with python3-fusepy

/** The daemon's child processes named `name`. */
function children(daemon: RunningDaemon, name: string): number[] {
  return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.includes(`(${name})`) && Number(stat.split(') ')[1]!.split(' ')[1]) === daemon.child.pid;
    } catch {
      return false;
    }
  }).map(Number);
}

t.test('a share that hangs on read: the read is given up, the file refused, the rest goes on', async (t) => {
  const dirs = daemonDirs('uprez-fault-share-');
  const backing = join(dirs.root, 'backing');
  const share = join(dirs.root, 'share');
  mkdirSync(backing);
  mkdirSync(share);
  const red: Rgb = [200, 40, 40];
  const blue: Rgb = [40, 40, 200];
  await writePicture(join(backing, 'a.png'), red);
  await writePicture(join(backing, 'b.png'), blue);
  await writePicture(join(backing, 'hang.png'), [40, 170, 40]);

  const missing = !existsSync('/dev/fuse') ? '/dev/fuse is missing' : !existsSync(python) ? `${python} is missing` : null;
  const server = missing ? null : spawn(python, [script, backing, share], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  server?.stderr!.on('data', (chunk) => (stderr += chunk));
  const mounted = server && await new Promise<boolean>((resolve) => {
    createInterface({ input: server.stdout! }).on('line', (line) => line === 'MOUNTED' && resolve(true));
    server.on('exit', () => resolve(false));
  });
  if (!mounted) {
    server?.kill('SIGKILL');
    removeDirs(dirs);
    const why = `cannot serve a FUSE file system: ${missing ?? stderr.trim().split('\n').pop()} (needs /dev/fuse, root, and python3-fusepy)`;
    if (process.env.UPREZ_REQUIRE_MOUNTS === '1') t.fail(why); // where mounts are known to work; elsewhere a skip, with why
    else t.plan(0, `skipped: ${why}`);
    return;
  }
  let daemon: RunningDaemon | null = null;
  t.teardown(async () => {
    await daemon?.stop('SIGKILL');
    execFileSync('umount', ['-l', share]);
    server!.kill('SIGKILL');
    removeDirs(dirs);
  });
  t.ok(readdirSync(share).includes('hang.png'), 'the share lists its files');

  daemon = startDaemon(dirs, ['--folder', share, '--read-timeout-s', '1.5', '--interval', '2', '--transition', 'cut', '--model', 'none']);
  await daemon.until((s) => s.current !== null, 'a picture on screen');
  // While the hung read waits for its timeout, the daemon answers at once.
  const timedOut = daemon.waitForLine(/event=image.read-timeout id=hang\.png/, 30_000);
  let slowestHealthMs = 0;
  let settled = false;
  void timedOut.finally(() => (settled = true));
  while (!settled) {
    const started = performance.now();
    t.equal(await healthz(daemon), 200);
    slowestHealthMs = Math.max(slowestHealthMs, performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.match(await timedOut, /longer than 1500 ms .*refused until the file changes/, 'the log says the read of hang.png was given up');
  t.ok(slowestHealthMs < 1000, `/healthz answered while the read hung (slowest ${Math.round(slowestHealthMs)} ms)`);
  const status = await daemon.status();
  t.match(status.images.find((image: { id: string }) => image.id === 'hang.png'), { rejected: /hang\.png: reading the file took longer than 1500 ms/ }, '/status lists hang.png as refused, and why');
  t.not(status.current.id, 'hang.png', 'the screen keeps a good picture');
  const colour = await screenColour(daemon);
  t.ok(near(colour, red) || near(colour, blue), `the screen shows a good picture (${colour.join(',')})`);
  t.same(children(daemon, 'cat'), [], 'the reader stuck on the share was killed (no cat left)');

  // The other pictures still show, in turn.
  const seen = new Set<string>();
  const deadline = Date.now() + 15_000;
  while (seen.size < 2 && Date.now() < deadline) {
    seen.add((await daemon.status()).current.id);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  t.same([...seen].sort(), ['a.png', 'b.png'], 'a.png and b.png both show after the hung read');
  t.equal(daemon.count(/event=image.read-timeout id=hang\.png/), 1, 'the hung file is not read again (refused until it changes)');
  t.equal(await healthz(daemon), 200, 'alive');
});
