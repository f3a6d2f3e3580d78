// planPlacement and rotateUv: pure arithmetic, so every expectation here is worked out by hand
// from what the options mean (contain: the whole picture, centred, with bars; cover: the
// canvas filled, the overflow cropped, centred; fill: stretched), not recomputed the way
// placement.ts computes it.
import t from 'tap';
import {
  canvasSize,
  MIN_GROWTH_FOR_SR,
  MIN_GROWTH_FOR_TWO_STEPS,
  planPlacement,
  type Fit,
  type Placement,
  type PlacementOptions,
  type Rect,
  type Rotation,
  type Size,
} from '../../src/plan/placement.js';
import { rotateUv } from '../../src/show/compositor.js';

const FITS: Fit[] = ['contain', 'cover', 'fill'];
const ROTATIONS: Rotation[] = [0, 90, 180, 270];
const HD: Size = { width: 1920, height: 1080 };
const UHD: Size = { width: 3840, height: 2160 };

function plan(width: number, height: number, screen: Size, options: Partial<PlacementOptions> = {}): Placement {
  return planPlacement({ width, height }, screen, { fit: 'contain', rotate: 0, srAvailable: true, ...options });
}

const whole = (width: number, height: number): Rect => ({ x: 0, y: 0, width, height });

t.test('contain: 16:9 on a 16:9 screen fills it exactly, whole image, no bars', async (t) => {
  const p = plan(1920, 1080, UHD);
  t.same(p.canvas, UHD);
  t.same(p.crop, whole(1920, 1080));
  t.same(p.target, whole(3840, 2160));
  t.equal(p.growth, 2);
});

t.test('contain: 4:3 on a 16:9 screen is pillarboxed, centred, aspect kept', async (t) => {
  // 1600x1200 scaled by 1080/1200 = 0.9: 1440x1080, with (1920 - 1440) / 2 = 240 on each side.
  const p = plan(1600, 1200, HD);
  t.same(p.target, { x: 240, y: 0, width: 1440, height: 1080 });
  t.same(p.crop, whole(1600, 1200), 'contain never crops');

  // An odd screen: 640x480 on 1366x768 is 1024x768 with 342 pixels of bars, 171 each side.
  const odd = plan(640, 480, { width: 1366, height: 768 });
  t.same(odd.target, { x: 171, y: 0, width: 1024, height: 768 });

  // And one where the rounding matters: the aspect stays 4:3 to within a pixel.
  const q = plan(1023, 767, { width: 1279, height: 719 });
  t.equal(q.target.height, 719, 'touches the top and bottom');
  t.ok(Math.abs(q.target.width - (q.target.height * 1023) / 767) <= 1, `aspect kept within a pixel (${q.target.width}x${q.target.height})`);
  const left = q.target.x;
  const right = 1279 - q.target.x - q.target.width;
  t.ok(left >= 0 && right >= 0 && Math.abs(left - right) <= 1, `centred (bars ${left} and ${right})`);
});

t.test('contain: a portrait image on a landscape screen has bars left and right', async (t) => {
  // 1080x1920 scaled by 1080/1920: 607.5 → 608 wide; (1920 - 608) / 2 = 656.
  const p = plan(1080, 1920, HD);
  t.same(p.target, { x: 656, y: 0, width: 608, height: 1080 });
  t.same(p.cpuDownscale, { width: 608, height: 1080 }, 'shrunk on the CPU to the target');
  t.equal(p.srSteps, 0);
  // A landscape panorama on a portrait (rotated) canvas: bars above and below.
  const pano = plan(3000, 1000, HD, { rotate: 90 });
  t.same(pano.canvas, { width: 1080, height: 1920 });
  t.same(pano.target, { x: 0, y: 780, width: 1080, height: 360 });
});

t.test('cover: fills the canvas, crops the overflow centred, crop has the canvas aspect', async (t) => {
  // 1600x1200 on 1920x1080: scale 1.2, so 1600x900 of it is shown, 150 rows cut at top and bottom.
  const p = plan(1600, 1200, HD, { fit: 'cover' });
  t.same(p.target, whole(1920, 1080));
  t.same(p.crop, { x: 0, y: 150, width: 1600, height: 900 });

  // Portrait on landscape: 1080 wide, 1080 * 9 / 16 = 607.5 → 608 tall, from (1920 - 608) / 2 = 656.
  const portrait = plan(1080, 1920, HD, { fit: 'cover' });
  t.same(portrait.crop, { x: 0, y: 656, width: 1080, height: 608 });

  // A wide image on a turned (portrait) canvas: full height, 1000 * 1080 / 1920 = 562.5 → 563 wide.
  const wide = plan(3000, 1000, HD, { fit: 'cover', rotate: 270 });
  t.same(wide.target, whole(1080, 1920));
  t.equal(wide.crop.height, 1000);
  t.ok(Math.abs(wide.crop.width - 562.5) <= 0.5, `crop width ${wide.crop.width}`);
  t.ok(Math.abs(wide.crop.x * 2 + wide.crop.width - 3000) <= 1, `crop centred (x ${wide.crop.x})`);

  for (const [w, h] of [[1600, 1200], [1080, 1920], [777, 333], [5000, 4999]] as const) {
    const c = plan(w, h, HD, { fit: 'cover' }).crop;
    t.ok(Math.abs(c.width - (c.height * 16) / 9) <= 1, `${w}x${h}: crop ${c.width}x${c.height} is 16:9 within a pixel`);
    t.ok(c.width === w || c.height === h, `${w}x${h}: the crop keeps one whole dimension`);
  }
});

t.test('fill: never crops, always the whole canvas', async (t) => {
  for (const [w, h] of [[1600, 1200], [1080, 1920], [20000, 100], [1, 1], [3840, 2160]] as const) {
    for (const rotate of ROTATIONS) {
      const p = plan(w, h, HD, { fit: 'fill', rotate });
      t.same(p.crop, whole(w, h), `${w}x${h} rotate ${rotate}: whole image`);
      t.same(p.target, whole(p.canvas.width, p.canvas.height), `${w}x${h} rotate ${rotate}: whole canvas`);
    }
  }
});

t.test('rotations 90 and 270 swap the canvas; 0 and 180 do not', async (t) => {
  t.same(canvasSize(HD, 0), { width: 1920, height: 1080 });
  t.same(canvasSize(HD, 90), { width: 1080, height: 1920 });
  t.same(canvasSize(HD, 180), { width: 1920, height: 1080 });
  t.same(canvasSize(HD, 270), { width: 1080, height: 1920 });
  for (const rotate of ROTATIONS) {
    const turned = rotate === 90 || rotate === 270;
    const p = plan(1920, 1080, HD, { rotate });
    t.same(p.canvas, turned ? { width: 1080, height: 1920 } : HD, `rotate ${rotate}: canvas`);
    // A 16:9 picture on a portrait canvas: 1080x608 (607.5 rounded), centred: (1920 - 608) / 2 = 656.
    t.same(p.target, turned ? { x: 0, y: 656, width: 1080, height: 608 } : whole(1920, 1080), `rotate ${rotate}: target`);
  }
});

t.test('SR steps from how much the picture grows', async (t) => {
  const one = plan(1920, 1080, UHD);
  t.equal(one.srSteps, 1, '1920x1080 on 3840x2160 (x2): one step');
  t.equal(one.cpuDownscale, null);

  t.equal(plan(960, 540, UHD).srSteps, 2, '960x540 on 3840x2160 (x4): two steps');

  const same = plan(3840, 2160, UHD);
  t.equal(same.srSteps, 0, '3840x2160 on 3840x2160: no step');
  t.equal(same.cpuDownscale, null, 'and no CPU shrink');
  t.match(same.reason, /already at screen size/);

  // 6000x4000 (3:2) on 3840x2160: contain is 3240x2160; the CPU shrinks to that, no SR.
  const big = plan(6000, 4000, UHD);
  t.same(big.target, { x: 300, y: 0, width: 3240, height: 2160 });
  t.same(big.cpuDownscale, { width: 3240, height: 2160 });
  t.ok(big.cpuDownscale!.width <= big.target.width && big.cpuDownscale!.height <= big.target.height, 'at most the target');
  t.equal(big.srSteps, 0);
  t.ok(big.growth < 1, `growth ${big.growth} is a shrink`);

  // The thresholds, exactly (fill on a square: the growth is the screen side / 1000).
  const steps = (side: number) => plan(1000, 1000, { width: side, height: side }, { fit: 'fill' }).srSteps;
  const atSr = Math.round(MIN_GROWTH_FOR_SR * 1000);
  const atTwo = Math.round(MIN_GROWTH_FOR_TWO_STEPS * 1000);
  t.equal(steps(atSr - 1), 0, `just under x${MIN_GROWTH_FOR_SR}: resample only`);
  t.equal(steps(atSr), 1, `at x${MIN_GROWTH_FOR_SR}: one step`);
  t.equal(steps(atTwo), 1, `at x${MIN_GROWTH_FOR_TWO_STEPS}: still one step`);
  t.equal(steps(atTwo + 1), 2, `just over x${MIN_GROWTH_FOR_TWO_STEPS}: two steps`);

  // fill's stretched axis: shrunk in width on the CPU, still grown in height.
  const stretched = plan(3000, 500, HD, { fit: 'fill' });
  t.same(stretched.cpuDownscale, { width: 1920, height: 500 });
  t.equal(stretched.srSteps, 1, 'grows 1080/500 = 2.16 in height: one step');
});

t.test('no model: never an SR step', async (t) => {
  for (const fit of FITS) {
    for (const [w, h] of [[960, 540], [100, 100], [1920, 1080]] as const) {
      const p = plan(w, h, UHD, { fit, srAvailable: false });
      t.equal(p.srSteps, 0, `${fit} ${w}x${h}`);
      t.match(p.reason, /no model/, `${fit} ${w}x${h}: says why`);
    }
  }
  t.equal(plan(960, 540, UHD, { srAvailable: true }).srSteps, 2, 'the same picture with a model gets two');
});

t.test('tiny and extreme images never give an empty or out-of-canvas target', async (t) => {
  const inside = (rect: Rect, area: Size) =>
    [rect.x, rect.y, rect.width, rect.height].every(Number.isInteger) &&
    rect.width >= 1 && rect.height >= 1 && rect.x >= 0 && rect.y >= 0 &&
    rect.x + rect.width <= area.width && rect.y + rect.height <= area.height;
  for (const [w, h] of [[1, 1], [20000, 100], [100, 20000], [1, 20000], [20000, 1]] as const) {
    for (const screen of [HD, UHD, { width: 7, height: 3 }]) {
      for (const fit of FITS) {
        for (const rotate of ROTATIONS) {
          const p = plan(w, h, screen, { fit, rotate });
          const what = `${w}x${h} ${fit} rotate ${rotate} on ${screen.width}x${screen.height}`;
          t.ok(inside(p.target, p.canvas), `${what}: target ${JSON.stringify(p.target)} inside the canvas`);
          t.ok(inside(p.crop, { width: w, height: h }), `${what}: crop ${JSON.stringify(p.crop)} inside the image`);
          if (p.cpuDownscale) {
            const d = p.cpuDownscale;
            t.ok(d.width >= 1 && d.height >= 1 && d.width <= p.crop.width && d.height <= p.crop.height, `${what}: CPU shrink ${d.width}x${d.height}`);
          }
        }
      }
    }
  }
  // The exact answers for a few of them.
  t.same(plan(1, 1, HD).target, { x: 420, y: 0, width: 1080, height: 1080 }, '1x1 contain: a centred square');
  t.same(plan(20000, 100, HD).target, { x: 0, y: 535, width: 1920, height: 10 }, '20000x100 contain: a thin band');
  t.same(plan(100, 20000, HD).target, { x: 957, y: 0, width: 5, height: 1080 }, '100x20000 contain: a thin column');
  t.same(plan(20000, 100, HD, { fit: 'cover' }).crop, { x: 9911, y: 0, width: 178, height: 100 }, '20000x100 cover: the middle');
  t.throws(() => plan(0, 10, HD), RangeError, 'an empty image is refused');
});

t.test('rotateUv: each screen corner reads the right canvas corner', async (t) => {
  // Screen and canvas corners as (s, t) / (u, v), t and v down. The picture is turned `rotate`
  // degrees clockwise on the panel, so for 90 the canvas's top-left corner is at the screen's
  // top-right, its top-right at the screen's bottom-right, and so on round.
  const TL: [number, number] = [0, 0];
  const TR: [number, number] = [1, 0];
  const BR: [number, number] = [1, 1];
  const BL: [number, number] = [0, 1];
  const expected: Record<Rotation, [[number, number], [number, number]][]> = {
    0: [[TL, TL], [TR, TR], [BR, BR], [BL, BL]],
    90: [[TR, TL], [BR, TR], [BL, BR], [TL, BL]],
    180: [[BR, TL], [BL, TR], [TL, BR], [TR, BL]],
    270: [[BL, TL], [TL, TR], [TR, BR], [BR, BL]],
  };
  for (const rotate of ROTATIONS) {
    for (const [screen, canvas] of expected[rotate]) {
      t.same(rotateUv(screen[0], screen[1], rotate), canvas, `rotate ${rotate}: screen (${screen}) reads canvas (${canvas})`);
    }
    t.same(rotateUv(0.5, 0.5, rotate), [0.5, 0.5], `rotate ${rotate}: the centre stays`);
  }
  // A point off the diagonals, so that a mirror cannot pass for a turn: for 90, a point near the
  // screen's top edge, left of centre, reads the canvas near its left edge, below the centre.
  t.same(rotateUv(0.25, 0.1, 90), [0.1, 0.75]);
  t.same(rotateUv(0.25, 0.1, 270), [0.9, 0.25]);
});
