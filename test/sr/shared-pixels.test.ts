// Shared pixel buffers: copies into shared memory are exact, and a thread that
// goes through more shared memory than its budget, or goes quiet after some, collects its garbage
// (V8 does not count SharedArrayBuffers towards its own collections).
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  SHARED_GC_BUDGET_BYTES, SHARED_GC_QUIET_MS, isShared, sharedCollections, sharedPixels, sharedSeen, toShared, transferList,
} from '../../src/sr/shared-pixels.js';

t.test('toShared copies every byte into shared memory', async (t) => {
  const data = new Uint8Array(10 * 1024 * 1024 + 7);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i >> 13)) & 0xff;
  const copy = toShared(data);
  t.ok(isShared(copy), 'shared');
  t.equal(copy.length, data.length);
  t.ok(Buffer.from(copy.buffer, copy.byteOffset, copy.length).equals(Buffer.from(data.buffer)), 'the same bytes');
  t.equal(toShared(copy), copy, 'already shared: itself');
  t.same(transferList(copy, data), [data.buffer], 'only the unshared buffer is moved');
});

t.test('past the budget, the thread collects at its next turn', async (t) => {
  await sleep(SHARED_GC_QUIET_MS + 200); // what earlier tests left has been collected
  const before = sharedCollections();
  const size = 20e6;
  for (let seen = 0; seen < SHARED_GC_BUDGET_BYTES - size; seen += size) sharedPixels(size);
  await sleep(0);
  t.equal(sharedCollections(), before, 'under the budget: no collection yet');
  sharedPixels(size);
  sharedPixels(size);
  t.equal(sharedCollections(), before, 'not inside the caller');
  await new Promise((resolve) => setImmediate(resolve));
  await sleep(0);
  t.equal(sharedCollections(), before + 1, 'one collection once past it');
});

t.test('a thread that goes quiet after seeing shared memory collects', async (t) => {
  await sleep(SHARED_GC_QUIET_MS + 200);
  const before = sharedCollections();
  const received = new Uint8Array(new SharedArrayBuffer(1000));
  sharedSeen(received, new Uint8Array(10)); // the plain one does not count
  await sleep(SHARED_GC_QUIET_MS / 2);
  t.equal(sharedCollections(), before, 'not while it may still be busy');
  await sleep(SHARED_GC_QUIET_MS);
  t.equal(sharedCollections(), before + 1, 'collected after a quiet moment');
  sharedSeen(new Uint8Array(10));
  await sleep(SHARED_GC_QUIET_MS + 200);
  t.equal(sharedCollections(), before + 1, 'nothing shared seen since: no collection');
});

t.test("a full collection V8 runs by itself takes what was seen before it off the count", async (t) => {
  await sleep(SHARED_GC_QUIET_MS + 200);
  const before = sharedCollections();
  const size = 20e6;
  let seen = 0;
  for (; seen < SHARED_GC_BUDGET_BYTES - size; seen += size) sharedPixels(size);
  // A full collection not asked for by shared-pixels (as V8's own are): its gc entry is observed.
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  await sleep(50);
  sharedPixels(size);
  sharedPixels(size);
  await new Promise((resolve) => setImmediate(resolve));
  await sleep(0);
  t.equal(sharedCollections(), before, `${(seen + 2 * size) / 1e6} MB seen, but only ${(2 * size) / 1e6} MB since the last full collection: none forced`);
  for (let since = 2 * size; since < SHARED_GC_BUDGET_BYTES; since += size) sharedPixels(size);
  await new Promise((resolve) => setImmediate(resolve));
  await sleep(0);
  t.equal(sharedCollections(), before + 1, 'past the budget since it: collected');
});
