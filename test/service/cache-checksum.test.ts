// The SR cache's checksum thread: entries in shared memory (SR results, entries read back) are
// summed there, never on the event loop; it keeps working request after request, in a process
// where another thread exposed V8's gc first (as shared-pixels does), and a bad crc is still caught.
import { mkdtemp, readdir, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import zlib from 'node:zlib';
import t from 'tap';
import { cacheKey, checksumThreadFailures, SrCache } from '../../src/service/cache.js';
import { sharedPixels } from '../../src/sr/shared-pixels.js';

setFlagsFromString('--expose-gc'); // before the thread starts: its isolate then has a global gc

t.test('shared pixels are summed in the checksum thread, request after request', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'uprez-cache-checksum-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const cache = await SrCache.open(dir, 100e6);
  // Count the bytes this thread sums: slices of more than a header are the ones the thread should take.
  const crc32 = zlib.crc32;
  let summedHere = 0;
  zlib.crc32 = (data: string | NodeJS.ArrayBufferView, value?: number) => {
    if (typeof data !== 'string' && data.byteLength > 16) summedHere += data.byteLength;
    return crc32(data, value);
  };
  t.teardown(() => {
    zlib.crc32 = crc32;
  });
  const width = 640;
  const height = 360;
  const keys: string[] = [];
  for (let i = 0; i < 5; i++) {
    const data = sharedPixels(width * height * 3);
    for (let at = 0; at < data.length; at += 97) data[at] = (at + i) & 0xff;
    const key = cacheKey({ contentHash: `c${i}`, model: 'm', width, height, fit: 'contain', rotate: 0 });
    await cache.put(key, { width, height, channels: 3, data });
    const back = await cache.get(key);
    t.ok(back && Buffer.compare(back.data, data) === 0, `entry ${i} comes back exactly`);
    keys.push(key);
    await sleep(50); // the thread collects between requests
  }
  t.equal(summedHere, 0, 'no pixel summed on this thread');
  t.equal(checksumThreadFailures(), 0, 'the checksum thread never failed');

  // A flipped pixel byte in a file: the thread's crc catches it.
  const name = (await readdir(dir)).find((n) => n.startsWith(keys[2]!))!;
  const bytes = await readFile(join(dir, name));
  bytes[1000] ^= 0xff;
  await writeFile(join(dir, name), bytes);
  t.equal(await cache.get(keys[2]!), null, 'a corrupted entry is a miss');
  t.equal(cache.stats().corruptDropped, 1, 'and dropped');
  t.equal(summedHere, 0, 'still nothing summed here');
});
