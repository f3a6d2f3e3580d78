// The on-disk SR cache: exact round trips, keys, LRU by bytes, corruption, restarts, temp files.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { cacheKey, SrCache, type CacheKeyParts } from '../../src/service/cache.js';
import type { RasterImage } from '../../src/sr/model.js';

const W = 64;
const H = 48;
const ENTRY_BYTES = 20 + W * H * 3; // header + RGB pixels

const image = (channels: 3 | 4 = 3): RasterImage => ({ width: W, height: H, channels, data: new Uint8Array(randomBytes(W * H * channels)) });
const key = (name: string): string => cacheKey({ contentHash: name, model: 'uprez-x2', width: W, height: H, fit: 'contain', rotate: 0 });
const dirs: string[] = [];
const tempDir = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), 'uprez-cache-'));
  dirs.push(dir);
  return dir;
};
t.teardown(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));
const same = (a: RasterImage | null, b: RasterImage): boolean =>
  a !== null && a.width === b.width && a.height === b.height && a.channels === b.channels && Buffer.compare(a.data, b.data) === 0;

t.test('a round trip is bit-exact for RGB and RGBA', async (t) => {
  const cache = await SrCache.open(await tempDir(), 1e6);
  for (const channels of [3, 4] as const) {
    const original = image(channels);
    await cache.put(key(`c${channels}`), original);
    t.ok(same(await cache.get(key(`c${channels}`)), original), `${channels} channels come back exactly`);
  }
  t.equal(await cache.get(key('absent')), null, 'an unknown key is a miss');
  t.match(cache.stats(), { entries: 2, bytes: 2 * 20 + W * H * 7, hits: 2, misses: 1, writes: 2, writeErrors: 0 });
});

t.test('the key is a sha256 hex digest that changes with every part', async (t) => {
  const base: CacheKeyParts = { contentHash: 'abc', model: 'm', width: 3840, height: 2160, fit: 'contain', rotate: 0 };
  t.match(cacheKey(base), /^[0-9a-f]{64}$/);
  t.equal(cacheKey({ ...base }), cacheKey(base), 'stable');
  const variants: CacheKeyParts[] = [
    { ...base, contentHash: 'abd' }, { ...base, model: 'n' }, { ...base, width: 3841 }, { ...base, height: 2161 },
    { ...base, fit: 'cover' }, { ...base, rotate: 90 }, { ...base, variant: 'preview' },
    { ...base, contentHash: 'ab', model: 'cm' }, // the same characters split differently
  ];
  const keys = new Set([cacheKey(base), ...variants.map(cacheKey)]);
  t.equal(keys.size, variants.length + 1, 'every variation gives its own key');
});

t.test('evicts the least recently used entries to stay within maxBytes; get refreshes recency', async (t) => {
  const dir = await tempDir();
  const cache = await SrCache.open(dir, 3 * ENTRY_BYTES);
  const a = image();
  await cache.put(key('a'), a);
  await cache.put(key('b'), image());
  await cache.put(key('c'), image());
  t.ok(same(await cache.get(key('a')), a), 'a is used again: b is now the oldest');
  await cache.put(key('d'), image());
  t.match(cache.stats(), { entries: 3, bytes: 3 * ENTRY_BYTES, evictions: 1 });
  t.equal(await cache.get(key('b')), null, 'b was evicted');
  t.notOk(existsSync(join(dir, `${key('b')}.sr`)), 'and its file deleted');
  for (const name of ['a', 'c', 'd']) t.not(await cache.get(key(name)), null, `${name} is kept`);

  await cache.put(key('huge'), { width: 200, height: 200, channels: 3, data: new Uint8Array(200 * 200 * 3) });
  t.equal(await cache.get(key('huge')), null, 'an entry larger than maxBytes is not stored');
  t.equal(cache.stats().entries, 3, 'and evicts nothing');
});

t.test('a corrupted or truncated entry is dropped and counted, never returned', async (t) => {
  const dir = await tempDir();
  const cache = await SrCache.open(dir, 1e6);
  await cache.put(key('flipped'), image());
  await cache.put(key('truncated'), image());
  await cache.put(key('header'), image());

  const flippedPath = join(dir, `${key('flipped')}.sr`);
  const bytes = await readFile(flippedPath);
  bytes[20 + 1000] ^= 0x01; // one bit of one pixel
  await writeFile(flippedPath, bytes);
  await truncate(join(dir, `${key('truncated')}.sr`), ENTRY_BYTES - 7);
  const headerPath = join(dir, `${key('header')}.sr`);
  const header = await readFile(headerPath);
  header.writeUInt32LE(H, 8); // width and height swapped: the same byte count
  header.writeUInt32LE(W, 12);
  await writeFile(headerPath, header);

  for (const name of ['flipped', 'truncated', 'header']) {
    t.equal(await cache.get(key(name)), null, `${name}: a miss`);
    t.notOk(existsSync(join(dir, `${key(name)}.sr`)), `${name}: the file is deleted`);
  }
  t.match(cache.stats(), { entries: 0, bytes: 0, corruptDropped: 3, misses: 3, hits: 0 });
});

t.test('a reopened cache finds its entries, their sizes and their LRU order', async (t) => {
  const dir = await tempDir();
  const first = await SrCache.open(dir, 1e6);
  const a = image();
  await first.put(key('a'), a);
  await first.put(key('b'), image(4));
  // Old, distinct mtimes (a before b), then a hit on a makes it the most recently used.
  const now = Date.now() / 1000;
  await utimes(join(dir, `${key('a')}.sr`), now - 100, now - 100);
  await utimes(join(dir, `${key('b')}.sr`), now - 50, now - 50);
  t.ok(same(await first.get(key('a')), a));

  const second = await SrCache.open(dir, 1e6);
  t.match(second.stats(), { entries: 2, bytes: 2 * 20 + W * H * 7, hits: 0 });
  t.ok(same(await second.get(key('a')), a), 'the entry reads back after a restart');

  // Room for two RGB entries: opening evicts b (RGBA, larger), the least recently used.
  const third = await SrCache.open(dir, 2 * ENTRY_BYTES);
  t.match(third.stats(), { entries: 1, bytes: ENTRY_BYTES, evictions: 1 });
  t.equal(await third.get(key('b')), null, 'b was the least recently used');
  t.ok(same(await third.get(key('a')), a));
});

t.test('open removes leftover temporary files and leaves foreign files alone', async (t) => {
  const dir = await tempDir();
  const temp = `.${key('a')}.0123456789ab.tmp`;
  await writeFile(join(dir, temp), 'half an entry');
  await writeFile(join(dir, 'notes.txt'), 'not ours');
  const cache = await SrCache.open(dir, 1e6);
  t.same((await readdir(dir)).sort(), ['notes.txt']);
  t.match(cache.stats(), { entries: 0, bytes: 0 });
});

t.test('maxBytes 0 disables the cache without touching the disk', async (t) => {
  const dir = join(await tempDir(), 'never-created');
  const cache = await SrCache.open(dir, 0);
  await cache.put(key('a'), image());
  t.equal(await cache.get(key('a')), null);
  t.notOk(existsSync(dir));
  t.match(cache.stats(), { entries: 0, bytes: 0, maxBytes: 0, writes: 0 });
  await t.rejects(SrCache.open(dir, -1), RangeError, 'a negative size is a mistake, not "disabled"');
});

t.test('concurrent puts and gets of one key are safe', async (t) => {
  const dir = await tempDir();
  const cache = await SrCache.open(dir, 1e6);
  const a = image();
  await cache.put(key('a'), a);
  const gets = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? cache.put(key('a'), a) : cache.get(key('a')))));
  t.ok(gets.filter((_, i) => i % 2 === 0).every((got) => same(got ?? null, a)), 'every get during the puts sees a whole entry');
  t.same(await readdir(dir), [`${key('a')}.sr`], 'one entry file, no temporary files left');
  t.match(cache.stats(), { entries: 1, bytes: ENTRY_BYTES, writes: 7, hits: 6, corruptDropped: 0 });
});

t.test('disk problems are counted, not thrown', async (t) => {
  const dir = await tempDir();
  const cache = await SrCache.open(dir, 1e6);
  await cache.put(key('a'), image());
  await rm(dir, { recursive: true });
  t.equal(await cache.get(key('a')), null, 'an entry deleted behind its back is a miss');
  await cache.put(key('b'), image()); // the folder is gone
  t.match(cache.stats(), { entries: 0, writeErrors: 1, corruptDropped: 0 });
  await t.rejects(cache.get('../../etc/passwd'), TypeError, 'keys are digests, never paths');
});
