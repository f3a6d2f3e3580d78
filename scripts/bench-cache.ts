// npm run bench:cache — which on-disk format the SR cache (src/service/cache.ts) should use.
// For a real photo resized to 1920x1080 and 3840x2160 (RGB, a stand-in for an SR result)
// it times each candidate format: write = encode + checksum + write + fsync + rename,
// read = read + verify + decode; the size on disk; whether the decoded pixels are bit-exact.
// Then it estimates the cost of one write plus one read on a Raspberry Pi:
//   pi ms = cpuFactor × (encode ms + decode ms measured here) + 2 × MB / diskMBps
// (the SD card is the bottleneck: ~20-40 MB/s, and a Pi core is several times slower than
// this machine's), and picks the exact format with the lowest estimate.
//   node dist/scripts/bench-cache.js [--photo FILE] [--runs N] [--cpu-factor F] [--disk-mbps M]
// Without --photo it takes the first JPEG/PNG in /usr/share/backgrounds, /usr/share/rpd-wallpaper
// or models/training/data/train. Defaults: --runs 5 --cpu-factor 4 (a Pi 4) --disk-mbps 30.
import { randomBytes, webcrypto } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, open, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { decodeEntry, encodeEntry, ENTRY_FORMAT } from '../src/service/cache.js';
import type { RasterImage } from '../src/sr/model.js';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const runs = Number(flag('--runs') ?? 5);
const cpuFactor = Number(flag('--cpu-factor') ?? 4); // Pi 4 (Cortex-A72, 1.8 GHz) vs a current x86 core
const diskMBps = Number(flag('--disk-mbps') ?? 30);

interface Candidate {
  name: string;
  /** The parts of the file, in order. */
  encode(image: RasterImage): Promise<Uint8Array[]>;
  decode(bytes: Uint8Array): Promise<RasterImage | null>;
}

function sizeHeader(image: RasterImage): Buffer {
  const out = Buffer.alloc(12);
  out.writeUInt32LE(image.width, 0);
  out.writeUInt32LE(image.height, 4);
  out.writeUInt32LE(image.channels, 8);
  return out;
}
/** For the compressed candidates: size header + crc32 (of the header and the payload) + payload. */
function wrap(image: RasterImage, payload: Uint8Array): Uint8Array[] {
  const head = sizeHeader(image);
  const crc = Buffer.alloc(4);
  crc.writeUInt32LE(zlib.crc32(payload, zlib.crc32(head)));
  return [head, crc, payload];
}
function unwrap(bytes: Uint8Array): { width: number; height: number; channels: 3 | 4; payload: Uint8Array } | null {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.length < 16) return null;
  const payload = view.subarray(16);
  if (zlib.crc32(payload, zlib.crc32(view.subarray(0, 12))) !== view.readUInt32LE(12)) return null;
  const channels = view.readUInt32LE(8);
  if (channels !== 3 && channels !== 4) return null;
  return { width: view.readUInt32LE(0), height: view.readUInt32LE(4), channels, payload };
}
const sized = (image: { width: number; height: number; channels: 3 | 4 }, data: Uint8Array): RasterImage | null =>
  data.length === image.width * image.height * image.channels ? { ...image, data } : null;

async function sharpDecode(bytes: Uint8Array): Promise<RasterImage | null> {
  const head = unwrap(bytes);
  if (!head) return null;
  const { data, info } = await sharp(head.payload).raw().toBuffer({ resolveWithObject: true });
  return info.channels === head.channels && info.width === head.width ? sized(head, data) : null;
}
const sharpRaw = (image: RasterImage) =>
  sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } });

const deflate = promisify(zlib.deflate);
const inflate = promisify(zlib.inflate);

const candidates: Candidate[] = [
  { name: `${ENTRY_FORMAT} (cache.ts)`, encode: encodeEntry, decode: decodeEntry },
  {
    // The same container with a sha256 (webcrypto: hashed on the libuv threadpool) instead of crc32.
    name: 'raw + sha256',
    encode: async (image) => [sizeHeader(image), new Uint8Array(await webcrypto.subtle.digest('SHA-256', image.data)), image.data],
    decode: async (bytes) => {
      const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const data = view.subarray(44);
      const digest = new Uint8Array(await webcrypto.subtle.digest('SHA-256', data));
      if (view.length < 44 || Buffer.compare(digest, view.subarray(12, 44)) !== 0) return null;
      const channels = view.readUInt32LE(8);
      return channels === 3 || channels === 4 ? sized({ width: view.readUInt32LE(0), height: view.readUInt32LE(4), channels }, data) : null;
    },
  },
  {
    name: 'zlib deflate 1',
    encode: async (image) => wrap(image, await deflate(image.data, { level: 1 })),
    decode: async (bytes) => {
      const head = unwrap(bytes);
      return head && sized(head, await inflate(head.payload));
    },
  },
  ...[1, 2].map((level): Candidate => ({
    name: `PNG level ${level}`,
    encode: async (image) => wrap(image, await sharpRaw(image).png({ compressionLevel: level }).toBuffer()),
    decode: sharpDecode,
  })),
  {
    name: 'PNG level 1 filtered',
    encode: async (image) => wrap(image, await sharpRaw(image).png({ compressionLevel: 1, adaptiveFiltering: true }).toBuffer()),
    decode: sharpDecode,
  },
  {
    name: 'WebP lossless e0',
    encode: async (image) => wrap(image, await sharpRaw(image).webp({ lossless: true, effort: 0, exact: true }).toBuffer()),
    decode: sharpDecode,
  },
];

/** A real photograph: --photo, else a wallpaper or a fetched training photo. */
function findPhoto(): string {
  const given = flag('--photo');
  if (given) return given;
  const folders = ['/usr/share/backgrounds', '/usr/share/rpd-wallpaper', join('models', 'training', 'data', 'train')];
  for (const folder of folders) {
    if (!existsSync(folder)) continue;
    const found = readdirSync(folder, { recursive: true, encoding: 'utf8' }).find((name) => /\.(jpe?g|png)$/i.test(name));
    if (found) return join(folder, found);
  }
  console.error('bench-cache: no photo found in /usr/share/backgrounds, /usr/share/rpd-wallpaper or models/training/data/train; pass --photo FILE (a JPEG or PNG photograph)');
  process.exit(1);
}

async function photoAt(path: string, width: number, height: number): Promise<RasterImage> {
  const { data, info } = await sharp(path).rotate().resize(width, height, { fit: 'cover', kernel: 'lanczos3' })
    .removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: 3, data };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

interface Row { name: string; writeMs: number; readMs: number; encodeMs: number; decodeMs: number; bytes: number; exact: boolean }

async function measure(candidate: Candidate, image: RasterImage, dir: string): Promise<Row> {
  const times = { write: [] as number[], read: [] as number[], encode: [] as number[], decode: [] as number[] };
  let bytes = 0;
  let exact = true;
  for (let run = 0; run <= runs; run++) { // run 0 warms up
    const path = join(dir, 'entry');
    let started = performance.now();
    const encoded = await candidate.encode(image);
    const encodeMs = performance.now() - started;
    const temp = join(dir, `.entry.${randomBytes(4).toString('hex')}.tmp`);
    const file = await open(temp, 'w');
    for (const part of encoded) await file.writeFile(part);
    await file.sync();
    await file.close();
    await rename(temp, path);
    const writeMs = performance.now() - started;

    started = performance.now();
    const read = await readFile(path);
    const readIoMs = performance.now() - started;
    const decoded = await candidate.decode(read);
    const readMs = performance.now() - started;
    if (run === 0) continue;
    times.write.push(writeMs); times.encode.push(encodeMs);
    times.read.push(readMs); times.decode.push(readMs - readIoMs);
    bytes = encoded.reduce((sum, part) => sum + part.length, 0);
    exact &&= decoded !== null && Buffer.compare(decoded.data, image.data) === 0 &&
      decoded.width === image.width && decoded.height === image.height && decoded.channels === image.channels;
  }
  return { name: candidate.name, writeMs: median(times.write), readMs: median(times.read), encodeMs: median(times.encode), decodeMs: median(times.decode), bytes, exact };
}

/** Cost of one write plus one read on a Pi, from this machine's CPU times. */
const piCost = (row: Row, factor: number, mbps: number): number =>
  factor * (row.encodeMs + row.decodeMs) + (2 * row.bytes / 1e6 / mbps) * 1000;

/** The exact format with the lowest cost summed over the sizes, and the ranking. */
function rank(rows: Row[], factor: number, mbps: number): [string, number][] {
  const totals = new Map<string, number>();
  const inexact = new Set(rows.filter((row) => !row.exact).map((row) => row.name));
  for (const row of rows) if (!inexact.has(row.name)) totals.set(row.name, (totals.get(row.name) ?? 0) + piCost(row, factor, mbps));
  return [...totals].sort((a, b) => a[1] - b[1]);
}

const photo = findPhoto();
const meta = await sharp(photo).metadata();
console.log(`photo: ${photo} (${meta.width}x${meta.height}), median of ${runs} runs, Node ${process.version}, sharp ${sharp.versions.sharp}, libuv threadpool ${process.env.UV_THREADPOOL_SIZE ?? 4}`);
console.log(`pi ms = ${cpuFactor} x (encode + decode ms here) + 2 x MB / ${diskMBps} MB/s   (one write + one read on a Pi with an SD card)\n`);
const dir = await mkdtemp(join(tmpdir(), 'uprez-bench-cache-'));
const rows: Row[] = [];
try {
  for (const [width, height] of [[1920, 1080], [3840, 2160]] as const) {
    const image = await photoAt(photo, width, height);
    console.log(`${width}x${height} RGB, raw ${(image.data.length / 1e6).toFixed(1)} MB`);
    console.log('format                  | write ms | read ms |    MB | exact? | encode ms | decode ms | pi ms');
    console.log('------------------------|----------|---------|-------|--------|-----------|-----------|------');
    for (const candidate of candidates) {
      const row = await measure(candidate, image, dir);
      rows.push(row);
      console.log(`${row.name.padEnd(23)} | ${row.writeMs.toFixed(0).padStart(8)} | ${row.readMs.toFixed(0).padStart(7)} | ` +
        `${(row.bytes / 1e6).toFixed(1).padStart(5)} | ${(row.exact ? 'yes' : 'NO').padEnd(6)} | ${row.encodeMs.toFixed(0).padStart(9)} | ` +
        `${row.decodeMs.toFixed(0).padStart(9)} | ${piCost(row, cpuFactor, diskMBps).toFixed(0).padStart(5)}`);
    }
    console.log('');
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
const ranked = rank(rows, cpuFactor, diskMBps);
console.log('rule: among the bit-exact formats, the lowest pi ms summed over both sizes');
for (const [name, total] of ranked) console.log(`  ${name.padEnd(23)} ${total.toFixed(0).padStart(6)} ms`);
console.log(`chosen: ${ranked[0]?.[0]}   (the cache uses: ${ENTRY_FORMAT})\n`);
console.log('sensitivity, the winner for other Pi CPU factors (rows) and SD card speeds (columns):');
const speeds = [15, 20, 30, 40];
console.log(`  factor | ${speeds.map((mbps) => `${mbps} MB/s`.padEnd(22)).join(' | ')}`);
for (const factor of [1, 2, 3, 4, 6]) {
  console.log(`  ${String(factor).padStart(6)} | ${speeds.map((mbps) => (rank(rows, factor, mbps)[0]?.[0] ?? '-').padEnd(22)).join(' | ')}`);
}
