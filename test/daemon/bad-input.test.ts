// Bad and odd files dropped into the watched folder of the real daemon (headless, --model none):
//   - refused files (empty, truncated JPEG/PNG/WebP, text named .jpg, a PNG whose header claims
//     100000x100000) get a reason in the log and /status, are moved to rejected/ beside a
//     NAME.reason file (or left in place and listed when the move fails), and the screen keeps
//     the last good picture pixel for pixel;
//   - animated GIF/WebP show their first frame; CMYK JPEG, 16-bit PNG, grey+alpha PNG and an
//     ICC-profiled (Display P3) JPEG show the colours sharp's own sRGB conversion gives;
//   - 1x1, 20000x100 and 100x20000 are shown; EXIF orientations 1-8 all end upright;
//   - a directory named x.jpg and a symlink loop are ignored; names with spaces, newlines and
//     non-UTF-8 bytes are shown (the last ones escaped as \xNN in ids), or rejected under that name;
//   - 5,000 files at once: /healthz keeps answering within 1 s, all of them join the slideshow.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp, { type Sharp } from 'sharp';
import t, { type Test } from 'tap';
import { daemonDirs, startDaemon, type DaemonDirs, type RunningDaemon, type Screen } from '../helpers/daemon.js';

type RGB = [number, number, number];
const BACKGROUND: RGB = [0x10, 0x20, 0x30];

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** The id as the text log writes it: bare when simple, else JSON-quoted. */
const logId = (id: string) => (/^[\w.:/@+-]+$/.test(id) ? id : JSON.stringify(id));
const about = (event: string, id: string) => new RegExp(`event=${escape(event)} id=${escape(logId(id))}(?= |$)`);
const near = (a: RGB, b: RGB, tolerance: number) => a.every((v, i) => Math.abs(v - b[i]!) <= tolerance);

function solid(rgb: RGB, width = 160, height = 90) {
  return sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } });
}

/** Writes beside the folder, then renames into it: the daemon only sees complete files. */
async function drop(dirs: DaemonDirs, name: string, bytes: Buffer): Promise<void> {
  const temporary = join(dirs.root, 'incoming');
  await writeFile(temporary, bytes);
  await rename(temporary, join(dirs.folder, name));
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = crcTable[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A small valid PNG whose IHDR says width x height (with a correct CRC). */
async function pngClaiming(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await solid([200, 0, 0], 16, 16).png().toBuffer());
  if (png.toString('latin1', 12, 16) !== 'IHDR') throw new Error('IHDR is not the first chunk');
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

/** Quadrants: red top left, green top right, blue bottom left, white bottom right (160x90). */
const QUADRANTS: RGB[] = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]];
function uprightRaw(): Buffer {
  const width = 160, height = 90;
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const q = QUADRANTS[(y < height / 2 ? 0 : 2) + (x < width / 2 ? 0 : 1)]!;
      data.set(q, (y * width + x) * 3);
    }
  }
  return data;
}

/** The upright pattern stored so that EXIF orientation `n` turns it upright again. */
async function oriented(n: number): Promise<Buffer> {
  const step = async (input: Buffer, op: (s: Sharp) => Sharp) => op(sharp(input)).png().toBuffer();
  let image = await sharp(uprightRaw(), { raw: { width: 160, height: 90, channels: 3 } }).png().toBuffer();
  // The inverse of what a viewer does for orientation n.
  if (n === 2) image = await step(image, (s) => s.flop());
  if (n === 3) image = await step(image, (s) => s.rotate(180));
  if (n === 4) image = await step(image, (s) => s.flip());
  if (n === 5) image = await step(await step(image, (s) => s.rotate(90)), (s) => s.flop()); // transpose
  if (n === 6) image = await step(image, (s) => s.rotate(270));
  if (n === 7) image = await step(await step(image, (s) => s.rotate(270)), (s) => s.flop()); // transverse
  if (n === 8) image = await step(image, (s) => s.rotate(90));
  return sharp(image).withMetadata({ orientation: n }).jpeg({ quality: 95 }).toBuffer();
}

/** The quadrant colours at the centres of the four quadrants of `rect` on the screen. */
function quadrantsOf(screen: Screen, rect = { x: 0, y: 0, width: screen.width, height: screen.height }): RGB[] {
  const at = (fx: number, fy: number) => screen.pixel(Math.floor(rect.x + rect.width * fx), Math.floor(rect.y + rect.height * fy));
  return [at(0.25, 0.25), at(0.75, 0.25), at(0.25, 0.75), at(0.75, 0.75)];
}

async function sharpSrgbCentre(bytes: Buffer): Promise<RGB> {
  const { data, info } = await sharp(bytes).toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const i = (Math.floor(info.height / 2) * info.width + Math.floor(info.width / 2)) * info.channels;
  return [data[i]!, data[i + 1]!, data[i + 2]!];
}

async function storedCentre(bytes: Buffer): Promise<RGB> {
  const { data, info } = await sharp(bytes, { ignoreIcc: true }).removeAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  const i = (Math.floor(info.height / 2) * info.width + Math.floor(info.width / 2)) * info.channels;
  return [data[i]!, data[i + 1]!, data[i + 2]!];
}

const dirs = daemonDirs('uprez-bad-input-');
t.teardown(() => rm(dirs.root, { recursive: true, force: true }));
let daemon: RunningDaemon;
let goodCount = 0;

/** Drops a good picture of colour `rgb` and waits until it is on screen. */
async function showGood(rgb: RGB): Promise<Screen> {
  const id = `good-${++goodCount}.png`;
  const shown = daemon.waitForNewLine(about('shown', id));
  await drop(dirs, id, await solid(rgb).png().toBuffer());
  await shown;
  const screen = await daemon.screen();
  if (!near(screen.pixel(160, 90), rgb, 3)) throw new Error(`${id} is not on screen`);
  return screen;
}

/** Drops a file the daemon must refuse; returns the reason it gave. The screen must not change. */
async function refused(t: Test, name: string, bytes: Buffer, reason: RegExp, opts: { moved?: boolean } = {}): Promise<string> {
  const before = await daemon.screen();
  const rejected = daemon.waitForNewLine(about('image.rejected', name));
  const placed = daemon.waitForNewLine(new RegExp(`event=image\\.(moved-to-rejected|rejected-in-place) id=${escape(logId(name))}(?= |$)`));
  await drop(dirs, name, bytes);
  const line = await rejected;
  await placed;
  const status = await daemon.status();
  const entry = (status.rejections as { id: string; reason: string; movedTo: string | null; leftInPlace: string | null }[]).find((r) => r.id === name);
  t.ok(entry, `${name}: listed in /status rejections`);
  t.match(entry?.reason ?? '', reason, `${name}: the reason says why (${entry?.reason})`);
  t.match(line, reason, `${name}: the log line carries the reason`);
  if (opts.moved !== false) {
    t.ok(existsSync(join(dirs.folder, 'rejected', name)), `${name}: moved to rejected/`);
    t.notOk(existsSync(join(dirs.folder, name)), `${name}: no longer in the folder`);
    const why = await readFile(join(dirs.folder, 'rejected', `${name}.reason`), 'utf8');
    t.ok(why.includes(entry?.reason ?? '\u0000') && /rejected: \d{4}-\d\d-\d\dT/.test(why), `${name}: NAME.reason has the reason and the time`);
    t.same(await readFile(join(dirs.folder, 'rejected', name)), bytes, `${name}: the moved file is intact`);
  }
  await sleep(300); // any frame the refusal might (wrongly) have caused
  const after = await daemon.screen();
  t.ok(after.data.equals(before.data), `${name}: the screen is unchanged, pixel for pixel`);
  t.equal(daemon.child.exitCode, null, `${name}: the daemon runs`);
  return entry?.reason ?? '';
}

/** Drops a file the daemon must show; returns the screen once it is shown. */
async function shown(t: Test, name: string, bytes: Buffer): Promise<{ screen: Screen; status: Record<string, any> }> {
  const line = daemon.waitForNewLine(about('shown', name));
  await drop(dirs, name, bytes);
  await line;
  const status = await daemon.status();
  t.equal(status.current?.id, name, `${name}: on screen`);
  return { screen: await daemon.screen(), status };
}

t.before(async () => {
  daemon = startDaemon(dirs, ['--model', 'none', '--interval', '600', '--transition', 'cut', '--background', '#102030', '--on-new', 'show']);
  await daemon.waitForLine(/event=slideshow\.ready/);
});
t.teardown(() => daemon.stop('SIGKILL'));

t.test('refused files: a reason, moved to rejected/, the screen as it was', async (t) => {
  await showGood([40, 160, 90]);
  // The move fails (here: `rejected` is a plain file, as the daemon runs as root a chmod would not stop it): left in place, listed.
  await writeFile(join(dirs.folder, 'rejected'), 'not a folder');
  await refused(t, 'text.jpg', Buffer.from('this is not a picture\n'), /not a readable image/, { moved: false });
  t.ok(existsSync(join(dirs.folder, 'text.jpg')), 'the move failed: the file stays in place');
  const image = (await daemon.status()).images.find((i: { id: string }) => i.id === 'text.jpg');
  t.match(image?.rejected, /not a readable image/, '/status images[] lists it as rejected, with the reason');
  t.ok(daemon.count(/event=image\.rejected-in-place id=text\.jpg .*code=/) === 1, 'the failed move is logged');
  await rm(join(dirs.folder, 'rejected'));

  const reasons: Record<string, string> = {};
  reasons.empty = await refused(t, 'empty.png', Buffer.alloc(0), /empty \(0 bytes\)/);
  const photo = await solid([0, 0, 0], 320, 180).composite([{ input: await sharp({ create: { width: 320, height: 90, channels: 3, background: '#ff8000' } }).png().toBuffer(), top: 90, left: 0 }]);
  const jpeg = await photo.clone().jpeg({ quality: 90 }).toBuffer();
  const png = await photo.clone().png().toBuffer();
  const webp = await photo.clone().webp({ quality: 80 }).toBuffer();
  reasons.jpeg = await refused(t, 'truncated.jpg', jpeg.subarray(0, Math.floor(jpeg.length / 2)), /cannot decode|not a readable/);
  reasons.png = await refused(t, 'truncated.png', png.subarray(0, Math.floor(png.length / 2)), /cannot decode|not a readable/);
  reasons.webp = await refused(t, 'truncated.webp', webp.subarray(0, Math.floor(webp.length / 2)), /cannot decode|not a readable/);
  reasons.text = await refused(t, 'text2.jpg', Buffer.from('GIF89a? no, just text'), /not a readable image/);
  reasons.huge = await refused(t, 'huge.png', await pngClaiming(100_000, 100_000), /100000x100000 is 10,000,000,000 pixels, over the limit/);
  // Still the good picture on screen, and the slideshow has it alone.
  const status = await daemon.status();
  t.equal(status.current.id, `good-${goodCount}.png`, 'the last good picture is still current');
  t.ok(status.counters.rejected >= 7, 'the rejected counter counts them');
  t.comment(`reasons: ${JSON.stringify(reasons, null, 1)}`);
});

t.test('animated GIF and WebP: the first frame is shown', async (t) => {
  const frames = await Promise.all([[220, 30, 30], [30, 30, 220], [30, 220, 30]].map((c) => solid(c as RGB).png().toBuffer()));
  const gif = await sharp(frames, { join: { animated: true } }).gif({ delay: [100, 100, 100] }).toBuffer();
  const webp = await sharp(frames, { join: { animated: true } }).webp({ delay: [100, 100, 100], lossless: true }).toBuffer();
  t.equal((await sharp(gif).metadata()).pages, 3, 'the GIF has 3 frames');
  t.equal((await sharp(webp).metadata()).pages, 3, 'the WebP has 3 frames');
  for (const [name, bytes] of [['animated.gif', gif], ['animated.webp', webp]] as const) {
    const { screen, status } = await shown(t, name, bytes);
    t.same(status.current.decoded, { width: 160, height: 90 }, `${name}: one frame decoded, not the strip`);
    t.ok(near(screen.pixel(160, 90), [220, 30, 30], 8), `${name}: the first frame (red) is shown: ${screen.pixel(160, 90)}`);
  }
});

t.test('colours: CMYK, 16-bit, grey+alpha, an ICC profile', async (t) => {
  const rgb: RGB = [200, 90, 40];
  const cases: [string, Buffer][] = [
    ['cmyk.jpg', await solid(rgb).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer()],
    ['deep.png', await solid(rgb).toColourspace('rgb16').png().toBuffer()],
    ['grey-alpha.png', await sharp(Buffer.alloc(160 * 90 * 2, Buffer.from([150, 255])), { raw: { width: 160, height: 90, channels: 2 } }).toColourspace('b-w').png().toBuffer()],
    ['p3.jpg', await solid(rgb).withIccProfile('p3').jpeg({ quality: 95 }).toBuffer()],
  ];
  const meta = await Promise.all(cases.map(([, bytes]) => sharp(bytes).metadata()));
  t.equal(meta[0]!.space, 'cmyk', 'the CMYK JPEG is CMYK');
  t.equal(meta[1]!.depth, 'ushort', 'the 16-bit PNG is 16-bit');
  t.ok(meta[2]!.channels === 2 && meta[2]!.hasAlpha, 'the grey PNG has 2 channels (grey, alpha)');
  t.ok(meta[3]!.hasProfile, 'the P3 JPEG has an ICC profile');
  const p3Stored = await storedCentre(cases[3]![1]);
  t.notOk(near(p3Stored, rgb, 6), `the P3 file stores other numbers (${p3Stored}) than its sRGB colour: the profile matters`);
  for (const [name, bytes] of cases) {
    const expected = await sharpSrgbCentre(bytes);
    const { screen } = await shown(t, name, bytes);
    const actual = screen.pixel(160, 90);
    t.ok(near(actual, expected, 6), `${name}: shown ${actual}, sharp's sRGB ${expected}`);
  }
});

t.test('extreme sizes are shown', async (t) => {
  for (const [name, width, height] of [['one.png', 1, 1], ['wide.png', 20000, 100], ['tall.png', 100, 20000]] as const) {
    const { screen, status } = await shown(t, name, await solid([250, 200, 0], width, height).png().toBuffer());
    t.same(status.current.decoded, { width, height }, `${name}: decoded ${width}x${height}`);
    let painted = 0;
    for (let i = 0; i < screen.width * screen.height; i++) {
      if (near([screen.data[i * 3]!, screen.data[i * 3 + 1]!, screen.data[i * 3 + 2]!], [250, 200, 0], 40)) painted++;
    }
    t.ok(painted > 0, `${name}: ${painted} screen pixels show it (plan: ${status.current.plan})`);
  }
});

t.test('EXIF orientations 1-8 end upright', async (t) => {
  for (let n = 1; n <= 8; n++) {
    const bytes = await oriented(n);
    t.equal((await sharp(bytes).metadata()).orientation, n, `orientation ${n} written`);
    const { screen } = await shown(t, `orientation-${n}.jpg`, bytes);
    const seen = quadrantsOf(screen);
    t.ok(seen.every((c, i) => near(c, QUADRANTS[i]!, 40)), `orientation ${n}: upright (${JSON.stringify(seen)})`);
  }
});

t.test('a directory named x.jpg, a symlink loop and odd names', async (t) => {
  await mkdir(join(dirs.folder, 'x.jpg'));
  await symlink('loop-b.jpg', join(dirs.folder, 'loop-a.jpg'));
  await symlink('loop-a.jpg', join(dirs.folder, 'loop-b.jpg'));
  await symlink('.', join(dirs.folder, 'self.jpg'));
  await showGood([90, 40, 160]);
  await sleep(500);
  const status = await daemon.status();
  const ids = (status.images as { id: string }[]).map((i) => i.id);
  t.notOk(ids.includes('x.jpg'), 'the directory x.jpg is not an image');
  t.notOk(ids.some((id) => id.startsWith('loop-') || id === 'self.jpg'), 'the symlink loop is not an image');
  t.equal(daemon.child.exitCode, null, 'the daemon runs');

  const spaced = await shown(t, 'with  spaces .png', await solid([10, 200, 200]).png().toBuffer());
  t.ok(near(spaced.screen.pixel(160, 90), [10, 200, 200], 3), 'a name with spaces is shown');
  const newline = await shown(t, 'new\nline.png', await solid([200, 10, 200]).png().toBuffer());
  t.ok(near(newline.screen.pixel(160, 90), [200, 10, 200], 3), 'a name with a newline is shown (its log line JSON-quoted)');
  t.ok(daemon.lines.every((line) => !line.startsWith('line.png')), 'the newline did not split a log line');

  // Names that are not UTF-8 (Latin-1 from an old camera or a zip file): Node decodes them
  // lossily, so the folder source reads the folder as bytes. Shown, and named in the log and
  // /status with the stray bytes as \\xNN; a broken one goes to rejected/ under that name.
  const bytesPath = (name: string) => Buffer.concat([Buffer.from(`${dirs.folder}/`), Buffer.from(name, 'latin1')]);
  const cafe = 'caf\\xe9.png';
  const cafeShown = daemon.waitForNewLine(about('shown', cafe));
  await writeFile(join(dirs.root, 'incoming'), await solid([1, 2, 3]).png().toBuffer());
  await rename(join(dirs.root, 'incoming'), bytesPath('caf\xe9.png'));
  await cafeShown;
  t.equal((await daemon.status()).current?.id, cafe, 'a Latin-1 name is shown, its id escaped');
  t.ok(near((await daemon.screen()).pixel(160, 90), [1, 2, 3], 3), 'its picture is on screen');
  const thumb = await fetch(await daemon.url(`/thumb.jpg?image=${encodeURIComponent(cafe)}`), { headers: daemon.headers() });
  t.equal(thumb.status, 200, 'its thumbnail is made from the file read through its bytes');

  const broken = 'broken-\\xff.jpg';
  const rejected = daemon.waitForNewLine(about('image.rejected', broken));
  const moved = daemon.waitForNewLine(about('image.moved-to-rejected', broken));
  await writeFile(join(dirs.root, 'incoming'), 'not a picture');
  await rename(join(dirs.root, 'incoming'), bytesPath('broken-\xff.jpg'));
  await rejected;
  await moved;
  t.ok(existsSync(join(dirs.folder, 'rejected', broken)), 'a broken one is moved to rejected/ under its readable name');
  t.notOk(existsSync(bytesPath('broken-\xff.jpg')), 'and is no longer in the folder');
  t.equal(await readFile(join(dirs.folder, 'rejected', broken), 'utf8'), 'not a picture', 'intact');
  await showGood([60, 60, 200]);
  t.equal(daemon.child.exitCode, null, 'the daemon runs after the non-UTF-8 names');
});

t.test('5,000 files at once', async (t) => {
  const before = await daemon.status();
  const count = 5000;
  const staging = join(dirs.root, 'staging');
  await mkdir(staging);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = `burst-${String(i).padStart(4, '0')}.png`;
    names.push(name);
    await writeFile(join(staging, name), await solid([i % 256, (i >> 8) % 256, 77], 8, 8).png().toBuffer());
  }
  const expected = before.queue.images + count;
  let slowest = 0;
  let failures = 0;
  let maxRss = before.memory.rssMB;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const start = performance.now();
      try {
        const response = await fetch(await daemon.url('/healthz'), { signal: AbortSignal.timeout(1000) });
        if (response.status !== 200) failures++;
      } catch {
        failures++;
      }
      slowest = Math.max(slowest, performance.now() - start);
      await sleep(100);
    }
  })();
  const started = performance.now();
  await Promise.all(names.map((name) => rename(join(staging, name), join(dirs.folder, name))));
  let status = before;
  for (;;) {
    status = await daemon.status();
    maxRss = Math.max(maxRss, status.memory.rssMB);
    if (status.queue.images >= expected || performance.now() - started > 60_000) break;
    await sleep(250);
  }
  const joinedMs = performance.now() - started;
  await sleep(1000);
  polling = false;
  await poller;
  status = await daemon.status();
  t.equal(status.queue.images, expected, `all ${count} joined the slideshow (${Math.round(joinedMs)} ms)`);
  t.equal(failures, 0, '/healthz always answered 200 within 1 s');
  t.ok(slowest < 1000, `/healthz slowest answer ${Math.round(slowest)} ms`);
  t.ok(maxRss < before.memory.rssMB + 400, `RSS bounded: ${before.memory.rssMB} MB before, ${maxRss} MB at most, ${status.memory.rssMB} MB after`);
  t.equal(daemon.child.exitCode, null, 'the daemon runs');
  t.comment(`5000 files: joined in ${Math.round(joinedMs)} ms, healthz max ${Math.round(slowest)} ms, RSS ${before.memory.rssMB} -> max ${maxRss} -> ${status.memory.rssMB} MB, current ${status.current.id}, eventLoop p99 ${status.eventLoopDelayMs.p99} ms`);
});
