// The folder source against real files in temporary folders: complete files only,
// hidden/temporary/non-image names never, live add/change/remove, a folder that is
// missing, deleted or unmounted, and close().
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import {
  escapedName,
  FolderSource,
  isReportableId,
  type FolderFile,
  type FolderSourceOptions,
} from '../../src/sources/folder-source.js';

interface Seen {
  at: number;
  event: 'add' | 'change' | 'remove' | 'folder-missing' | 'folder-ready';
  id?: string;
  file?: FolderFile;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const jpeg = (size: number) => {
  const bytes = Buffer.alloc(size, 0x42);
  bytes.set([0xff, 0xd8, 0xff, 0xe0], 0);
  return bytes;
};

function tempFolder(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'uprez-folder-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A started source whose events and logs are recorded; closed at teardown. */
async function watchFolder(t: Test, options: Partial<FolderSourceOptions> & { folder: string }) {
  const events: Seen[] = [];
  const logs: { event: string; fields: Record<string, unknown> }[] = [];
  const source = new FolderSource({
    recursive: false,
    settleMs: 200,
    folderPollMs: 100,
    log: (event, fields) => logs.push({ event, fields }),
    ...options,
  });
  source.on('add', (file) => events.push({ at: Date.now(), event: 'add', id: file.id, file }));
  source.on('change', (file) => events.push({ at: Date.now(), event: 'change', id: file.id, file }));
  source.on('remove', (id) => events.push({ at: Date.now(), event: 'remove', id }));
  source.on('folder-missing', () => events.push({ at: Date.now(), event: 'folder-missing' }));
  source.on('folder-ready', () => events.push({ at: Date.now(), event: 'folder-ready' }));
  t.teardown(() => source.close());
  const started = Date.now();
  await source.start();
  const startMs = Date.now() - started;
  const waitFor = async (what: string, predicate: (events: Seen[]) => boolean, timeoutMs = 5000) => {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(events)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; events: ${JSON.stringify(events.map(({ event, id }) => [event, id]))}`);
      await sleep(20);
    }
  };
  const named = (event: Seen['event'], id?: string) => events.filter((e) => e.event === event && (id === undefined || e.id === id));
  /** add/change/remove as [event, id], without the folder events. */
  const fileEvents = () => events.filter((e) => e.id !== undefined).map((e) => [e.event, e.id]);
  return { source, events, logs, startMs, waitFor, named, fileEvents };
}

t.test('names: hidden, temporary, rejected, non-image and nested ids', async (t) => {
  for (const id of ['a.jpg', 'B.JPEG', 'c.jpe', 'd.png', 'e.webp', 'f.avif', 'g.gif', 'h.tif', 'i.TIFF', 'j.heic', 'k.heif', 'l.jxl']) {
    t.ok(isReportableId(id, false), id);
  }
  for (const id of ['.a.jpg', '.#a.jpg', 'a.jpg.part', 'a.jpg.tmp', 'a.jpg.crdownload', 'a.jpg.partial', 'a.jpg.download', 'a.jpg~', 'A.JPG.PART',
    'a.bmp', 'a.svg', 'a.txt', 'jpg', 'a', '.jpg', 'sub/a.jpg']) {
    t.notOk(isReportableId(id, false), id);
  }
  t.ok(isReportableId('sub/deeper/a.jpg', true));
  t.notOk(isReportableId('rejected/a.jpg', true));
  t.ok(isReportableId('sub/rejected/a.jpg', true), 'only the top-level rejected folder is skipped');
  t.notOk(isReportableId('.hidden/a.jpg', true));
  t.notOk(isReportableId('sub/.git/a.jpg', true));
});

t.test('start() reports the existing complete files', async (t) => {
  const dir = tempFolder(t);
  await writeFile(join(dir, 'a.jpg'), jpeg(1000));
  await writeFile(join(dir, 'b.PNG'), jpeg(2000));
  await writeFile(join(dir, 'notes.txt'), 'hello');
  await mkdir(join(dir, 'sub'));
  await writeFile(join(dir, 'sub', 'c.jpg'), jpeg(10));
  const { source, events, logs } = await watchFolder(t, { folder: dir });
  const adds = events.filter((e) => e.event === 'add');
  t.same(adds.map((e) => e.id).sort(), ['a.jpg', 'b.PNG'], 'each existing image once, before start() resolves');
  t.same(adds.find((e) => e.id === 'a.jpg')?.file, { id: 'a.jpg', path: join(dir, 'a.jpg'), size: 1000, mtimeMs: adds.find((e) => e.id === 'a.jpg')!.file!.mtimeMs });
  t.same(source.files().map((f) => [f.id, f.size]), [['a.jpg', 1000], ['b.PNG', 2000]]);
  t.equal(events.at(-1)?.event, 'folder-ready', 'folder-ready after the initial adds');
  const scan = logs.find((l) => l.event === 'source.scan-done');
  t.equal(scan?.fields.count, 2, 'scan-done counts the files');
  t.type(scan?.fields.ms, 'number');
});

t.test('a file written in slow chunks is reported once, complete, after its last chunk', async (t) => {
  const dir = tempFolder(t);
  const { fileEvents, waitFor, named } = await watchFolder(t, { folder: dir, settleMs: 500 });
  const handle = await open(join(dir, 'slow.jpg'), 'w');
  let lastChunk = 0;
  for (let i = 0; i < 6; i++) {
    await handle.write(jpeg(4096));
    lastChunk = Date.now();
    if (i < 5) await sleep(300);
  }
  await handle.close();
  t.same(fileEvents(), [], 'nothing while it is being written');
  await waitFor('the add', () => named('add').length > 0);
  const [add] = named('add');
  t.equal(add!.file!.size, 6 * 4096, 'the full size');
  t.ok(add!.at >= lastChunk + 450, `reported ${add!.at - lastChunk} ms after the last chunk (settle 500 ms)`);
  await sleep(800);
  t.same(fileEvents(), [['add', 'slow.jpg']], 'exactly once, no change afterwards');
});

t.test('a file still being written when start() runs is reported once it is complete', async (t) => {
  const dir = tempFolder(t);
  const handle = await open(join(dir, 'copying.jpg'), 'w');
  await handle.write(jpeg(1000));
  const watching = watchFolder(t, { folder: dir, settleMs: 400 });
  for (let i = 0; i < 5; i++) {
    await sleep(200);
    await handle.write(jpeg(1000));
  }
  const lastChunk = Date.now();
  await handle.close();
  const { named, waitFor, events } = await watching;
  await waitFor('the add', () => named('add').length > 0);
  await sleep(500);
  const adds = named('add');
  t.equal(adds.length, 1, 'once');
  t.equal(adds[0]!.file!.size, 6000, 'complete, not the 1000 bytes present at the scan');
  t.ok(adds[0]!.at >= lastChunk + 350, 'after the last chunk');
  t.same(named('change'), []);
  t.ok(events.some((e) => e.event === 'folder-ready'));
});

t.test('a file renamed into place is reported once, under its final name', async (t) => {
  const dir = tempFolder(t);
  const { events, fileEvents, waitFor, named, logs } = await watchFolder(t, { folder: dir });
  const handle = await open(join(dir, 'x.jpg.part'), 'w');
  for (let i = 0; i < 4; i++) {
    await handle.write(jpeg(1000));
    await sleep(100);
  }
  await handle.close();
  await sleep(400);
  t.same(fileEvents(), [], 'the .part file is never reported, even once it has settled');
  await rename(join(dir, 'x.jpg.part'), join(dir, 'x.jpg'));
  await waitFor('x.jpg', () => named('add').length > 0);
  await sleep(500);
  t.same(events.filter((e) => e.id !== undefined).map((e) => [e.event, e.id, e.file?.size]), [['add', 'x.jpg', 4000]]);
  t.notOk(logs.some((l) => String(l.fields.id).includes('.part')), 'the .part name is not even logged');
  t.ok(logs.some((l) => l.event === 'source.file-seen' && l.fields.id === 'x.jpg'));
  t.ok(logs.some((l) => l.event === 'source.file-ready' && l.fields.id === 'x.jpg'));
});

t.test('hidden, temporary, non-image and rejected names and image-named directories are never reported', async (t) => {
  const dir = tempFolder(t);
  const ignored = ['.hidden.jpg', '.#lock.jpg', 'a.jpg.tmp', 'b.jpg~', 'c.jpg.crdownload', 'd.jpg.partial', 'e.jpg.download', 'f.jpg.part',
    'G.JPG.PART', 'notes.txt', 'noext', 'g.bmp', 'h.svg', '.dir/i.jpg', '.dir/deep/j.jpg', 'rejected/k.jpg', 'sub/.l.jpg', 'sub/m.jpg.tmp'];
  const write = async (size: number) => {
    for (const name of ignored) {
      const target = join(dir, name);
      await mkdir(join(target, '..'), { recursive: true });
      await writeFile(target, jpeg(size));
    }
  };
  // Once before start (the initial scan), then rewritten and a few new ones after
  // (live events); recursive, so subfolders are looked into.
  await write(100);
  await mkdir(join(dir, 'before.jpg'));
  await mkdir(join(dir, 'dir.png'));
  await writeFile(join(dir, 'dir.png', 'inside.txt'), 'x');
  const { fileEvents, waitFor, named } = await watchFolder(t, { folder: dir, recursive: true });
  t.same(fileEvents(), [], 'none of the existing ones');
  await write(200);
  await mkdir(join(dir, 'live.jpg'));
  await mkdir(join(dir, 'live.webp', 'deeper.jpg'), { recursive: true });
  await writeFile(join(dir, 'rejected', 'later.jpg'), jpeg(10));
  await mkdir(join(dir, 'rejected', 'sub'));
  await writeFile(join(dir, 'rejected', 'sub', 'later.jpg'), jpeg(10));
  await writeFile(join(dir, '.dir', 'later.jpg'), jpeg(10));
  await writeFile(join(dir, 'sub', 'n.bmp'), jpeg(10));
  await writeFile(join(dir, 'UPPER.JPEG'), jpeg(10));
  await waitFor('the control file', () => named('add').length > 0);
  await sleep(500);
  t.same(fileEvents(), [['add', 'UPPER.JPEG']], 'only the image file');
});

t.test('replacing a file gives change; deleting gives remove', async (t) => {
  const dir = tempFolder(t);
  await writeFile(join(dir, 'a.jpg'), jpeg(100));
  const { events, waitFor, named, source, logs } = await watchFolder(t, { folder: dir });
  t.equal(named('add').length, 1);

  // a new file renamed over it
  await writeFile(join(dir, 'a.jpg.tmp'), jpeg(300));
  await rename(join(dir, 'a.jpg.tmp'), join(dir, 'a.jpg'));
  await waitFor('change', () => named('change').length === 1);
  t.equal(named('change')[0]!.file!.size, 300);

  // the same size renamed over it: a different file (inode), still a change
  await writeFile(join(dir, '.a.jpg.new'), jpeg(300));
  await rename(join(dir, '.a.jpg.new'), join(dir, 'a.jpg'));
  await waitFor('second change', () => named('change').length === 2);

  // content rewritten in place
  await writeFile(join(dir, 'a.jpg'), jpeg(500));
  await waitFor('third change', () => named('change').length === 3);
  t.equal(named('change')[2]!.file!.size, 500);
  t.same(source.files().map((f) => [f.id, f.size]), [['a.jpg', 500]]);

  await rm(join(dir, 'a.jpg'));
  await waitFor('remove', () => named('remove').length === 1);
  await sleep(300);
  t.same(events.map((e) => [e.event, e.id]), [['add', 'a.jpg'], ['folder-ready', undefined], ['change', 'a.jpg'], ['change', 'a.jpg'], ['change', 'a.jpg'], ['remove', 'a.jpg']]);
  t.same(source.files(), []);
  t.ok(logs.some((l) => l.event === 'source.file-removed' && l.fields.id === 'a.jpg'));
});

t.test('recursive: false ignores subfolders; true reports them with / ids', async (t) => {
  const flat = tempFolder(t);
  await mkdir(join(flat, 'sub'));
  await writeFile(join(flat, 'sub', 'a.jpg'), jpeg(10));
  const nonRecursive = await watchFolder(t, { folder: flat, recursive: false });
  await mkdir(join(flat, 'sub', 'deeper'));
  await writeFile(join(flat, 'sub', 'b.jpg'), jpeg(10));
  await writeFile(join(flat, 'sub', 'deeper', 'c.jpg'), jpeg(10));
  await writeFile(join(flat, 'top.jpg'), jpeg(10));
  await nonRecursive.waitFor('top.jpg', () => nonRecursive.named('add').length > 0);
  await sleep(400);
  t.same(nonRecursive.named('add').map((e) => e.id), ['top.jpg'], 'not recursive: top level only');

  const tree = tempFolder(t);
  await mkdir(join(tree, 'sub'));
  await writeFile(join(tree, 'sub', 'a.jpg'), jpeg(10));
  const recursive = await watchFolder(t, { folder: tree, recursive: true });
  t.same(recursive.named('add').map((e) => [e.id, e.file?.path]), [['sub/a.jpg', join(tree, 'sub', 'a.jpg')]]);
  await mkdir(join(tree, 'sub2', 'deeper'), { recursive: true });
  await writeFile(join(tree, 'sub2', 'deeper', 'b.jpg'), jpeg(10));
  await recursive.waitFor('sub2/deeper/b.jpg', () => recursive.named('add').length === 2);
  t.equal(recursive.named('add')[1]!.id, 'sub2/deeper/b.jpg');
  await rm(join(tree, 'sub'), { recursive: true });
  await recursive.waitFor('the removal of sub/a.jpg', () => recursive.named('remove').length === 1);
  t.same(recursive.named('remove').map((e) => e.id), ['sub/a.jpg'], 'a deleted subfolder removes its files');
});

t.test('names that are not UTF-8: found at start and live, read through their bytes, escaped as \\xNN in the id', async (t) => {
  t.equal(escapedName(Buffer.from('plain.jpg')), undefined, 'a UTF-8 name needs no escaping');
  t.equal(escapedName(Buffer.from('café.jpg')), undefined, 'nor does one with UTF-8 accents');
  t.equal(escapedName(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x6a, 0x70, 0x67])), 'caf\\xe9.jpg', 'Latin-1 é');
  t.equal(escapedName(Buffer.concat([Buffer.from('né'), Buffer.from([0xc3]), Buffer.from('.png')])), 'né\\xc3.png', 'a cut UTF-8 sequence beside a whole one');

  const bytesPath = (dir: string, ...parts: Buffer[]) => Buffer.concat([Buffer.from(dir), ...parts.flatMap((part) => [Buffer.from('/'), part])]);
  const latin1 = (text: string) => Buffer.from(text, 'latin1');
  const dir = tempFolder(t);
  await writeFile(bytesPath(dir, latin1('caf\xe9.jpg')), jpeg(100));
  await writeFile(bytesPath(dir, latin1('notes-\xe9.txt')), 'not an image');
  await writeFile(bytesPath(dir, latin1('.hidden-\xe9.jpg')), jpeg(10));
  await writeFile(join(dir, 'plain.jpg'), jpeg(50));
  const { waitFor, named, source, logs } = await watchFolder(t, { folder: dir });
  t.same(named('add').map((e) => e.id).sort(), ['caf\\xe9.jpg', 'plain.jpg'], 'at start: the Latin-1 name is found, escaped; not the text file or the hidden one');
  const cafe = named('add', 'caf\\xe9.jpg')[0]!.file!;
  t.same(cafe.rawPath, bytesPath(dir, latin1('caf\xe9.jpg')), 'rawPath holds the real bytes');
  t.equal((await readFile(cafe.rawPath!)).length, 100, 'and reads the file');
  t.equal(named('add', 'plain.jpg')[0]!.file!.rawPath, undefined, 'a UTF-8 name has no rawPath');

  // Live: added, rewritten, deleted.
  await writeFile(join(dir, 'incoming'), jpeg(200));
  await rename(join(dir, 'incoming'), bytesPath(dir, latin1('na\xefve.jpg')));
  await waitFor('the live non-UTF-8 add', () => named('add', 'na\\xefve.jpg').length === 1);
  await writeFile(bytesPath(dir, latin1('caf\xe9.jpg')), jpeg(300));
  await waitFor('its change', () => named('change', 'caf\\xe9.jpg').length === 1);
  t.equal(named('change', 'caf\\xe9.jpg')[0]!.file!.size, 300);
  await rm(bytesPath(dir, latin1('na\xefve.jpg')));
  await waitFor('its removal', () => named('remove', 'na\\xefve.jpg').length === 1);
  t.same(source.files().map((f) => f.id), ['caf\\xe9.jpg', 'plain.jpg']);
  t.ok(logs.some((l) => l.event === 'source.file-removed' && l.fields.id === 'na\\xefve.jpg'), 'the removal is logged');

  // Recursive: a subfolder whose own name is not UTF-8.
  const tree = tempFolder(t);
  await mkdir(bytesPath(tree, latin1('f\xeate')));
  await writeFile(bytesPath(tree, latin1('f\xeate'), Buffer.from('a.jpg')), jpeg(10));
  const recursive = await watchFolder(t, { folder: tree, recursive: true });
  t.same(recursive.named('add').map((e) => e.id), ['f\\xeate/a.jpg'], 'a file under a non-UTF-8 subfolder');
});

t.test('a folder missing at start is waited for', async (t) => {
  const parent = tempFolder(t);
  const dir = join(parent, 'later');
  const { events, waitFor, named, startMs, logs, source } = await watchFolder(t, { folder: dir });
  t.ok(startMs < 1000, `start() resolves at once (${startMs} ms)`);
  t.same(events.map((e) => e.event), ['folder-missing']);
  t.ok(logs.some((l) => l.event === 'source.folder-missing' && l.fields.folder === dir && l.fields.reason === 'does not exist'));
  await sleep(350);
  t.equal(named('folder-missing').length, 1, 'reported once, not on every check');
  await mkdir(dir);
  await writeFile(join(dir, 'a.jpg'), jpeg(10));
  await waitFor('folder-ready and the add', () => named('folder-ready').length === 1 && named('add').length === 1);
  t.same(source.files().map((f) => f.id), ['a.jpg']);
  t.ok(logs.some((l) => l.event === 'source.folder-back'));
  await writeFile(join(dir, 'b.jpg'), jpeg(10));
  await waitFor('a live add afterwards', () => named('add').length === 2);
});

t.test('a path that is a file, not a folder, is waited for too', async (t) => {
  const parent = tempFolder(t);
  const dir = join(parent, 'photos');
  await writeFile(dir, 'oops');
  const { events, waitFor, named, logs } = await watchFolder(t, { folder: dir });
  t.same(events.map((e) => e.event), ['folder-missing']);
  t.ok(logs.some((l) => l.event === 'source.folder-missing' && l.fields.reason === 'is not a directory'));
  await rm(dir);
  await mkdir(dir);
  await writeFile(join(dir, 'a.jpg'), jpeg(10));
  await waitFor('the add', () => named('add').length === 1);
});

t.test('a deleted folder keeps its files known, and is rescanned when it comes back', async (t) => {
  const dir = tempFolder(t);
  await writeFile(join(dir, 'a.jpg'), jpeg(10));
  await writeFile(join(dir, 'b.jpg'), jpeg(10));
  const { events, waitFor, named, source } = await watchFolder(t, { folder: dir });
  t.equal(named('add').length, 2);
  await rm(dir, { recursive: true });
  await waitFor('folder-missing', () => named('folder-missing').length === 1);
  await sleep(300);
  t.same(named('remove'), [], 'no remove when the whole folder goes away');
  t.same(source.files().map((f) => f.id), ['a.jpg', 'b.jpg'], 'still known');
  await mkdir(dir);
  await writeFile(join(dir, 'b.jpg'), jpeg(20));
  await writeFile(join(dir, 'c.jpg'), jpeg(10));
  await waitFor('the rescan', () => named('folder-ready').length === 2 && named('add').length === 3 && named('remove').length === 1 && named('change').length === 1);
  t.same(named('remove').map((e) => e.id), ['a.jpg']);
  t.same(named('change').map((e) => [e.id, e.file?.size]), [['b.jpg', 20]]);
  t.same(source.files().map((f) => f.id), ['b.jpg', 'c.jpg']);
  await writeFile(join(dir, 'd.jpg'), jpeg(10));
  await waitFor('live again', () => named('add').length === 4);
  t.equal(events.filter((e) => e.event === 'folder-missing').length, 1);
});

t.test('a folder deleted and recreated between two checks is noticed', async (t) => {
  const dir = tempFolder(t);
  await writeFile(join(dir, 'a.jpg'), jpeg(10));
  // A slow folder check, so the delete and recreate happen between two of them.
  const { waitFor, named, source } = await watchFolder(t, { folder: dir, folderPollMs: 1000 });
  rmSync(dir, { recursive: true });
  mkdirSync(dir);
  await writeFile(join(dir, 'a.jpg'), jpeg(10));
  await writeFile(join(dir, 'b.jpg'), jpeg(10));
  await waitFor('b.jpg from the new folder', () => named('add').some((e) => e.id === 'b.jpg'), 4000);
  await waitFor('the rescan settled', () => named('folder-ready').length === 2);
  t.same(source.files().map((f) => f.id), ['a.jpg', 'b.jpg']);
  await writeFile(join(dir, 'c.jpg'), jpeg(10));
  await waitFor('a live add in the new folder', () => named('add').some((e) => e.id === 'c.jpg'));
});

/** Whether this process may mount a tmpfs (root, not in a restricted container). */
function canMount(): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'uprez-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'uprez-test', dir], { stdio: 'ignore' });
    execFileSync('umount', [dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

t.test('an unmounted share (empty mount point) keeps its files known', { skip: canMount() ? false : 'mounting a tmpfs needs root' }, async (t) => {
  const dir = tempFolder(t);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'uprez-test', dir], { stdio: 'ignore' });
  let mounted = true;
  t.teardown(() => {
    if (mounted) execFileSync('umount', [dir]);
  });
  await writeFile(join(dir, 'a.jpg'), jpeg(10));
  const { waitFor, named, source, logs } = await watchFolder(t, { folder: dir });
  t.equal(named('add').length, 1);
  execFileSync('umount', ['-l', dir]);
  mounted = false;
  await waitFor('folder-missing', () => named('folder-missing').length === 1);
  await sleep(300);
  t.same(named('remove'), [], 'no remove');
  t.same(source.files().map((f) => f.id), ['a.jpg']);
  t.ok(logs.some((l) => l.event === 'source.folder-missing' && String(l.fields.reason).includes('not mounted')));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'uprez-test', dir], { stdio: 'ignore' });
  mounted = true;
  await writeFile(join(dir, 'a.jpg'), jpeg(10));
  await writeFile(join(dir, 'b.jpg'), jpeg(10));
  await waitFor('the share back', () => named('folder-ready').length === 2 && named('add').some((e) => e.id === 'b.jpg'));
});

t.test('close() stops all events, even of a file still settling', async (t) => {
  const dir = tempFolder(t);
  const { source, events, logs } = await watchFolder(t, { folder: dir });
  await writeFile(join(dir, 'a.jpg'), jpeg(10));
  await sleep(50);
  await source.close();
  await writeFile(join(dir, 'b.jpg'), jpeg(10));
  await rm(dir, { recursive: true });
  await sleep(600);
  t.same(events.map((e) => e.event), ['folder-ready'], 'nothing after close()');
  t.notOk(logs.some((l) => l.event === 'source.folder-missing'));
  await source.close();
  t.pass('a second close() is harmless');
});

t.test('a listener that throws is logged and the watch goes on', async (t) => {
  const dir = tempFolder(t);
  const { source, waitFor, named, logs } = await watchFolder(t, { folder: dir });
  let calls = 0;
  source.on('add', () => {
    calls++;
    throw new Error('listener bug');
  });
  await writeFile(join(dir, 'a.jpg'), jpeg(10));
  await waitFor('the first add', () => named('add').length === 1);
  await writeFile(join(dir, 'b.jpg'), jpeg(10));
  await waitFor('the second add', () => named('add').length === 2);
  t.equal(calls, 2);
  t.ok(logs.some((l) => l.event === 'source.error' && l.fields.message === 'listener bug'));
});
