// The real daemon (`uprez run`, headless, llvmpipe) puts pictures where they belong: pixels
// of /screen.png for every fit (contain, cover, fill) and every rotation (0, 90, 180, 270), a
// crossfade that really mixes two pictures over several frames, and the idle card of an empty
// folder.
//
// The test pattern is a 160x120 (4:3) PNG of four solid quadrants (top-left red, top-right
// green, bottom-left blue, bottom-right white, plus black ticks on its edges that cover crops
// away and fill keeps) on a 320x180 (16:9) screen with solid bars
// (--background '#202020'). Where each quadrant must land is computed here from what the options
// mean, not from src/plan: the picture is fitted into a canvas (the screen's size, turned for 90
// and 270), and the canvas is turned `rotate` degrees clockwise onto the panel. Sample points
// keep a few pixels away from every edge so that resampling (and SR) cannot blur them.
import { rmSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import t, { type Test } from 'tap';
import { daemonDirs, startDaemon, type DaemonDirs, type RunningDaemon, type Screen } from '../helpers/daemon.js';

type RGB = [number, number, number];
type Fit = 'contain' | 'cover' | 'fill';
type Rotation = 0 | 90 | 180 | 270;

const RED: RGB = [255, 0, 0];
const GREEN: RGB = [0, 255, 0];
const BLUE: RGB = [0, 0, 255];
const WHITE: RGB = [255, 255, 255];
const BAR: RGB = [0x20, 0x20, 0x20];
const IDLE_BACKGROUND: RGB = [0x15, 0x18, 0x1c];

const SCREEN = { width: 320, height: 180 };
const PATTERN = { width: 160, height: 120 };
/** Per channel. */
const TOLERANCE = 10;
/** Sample points stay this many screen pixels away from every edge of a region. */
const MARGIN = 6;

const names = new Map<string, string>([[RED.join(), 'red'], [GREEN.join(), 'green'], [BLUE.join(), 'blue'], [WHITE.join(), 'white'], [BAR.join(), 'bar']]);
const nameOf = (rgb: RGB) => names.get(rgb.join()) ?? `rgb(${rgb.join(',')})`;
const close = (actual: RGB, expected: RGB, tolerance = TOLERANCE) => actual.every((v, i) => Math.abs(v - expected[i]!) <= tolerance);

/**
 * Black ticks on the pattern's edges, off the quadrant boundaries (image pixels, end exclusive).
 * cover crops the top and bottom ones (rotate 0/180: rows 15..105 are shown) or the left and
 * right ones (rotate 90/270: columns 46..114), fill and contain show all four: without them a
 * cover that stretched like fill would put the quadrants in the same places.
 */
const TICKS = [
  { x0: 60, x1: 76, y0: 0, y1: 14 }, // top, in red
  { x0: 84, x1: 100, y0: 106, y1: 120 }, // bottom, in white
  { x0: 0, x1: 14, y0: 66, y1: 90 }, // left, in blue
  { x0: 146, x1: 160, y0: 30, y1: 54 }, // right, in green
];
const BLACK: RGB = [0, 0, 0];
names.set(BLACK.join(), 'black');

/** The pattern: solid quadrants (top-left red, top-right green, bottom-left blue, bottom-right white) and the black ticks. */
function patternAt(x: number, y: number): RGB {
  if (TICKS.some((r) => x >= r.x0 && x < r.x1 && y >= r.y0 && y < r.y1)) return BLACK;
  return y < PATTERN.height / 2 ? (x < PATTERN.width / 2 ? RED : GREEN) : (x < PATTERN.width / 2 ? BLUE : WHITE);
}

async function patternPng(): Promise<Buffer> {
  const { width, height } = PATTERN;
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(patternAt(x + 0.5, y + 0.5), (y * width + x) * 3);
  return sharp(data, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

async function solidPng(rgb: RGB, width = 160, height = 90): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toBuffer();
}

/** Writes next to the folder, then renames into it: the daemon only ever sees a complete file. */
async function drop(dirs: DaemonDirs, name: string, bytes: Buffer): Promise<void> {
  const temporary = join(dirs.root, `incoming-${name}`);
  await writeFile(temporary, bytes);
  await rename(temporary, join(dirs.folder, name));
}

// ---- where the pattern must land ----

/**
 * The colour screen pixel (x, y) must have, or null when it is too close to an edge to tell.
 * The picture turned r degrees clockwise: with 90, the canvas's top-left corner is at the screen's
 * top-right corner; the canvas is 180x320 for 90 and 270.
 */
function expectedAt(fit: Fit, rotate: Rotation, x: number, y: number): RGB | null {
  const turned = rotate === 90 || rotate === 270;
  const canvas = turned ? { width: SCREEN.height, height: SCREEN.width } : { ...SCREEN };
  // Screen pixel centre -> canvas point (the inverse of turning the canvas clockwise).
  const sx = x + 0.5;
  const sy = y + 0.5;
  const [cx, cy] = rotate === 0 ? [sx, sy]
    : rotate === 90 ? [sy, canvas.height - sx]
    : rotate === 180 ? [canvas.width - sx, canvas.height - sy]
    : [canvas.width - sy, sx];
  // Where the whole image lies on the canvas (cover: larger than the canvas, the overflow cropped).
  let image: { x: number; y: number; width: number; height: number };
  if (fit === 'fill') image = { x: 0, y: 0, ...canvas };
  else {
    const ratios = [canvas.width / PATTERN.width, canvas.height / PATTERN.height];
    const scale = fit === 'contain' ? Math.min(...ratios) : Math.max(...ratios);
    const width = PATTERN.width * scale;
    const height = PATTERN.height * scale;
    image = { x: (canvas.width - width) / 2, y: (canvas.height - height) / 2, width, height };
  }
  const inside = cx >= image.x && cx < image.x + image.width && cy >= image.y && cy < image.y + image.height;
  // Away from the image's edges by MARGIN (in pixels: turning keeps them), or not judged.
  const edges = [cx - image.x, image.x + image.width - cx, cy - image.y, image.y + image.height - cy].map(Math.abs);
  if (Math.min(...edges) < MARGIN) return null;
  if (!inside) return BAR;
  // The pattern's colour there, if it is the same all around within MARGIN screen pixels.
  const scaleX = image.width / PATTERN.width;
  const scaleY = image.height / PATTERN.height;
  const ix = (cx - image.x) / scaleX;
  const iy = (cy - image.y) / scaleY;
  const colour = patternAt(ix, iy);
  for (const [dx, dy] of [[-1, 0], [1, 0], [0, -1], [0, 1], [-0.7, -0.7], [0.7, -0.7], [-0.7, 0.7], [0.7, 0.7]] as const) {
    const clampX = Math.min(PATTERN.width - 0.01, Math.max(0, ix + (dx * MARGIN) / scaleX));
    const clampY = Math.min(PATTERN.height - 0.01, Math.max(0, iy + (dy * MARGIN) / scaleY));
    if (patternAt(clampX, clampY) !== colour) return null;
  }
  return colour;
}

/** Which quadrant is at each corner of the picture on the panel, as the rotation's definition says. */
const cornerColours: Record<Rotation, { topLeft: RGB; topRight: RGB; bottomLeft: RGB; bottomRight: RGB }> = {
  0: { topLeft: RED, topRight: GREEN, bottomLeft: BLUE, bottomRight: WHITE },
  90: { topLeft: BLUE, topRight: RED, bottomLeft: WHITE, bottomRight: GREEN },
  180: { topLeft: WHITE, topRight: BLUE, bottomLeft: GREEN, bottomRight: RED },
  270: { topLeft: GREEN, topRight: WHITE, bottomLeft: RED, bottomRight: BLUE },
};

/**
 * The picture's area on the panel (screen pixels, end exclusive). contain 0/180: 240x180 centred
 * (x 40..280); contain 90/270: the 4:3 image is 180x135 on the 180x320 canvas, which is 135 wide
 * and 180 high on the panel (x 92.5..227.5); cover and fill: the whole screen.
 */
function pictureArea(fit: Fit, rotate: Rotation): { x0: number; x1: number; y0: number; y1: number } {
  if (fit !== 'contain') return { x0: 0, x1: 320, y0: 0, y1: 180 };
  return rotate === 0 || rotate === 180 ? { x0: 40, x1: 280, y0: 0, y1: 180 } : { x0: 92.5, x1: 227.5, y0: 0, y1: 180 };
}

function checkPlacement(t: Test, screen: Screen, fit: Fit, rotate: Rotation): void {
  t.same([screen.width, screen.height], [SCREEN.width, SCREEN.height], 'the capture has the screen size');
  const at = (x: number, y: number) => screen.pixel(Math.round(x), Math.round(y)) as RGB;

  // The four corners of the picture (8 px inside), named per the rotation's definition.
  const area = pictureArea(fit, rotate);
  const inset = 8;
  const corners = cornerColours[rotate];
  const points: Array<[string, number, number, RGB]> = [
    ['top-left', area.x0 + inset, area.y0 + inset, corners.topLeft],
    ['top-right', area.x1 - 1 - inset, area.y0 + inset, corners.topRight],
    ['bottom-left', area.x0 + inset, area.y1 - 1 - inset, corners.bottomLeft],
    ['bottom-right', area.x1 - 1 - inset, area.y1 - 1 - inset, corners.bottomRight],
  ];
  for (const [where, x, y, colour] of points) {
    const actual = at(x, y);
    t.ok(close(actual, colour), `picture's ${where} corner (${Math.round(x)},${Math.round(y)}) is ${nameOf(colour)}`, { actual, expected: colour });
  }
  // contain's bars left and right (#202020); cover and fill have none: the edges are picture.
  for (const [where, x] of [['left', 4], ['right', SCREEN.width - 5]] as const) {
    for (const y of [4, 90, SCREEN.height - 5]) {
      const actual = at(x, y);
      if (fit === 'contain') t.ok(close(actual, BAR), `${where} bar at (${x},${y}) is #202020`, { actual });
      else t.notOk(close(actual, BAR), `no bar at the ${where} edge (${x},${y})`, { actual });
    }
  }
  // contain: the picture's edges are where they should be (just inside: picture; just outside: bar).
  if (fit === 'contain') {
    const y = rotate === 0 || rotate === 180 ? 45 : 30;
    for (const [x, inPicture] of [[area.x0 - 4, false], [area.x0 + 3, true], [area.x1 - 4, true], [area.x1 + 3, false]] as const) {
      const actual = at(x, y);
      if (inPicture) t.notOk(close(actual, BAR), `(${Math.round(x)},${y}) is picture, not bar`, { actual });
      else t.ok(close(actual, BAR), `(${Math.round(x)},${y}) is bar`, { actual });
    }
  }

  // Every 5th pixel of the screen, away from edges, against the model.
  const wrong: string[] = [];
  let checked = 0;
  let ticks = 0;
  for (let y = 2; y < SCREEN.height; y += 5) {
    for (let x = 2; x < SCREEN.width; x += 5) {
      const colour = expectedAt(fit, rotate, x, y);
      if (!colour) continue;
      checked++;
      if (colour === BLACK) ticks++;
      const actual = at(x, y);
      if (!close(actual, colour)) wrong.push(`(${x},${y}) is rgb(${actual.join(',')}), expected ${nameOf(colour)}`);
    }
  }
  t.ok(checked > 1500, `${checked} grid points checked`);
  // The grid reaches the ticks (fill and contain show all four, cover two): they tell cover from fill.
  t.ok(ticks >= 5, `${ticks} of them on the black ticks`);
  t.same(wrong.slice(0, 10), [], `all ${checked} grid points have the expected colour (${wrong.length} wrong)`);
}

// ---- the cases ----

interface PlacementCase {
  fit: Fit;
  rotate: Rotation;
  /** Default: none (resampled only; placement is the same). */
  model?: string;
}

const cases: PlacementCase[] = [
  ...(['contain', 'cover', 'fill'] as const).flatMap((fit) => ([0, 90, 180, 270] as const).map((rotate) => ({ fit, rotate }))),
  // SR (one x2 step: the pattern grows 1.5x) keeps the placement.
  { fit: 'contain', rotate: 180, model: 'uprez-x2' },
];

async function started(t: Test, args: string[], files: Record<string, Buffer> = {}): Promise<RunningDaemon> {
  const dirs = daemonDirs('uprez-placement-');
  for (const [name, bytes] of Object.entries(files)) await writeFile(join(dirs.folder, name), bytes);
  const daemon = startDaemon(dirs, args);
  t.teardown(async () => {
    await daemon.stop('SIGKILL');
    rmSync(dirs.root, { recursive: true, force: true });
  });
  return daemon;
}

t.test('placement: every fit and rotation puts the quadrants where they belong', async (t) => {
  const pattern = await patternPng();
  for (const { fit, rotate, model = 'none' } of cases) {
    await t.test(`${fit}, rotate ${rotate}, model ${model}`, async (t) => {
      const daemon = await started(t, [
        '--size', `${SCREEN.width}x${SCREEN.height}`, '--background', '#202020', '--transition', 'cut', '--interval', '60',
        '--fit', fit, '--rotate', String(rotate), '--model', model, '--explain',
      ], { 'pattern.png': pattern });
      const state = model === 'none' ? 'resampled' : 'super-resolved';
      const status = await daemon.until((s) => s.current?.id === 'pattern.png' && s.current.state === state, `pattern.png ${state}`);
      await daemon.waitForLine(model === 'none' ? /event=shown id=pattern\.png / : /event=shown id=pattern\.png version=final/);
      t.equal(status.display.rotate, rotate, `/status reports rotate ${rotate}`);
      t.same(status.current.decoded, PATTERN, 'the pattern was decoded at 160x120');
      if (model !== 'none') t.equal(status.current.steps, 1, 'one SR x2 step (the pattern grows 1.5x)');
      checkPlacement(t, await daemon.screen(), fit, rotate);
    });
  }
});

t.test('crossfade: intermediate frames mix the two pictures, the last one is the new picture', async (t) => {
  const daemon = await started(t, [
    '--transition', 'crossfade', '--transition-ms', '3000', '--model', 'none', '--fit', 'fill', '--interval', '60', '--on-new', 'show',
  ], { 'a.png': await solidPng(RED) });
  await daemon.waitForLine(/event=shown id=a\.png /);
  const before = await daemon.screen();
  t.ok(close(before.pixel(160, 90), RED) && close(before.pixel(5, 5), RED), 'a.png (red) fills the screen before the fade', { actual: before.pixel(160, 90) });

  const shownB = daemon.waitForNewLine(/event=shown id=b\.png /, 30_000);
  let done = false;
  void shownB.then(() => (done = true), () => (done = true));
  await drop(daemon.dirs, 'b.png', await solidPng(BLUE));
  const samples: RGB[] = [];
  const uneven: string[] = [];
  while (!done) {
    const screen = await daemon.screen();
    const centre = screen.pixel(160, 90) as RGB;
    // A crossfade mixes the whole picture evenly: the corners agree with the centre.
    for (const [x, y] of [[3, 3], [316, 176]] as const) {
      const corner = screen.pixel(x, y) as RGB;
      if (!close(corner, centre, 6)) uneven.push(`(${x},${y}) rgb(${corner.join(',')}) vs centre rgb(${centre.join(',')})`);
    }
    samples.push(centre);
  }
  t.same(uneven, [], 'every capture during the fade is one even mix (corners = centre)');
  const line = await shownB;
  const mixes = samples.filter(([r, g, b]) => r >= 30 && r <= 225 && b >= 30 && b <= 225 && g <= TOLERANCE);
  const middle = mixes[Math.floor(mixes.length / 2)];
  t.ok(mixes.length >= 1, `at least one capture is a red-blue mix (${mixes.length} of ${samples.length} captures${middle ? `, e.g. rgb(${middle.join(',')})` : ''})`);
  // The fade runs one way: red never comes back.
  const back = samples.findIndex(([r], i) => i > 0 && r > samples[i - 1]![0] + 2);
  t.equal(back, -1, 'red only decreases during the fade', back >= 0 ? { before: samples[back - 1], after: samples[back] } : {});
  const frames = Number(/frames=(\d+)/.exec(line)?.[1]);
  t.ok(frames > 5, `the crossfade took ${frames} frames (> 5): ${line}`);

  const after = await daemon.screen();
  for (const [x, y] of [[3, 3], [316, 3], [160, 90], [3, 176], [316, 176]] as const) {
    t.ok(close(after.pixel(x, y) as RGB, BLUE), `after the fade (${x},${y}) is pure blue`, { actual: after.pixel(x, y) });
  }
});

t.test('idle card: an empty folder shows the idle card, /status current is null, /healthz is ok', async (t) => {
  const daemon = await started(t, ['--model', 'none']);
  await daemon.waitForLine(/event=frame\.shown what="idle card"/);
  await daemon.waitForLine(/event=slideshow\.ready images=0/);
  const status = await daemon.status();
  t.equal(status.current, null, '/status current is null');
  t.equal(status.queue.images, 0, 'no images in the queue');
  const screen = await daemon.screen();
  for (const [x, y] of [[3, 3], [316, 3], [3, 176], [316, 176]] as const) {
    t.ok(close(screen.pixel(x, y) as RGB, IDLE_BACKGROUND, 3), `(${x},${y}) is the idle card's #15181c`, { actual: screen.pixel(x, y) });
  }
  // The card has text (the title in light grey), not just its background.
  let brightest = 0;
  for (let i = 0; i < screen.data.length; i++) brightest = Math.max(brightest, screen.data[i]!);
  t.ok(brightest > 150, `the card shows text (brightest channel ${brightest})`);
  const health = await fetch(await daemon.url('/healthz'));
  t.equal(health.status, 200, '/healthz answers 200');
  t.equal((await health.text()).trim(), 'ok', "/healthz says 'ok'");
});
