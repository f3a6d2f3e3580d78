// ScreenThread holds back the newest picture while the display thread composes one (pictures
// that come faster than they are composed are replaced before costing a composition). Nothing
// may wait for a first frame that never comes: while the screen is blank (the schedule's off
// hours) the display thread draws no frames, so pictures and requests go through at once, and
// unblanking shows the newest. Against the real display thread on the headless backend.
import t from 'tap';
import type { PictureSpec } from '../../src/show/compositor.js';
import { ScreenThread } from '../../src/show/screen-thread.js';

const SIZE = { width: 64, height: 36 };

function picture(rgb: [number, number, number]): PictureSpec {
  const data = new Uint8Array(SIZE.width * SIZE.height * 3);
  for (let i = 0; i < data.length; i += 3) data.set(rgb, i);
  return {
    canvas: SIZE, background: { kind: 'colour', rgb: [0, 0, 0] },
    image: { width: SIZE.width, height: SIZE.height, channels: 3, data }, target: { x: 0, y: 0, ...SIZE },
  };
}

/** `promise`, or an error after `ms`; the timer is cleared once it settles (a pending one would keep the test's process alive). */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<T>((_resolve, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

t.test('while blank, pictures do not wait for a first frame; unblanked, the newest is shown', async (t) => {
  const screen = await ScreenThread.open({ backend: 'headless', headlessSize: SIZE }, 0);
  t.teardown(() => screen.close());
  const shown = new Map<number, boolean>();
  screen.on('shown', (report) => shown.set(report.pictureId, report.interrupted));
  const first = screen.show(picture([200, 0, 0]), 0);
  await within(new Promise<void>((resolve) => screen.on('shown', (r) => r.pictureId === first && resolve())), 10_000, 'the first picture');

  screen.setBlank(true);
  // Crossfades while blank: none of them draws a frame until the screen is on again.
  screen.show(picture([0, 200, 0]), 300);
  screen.show(picture([0, 0, 200]), 300);
  const last = screen.show(picture([200, 200, 0]), 300);
  const during = await within(screen.capture(), 10_000, 'a capture while blank');
  t.equal(during.width, SIZE.width, 'a capture answers while blank (it does not wait behind a held picture)');
  t.ok(during.data.every((byte, i) => (i % 4 === 3 ? byte === 255 : byte === 0)), 'and it is black, as the screen (not the picture mixed with the crossfades waiting)');

  screen.setBlank(false);
  await within(new Promise<void>((resolve) => {
    if (shown.get(last) === false) resolve();
    screen.on('shown', (r) => r.pictureId === last && !r.interrupted && resolve());
  }), 10_000, 'the newest picture after unblanking');
  const capture = await within(screen.capture(), 10_000, 'a capture after unblanking');
  t.same([...capture.data.subarray(0, 3)], [200, 200, 0], 'unblanked, the newest picture is on screen');
});
