// The disk is full: the SR cache, the state file and pushed images live on a small tmpfs that
// is filled to the last byte. Pictures still show; every write fails with a clear log line;
// nothing saved before is damaged (bytes and crc checked); once space returns, writing resumes.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { decodeEntry } from '../../src/service/cache.js';
import { daemonDirs, startDaemon, type RunningDaemon } from '../helpers/daemon.js';
import { openWs, type WsClient } from '../helpers/ws-client.js';
import { healthz, near, removeDirs, screenColour, writePicture, type Rgb } from './fault-helpers.js';

/** Every file under `dir` (relative path -> sha256), the filler and (unless asked) temporary files excepted. */
function snapshot(dir: string, temporaries = false): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name === 'filler' || (!temporaries && entry.name.endsWith('.tmp'))) continue;
    const path = join(entry.parentPath, entry.name);
    try {
      files.set(path.slice(dir.length + 1), createHash('sha256').update(readFileSync(path)).digest('hex'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error; // a temporary file renamed meanwhile
    }
  }
  return files;
}

/** Writes until the file system says ENOSPC, in ever smaller pieces: not one byte is left. */
function fill(path: string): number {
  const fd = openSync(path, 'w');
  let written = 0;
  try {
    for (const size of [1 << 16, 4096, 1]) {
      const chunk = Buffer.alloc(size, 0x55);
      for (;;) {
        try {
          written += writeSync(fd, chunk);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw error;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

async function push(daemon: RunningDaemon, client: WsClient, id: number, name: string, bytes: Buffer): Promise<Record<string, any>> {
  client.send(JSON.stringify({ id, cmd: 'push', name }));
  client.send(bytes);
  const reply = await client.reply(id);
  if (!reply.ok) throw new Error(`push ${name}: ${JSON.stringify(reply)}`);
  void daemon;
  return reply;
}

t.test('a full disk: pictures still show, writes fail loudly, nothing saved is damaged, writing resumes', async (t) => {
  const dirs = daemonDirs('uprez-fault-disk-');
  const disk = join(dirs.root, 'disk');
  mkdirSync(disk);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', disk], { stdio: 'pipe' });
  } catch (error) {
    removeDirs(dirs);
    const why = `cannot mount a tmpfs (needs root, or CAP_SYS_ADMIN): ${(error as Error).message.split('\n')[0]}`;
    if (process.env.UPREZ_REQUIRE_MOUNTS === '1') t.fail(why); // where mounts are known to work; elsewhere a skip, with why
    else t.plan(0, `skipped: ${why}`);
    return;
  }
  let daemon: RunningDaemon | null = null;
  t.teardown(async () => {
    await daemon?.stop('SIGKILL');
    execFileSync('umount', [disk]);
    removeDirs(dirs);
  });
  const state = join(disk, 'state');
  const cache = join(disk, 'cache');
  await writePicture(join(dirs.folder, 'a.png'), [200, 40, 40]);
  daemon = startDaemon(dirs, ['--state-dir', state, '--cache-dir', cache, '--interval', '1000', '--transition', 'cut']);
  await daemon.until((s) => s.current?.id === 'a.png' && s.current.state === 'super-resolved' && s.cache.writes === 1, 'a.png super-resolved and cached');
  const client = await openWs((await daemon.url('/ws')).replace('http', 'ws'), daemon.token);
  t.teardown(() => client.ws.close());
  await writePicture(join(dirs.root, 'p1.png'), [120, 40, 160]);
  const pushed1 = await push(daemon, client, 1, 'p1.png', readFileSync(join(dirs.root, 'p1.png')));
  await daemon.until((s) => s.current?.id === pushed1.image.id && s.current.state === 'super-resolved' && s.cache.writes === 2, 'the push shown and cached');
  await daemon.waitForLine(new RegExp(`event=shown id=${pushed1.image.id} version=final`));
  await new Promise((resolve) => setTimeout(resolve, 300)); // the state file's write in the background
  const saved = snapshot(disk);
  t.ok(saved.has('state/state.json') && saved.has('state/pushed/index.json') && saved.has(`state/pushed/${pushed1.image.id}.img`), 'state, index and pushed image saved');
  t.equal([...saved.keys()].filter((path) => path.endsWith('.sr')).length, 2, 'two cache entries saved');

  const filled = fill(join(disk, 'filler'));
  t.ok(filled > 0, `the tmpfs is full (${filled} bytes of filler)`);
  const linesBefore = daemon.lines.length;
  const blue: Rgb = [40, 40, 200];
  await writePicture(join(dirs.folder, 'b.png'), blue);
  const full = await daemon.until((s) => s.current?.id === 'b.png' && s.current.state === 'super-resolved' && s.cache.writeErrors >= 1, 'b.png shown, its cache write failed');
  t.equal(full.cache.writes, 2, 'no cache write succeeded');
  t.ok(near(await screenColour(daemon), blue), 'the new picture is on screen (SR version) on a full disk');
  await daemon.waitForLine(/event=cache.write-failed .*code=ENOSPC .*advice="the disk is full/);
  await daemon.waitForLine(/event=state.write-failed .*code=ENOSPC/);
  const green: Rgb = [40, 170, 40];
  await writePicture(join(dirs.root, 'p2.png'), green);
  const pushed2 = await push(daemon, client, 2, 'p2.png', readFileSync(join(dirs.root, 'p2.png')));
  await daemon.waitForLine(/event=push.write-failed .*code=ENOSPC/);
  await daemon.waitForLine(new RegExp(`event=push.not-stored id=${pushed2.image.id}`));
  await daemon.until((s) => s.current?.id === pushed2.image.id, 'the unstored push is shown');
  t.ok(near(await screenColour(daemon), green), 'a push that cannot be stored is shown all the same');
  t.equal(await healthz(daemon), 200, '/healthz ok on a full disk');
  t.notOk(daemon.lines.slice(linesBefore).some((line) => /level=error/.test(line)), 'no errors beyond the write warnings');

  // Nothing saved before is damaged, and no half-written temporary file is left.
  t.same(snapshot(disk), saved, 'every file saved before the disk filled has the same bytes');
  for (const path of [...saved.keys()].filter((p) => p.endsWith('.sr'))) {
    t.ok(await decodeEntry(readFileSync(join(disk, path))), `${path} is a whole entry (crc ok)`);
  }
  t.equal(JSON.parse(readFileSync(join(state, 'state.json'), 'utf8')).current, pushed1.image.id, 'state.json is the last one saved, whole');
  t.same(JSON.parse(readFileSync(join(state, 'pushed', 'index.json'), 'utf8')).images.map((i: { id: string }) => i.id), [pushed1.image.id], 'the push index is whole');

  // Space returns: the next writes work.
  rmSync(join(disk, 'filler'));
  await writePicture(join(dirs.folder, 'c.png'), [170, 170, 40]);
  // (the next picture may be super-resolved ahead and cached too: at least one new entry)
  await daemon.until((s) => s.current?.id === 'c.png' && s.cache.writes >= 3, 'c.png cached');
  await daemon.waitForLine(/event=cache.write-resumed/);
  await daemon.waitForLine(/event=state.write-resumed/);
  t.equal(JSON.parse(readFileSync(join(state, 'state.json'), 'utf8')).current, 'c.png', 'the state is saved again');
  const pushed3 = await push(daemon, client, 3, 'p3.png', readFileSync(join(dirs.folder, 'c.png')));
  await daemon.waitForLine(/event=push.write-resumed/);
  t.ok(readdirSync(join(state, 'pushed')).includes(`${pushed3.image.id}.img`), 'pushed images are stored again');
  t.ok([...snapshot(disk).keys()].filter((path) => path.endsWith('.sr')).length >= 3, 'a new cache entry on disk');
  // Writes still in flight have temporary files for a moment; none may stay. (The push's first
  // showing is written to the index too: wait for it.)
  await daemon.waitForLine(new RegExp(`event=shown id=${pushed3.image.id}`));
  await new Promise((resolve) => setTimeout(resolve, 300));
  const temporaries = () => [...snapshot(disk, true).keys()].filter((path) => path.endsWith('.tmp'));
  for (let tries = 0; tries < 30 && temporaries().length > 0; tries++) await new Promise((resolve) => setTimeout(resolve, 100));
  t.same(temporaries(), [], `no temporary files left${temporaries().length ? `; the daemon's writes: ${daemon.lines.filter((l) => /write|push|shown/.test(l)).slice(-12).join('\n')}` : ''}`);
  t.equal(await healthz(daemon), 200, '/healthz ok');
});
