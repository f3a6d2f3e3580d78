// How picture files are read: directly on a local disk (no fork of the daemon per picture), through
// a killable child process on anything else (a share or FUSE that may hang: test/faults/hung-share).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { FileReader, readMethod } from '../../src/plan/read-file.js';

t.test('a local disk is read directly, other file systems through a child', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'uprez-read-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'photo.jpg');
  const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) & 255));
  writeFileSync(path, bytes);
  t.equal(await readMethod(path), 'direct', `${tmpdir()} is a local file system`);
  t.equal(await readMethod('/proc/self/status'), 'child', 'procfs is not in the list of local file systems: a child reads it');
  const read = await new FileReader().read(path, { timeoutMs: 5000 });
  t.ok(read.equals(bytes), 'the bytes read directly are the file\'s');
});
