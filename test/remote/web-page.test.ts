// The web page (GET /) in a real browser (Debian's chromium, headless, driven by playwright-core)
// against the real daemon with a token:
//   1. opened with ?token=, it connects, keeps the token and shows what the wall shows;
//   2. a picture dropped on it is pushed (progress bar shown), and its screen view shows the
//      preview, then the super-resolved version, pixel for pixel what /screen.png has; the list
//      names it; Next and Pause work; a picture that does not decode is refused with the
//      daemon's reason; it fits a phone's screen; no console errors;
//   3. a wrong token shows the daemon's error and asks for the token, which then connects.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import sharp from 'sharp';
import t from 'tap';
import { daemonDirs, startDaemon, type RunningDaemon } from '../helpers/daemon.js';

type RGB = [number, number, number];

// Browser globals, used only inside functions that page.evaluate runs in the page (this project
// compiles without the DOM library).
declare const window: any, document: any, localStorage: any, MutationObserver: any, DataTransfer: any;

const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'web-page-test-token-0123456789';
const RED: RGB = [0xd0, 0x20, 0x20];
const BLUE: RGB = [0x20, 0x40, 0xd0];
const GREEN: RGB = [0x20, 0xc0, 0x40];

const close = (actual: RGB, expected: RGB, tolerance = 12) => actual.every((v, i) => Math.abs(v - expected[i]!) <= tolerance);

/** What the page's screen view showed each time it loaded a capture (recorded in the page). */
interface ScreenView {
  loads: number;
  id: string;
  state: string;
  caption: string;
  width: number;
  height: number;
  left: RGB;
  right: RGB;
}

function solid(rgb: RGB, width = 160, height = 90): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toBuffer();
}

/** Left half red, right half blue: unlike the idle card or a solid picture, either way round. */
async function halves(width = 160, height = 90): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(x < width / 2 ? RED : BLUE, (y * width + x) * 3);
  }
  return sharp(data, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

/** Records every capture the page's <img id="screen-img"> loads: its data-*, caption and two pixels. */
function recordScreenViews(page: Page): Promise<void> {
  return page.evaluate(() => {
    const views: unknown[] = [];
    window.screenViews = views;
    const img = document.getElementById('screen-img');
    const canvas = document.createElement('canvas');
    new MutationObserver(() => {
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      const context = canvas.getContext('2d', { willReadFrequently: true });
      context.drawImage(img, 0, 0);
      const at = (x: number, y: number) => [...context.getImageData(Math.floor(x * canvas.width), Math.floor(y * canvas.height), 1, 1).data.slice(0, 3)];
      views.push({
        loads: Number(img.dataset.loads), id: img.dataset.id, state: img.dataset.state,
        caption: document.getElementById('screen-caption').textContent, width: img.naturalWidth, height: img.naturalHeight,
        left: at(0.25, 0.5), right: at(0.75, 0.5),
      });
    }).observe(img, { attributes: true, attributeFilter: ['data-loads'] });
  });
}

const screenViews = (page: Page) => page.evaluate((): ScreenView[] => window.screenViews);

/** Waits until the page has shown a capture that `check` accepts; returns all captures so far. */
async function waitForView(page: Page, check: (view: ScreenView) => boolean, what: string, timeoutMs = 60_000): Promise<ScreenView[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const views = await screenViews(page);
    if (views.some(check)) return views;
    if (Date.now() > deadline) throw new Error(`the page's screen view never showed ${what}; it showed: ${JSON.stringify(views)}`);
    await page.waitForTimeout(100);
  }
}

/** /screen.png with the token (RunningDaemon.screen sends none), as RGB. */
async function wallScreen(daemon: RunningDaemon): Promise<{ width: number; height: number; data: Buffer; pixel(x: number, y: number): RGB }> {
  const response = await fetch(await daemon.url('/screen.png'), { headers: { authorization: `Bearer ${TOKEN}` } });
  if (response.status !== 200) throw new Error(`/screen.png: ${response.status} ${await response.text()}`);
  const { data, info } = await sharp(Buffer.from(await response.arrayBuffer())).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const pixel = (x: number, y: number): RGB => {
    const i = (y * info.width + x) * 3;
    return [data[i]!, data[i + 1]!, data[i + 2]!];
  };
  return { width: info.width, height: info.height, data, pixel };
}

/** Console errors and uncaught exceptions of a page. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  return errors;
}

const haveBrowser = existsSync(CHROMIUM);
const skip = haveBrowser || process.env.UPREZ_REQUIRE_BROWSER ? false
  : `${CHROMIUM} is missing (Debian package chromium; npm test installs it, or set UPREZ_REQUIRE_BROWSER=1 to fail instead)`;
if (!haveBrowser && process.env.UPREZ_REQUIRE_BROWSER) t.fail(`the browser test cannot run: ${CHROMIUM} is missing (apt-get install chromium)`);

t.test('the web page against the daemon, in chromium', { skip: skip || !haveBrowser }, async (t) => {
  const dirs = daemonDirs('uprez-web-');
  await writeFile(join(dirs.folder, 'green.png'), await solid(GREEN));
  const daemon = startDaemon(dirs, ['--token', TOKEN, '--transition', 'cut', '--interval', '600', '--background', '#000000']);
  t.teardown(() => daemon.stop('SIGKILL'));
  await daemon.waitForLine(/event=shown id=green\.png/);

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  t.teardown(() => browser.close());

  await t.test('the page files are public, with their content types', async (t) => {
    for (const [path, type] of [['/', 'text/html'], ['/app.js', 'text/javascript'], ['/style.css', 'text/css']] as const) {
      const response = await fetch(await daemon.url(path));
      t.equal(response.status, 200, `${path} needs no token`);
      t.match(response.headers.get('content-type'), type, `${path} is ${type}`);
    }
    t.equal((await fetch(await daemon.url('/status'))).status, 401, '/status still needs the token');
  });

  await t.test('with ?token=: push by drop, preview then SR in the screen view, controls, a refused picture', async (t) => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    t.teardown(() => context.close());
    const page = await context.newPage();
    const errors = watchErrors(page);

    await page.goto(await daemon.url(`/?token=${TOKEN}`));
    await page.waitForSelector('#connection[data-state="connected"]', { timeout: 30_000 });
    t.equal(new URL(page.url()).search, '', 'the token is taken out of the address bar');
    t.equal(await page.evaluate(() => localStorage.getItem('uprez.token')), TOKEN, 'and kept in the browser');
    await page.waitForFunction(() => document.getElementById('screen-img').dataset.state !== 'none');
    t.match(await page.textContent('#screen-caption'), /green\.png/, 'the caption names the picture on the wall');
    await page.waitForFunction(() => document.querySelector('#images li strong')?.textContent === 'green.png');
    t.match(await page.textContent('#status'), /headless 320×180/, 'the status shows the display');

    await recordScreenViews(page);
    await page.evaluate(() => {
      const bar = document.getElementById('upload-progress');
      new MutationObserver(() => bar.hidden || (window.barShown = true)).observe(bar, { attributes: true });
    });
    const png = await halves();
    const dataTransfer = await page.evaluateHandle(({ name, base64 }) => {
      const bytes = Uint8Array.from(atob(base64), (c: string) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], name, { type: 'image/png' }));
      return transfer;
    }, { name: 'halves.png', base64: png.toString('base64') });
    await page.dispatchEvent('#drop', 'drop', { dataTransfer });

    const isHalves = (view: ScreenView) => close(view.left, RED) && close(view.right, BLUE);
    const views = await waitForView(page, (view) => view.state === 'super-resolved' && isHalves(view), 'the pushed picture super-resolved');
    const preview = views.findIndex((view) => view.state === 'preview');
    const final = views.findIndex((view) => view.state === 'super-resolved' && isHalves(view));
    t.ok(preview >= 0 && preview < final, 'the screen view showed the preview first, then the SR version');
    t.ok(isHalves(views[preview]!), 'the preview in the page is the pushed picture');
    t.match(views[final]!.caption, /^halves\.png — super-resolved/, 'the caption says it is super-resolved');
    t.same([views[final]!.width, views[final]!.height], [320, 180], 'the screen view is the whole screen');
    t.ok(await page.evaluate(() => window.barShown === true), 'a progress bar was shown while uploading');
    t.match(await page.textContent('#push-message'), /^Accepted halves\.png \(160×90/, 'the page says it was accepted');

    // The page shows exactly what is on the wall (both PNG, lossless).
    const wall = await wallScreen(daemon);
    const shown = await page.evaluate(() => {
      const img = document.getElementById('screen-img');
      const canvas = Object.assign(document.createElement('canvas'), { width: img.naturalWidth, height: img.naturalHeight });
      const context = canvas.getContext('2d');
      context.drawImage(img, 0, 0);
      return [...context.getImageData(0, 0, canvas.width, canvas.height).data] as number[];
    });
    let worst = 0;
    for (let i = 0; i < wall.width * wall.height; i++) {
      for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(shown[i * 4 + c]! - wall.data[i * 3 + c]!));
    }
    t.ok(worst <= 2, `the page's screen view is /screen.png (largest difference ${worst})`);

    await page.waitForFunction(() => [...document.querySelectorAll('#images li')].some((li: any) => li.textContent.includes('halves.png') && li.textContent.includes('push · 160×90')));
    t.pass('the list shows the pushed picture with its source and size');

    // Next: the other picture of the slideshow, the screen view follows by itself (events).
    const before = (await screenViews(page)).length;
    await page.click('#next');
    await waitForView(page, (view) => view.loads > before && close(view.left, GREEN) && close(view.right, GREEN), 'green.png after Next');
    t.pass('Next shows the other picture in the screen view');
    await page.click('#pause');
    await page.waitForFunction(() => document.getElementById('pause').textContent === 'Resume');
    await page.click('#pause');
    await page.waitForFunction(() => document.getElementById('pause').textContent === 'Pause');
    t.pass('Pause and Resume answer');

    // A picture that does not decode: the daemon's reason, and the wall keeps its picture.
    await page.setInputFiles('#file-input', { name: 'broken.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('this is not a JPEG') });
    await page.waitForFunction(() => document.getElementById('push-message').textContent.startsWith('Refused'));
    t.match(await page.textContent('#push-message'), /^Refused broken\.jpg: .+\(bad-image\)$/, 'a refused picture shows the daemon\'s error');
    t.ok(await page.evaluate(() => document.getElementById('push-message').classList.contains('error')), 'as an error');
    const after = await wallScreen(daemon);
    t.ok(close(after.pixel(80, 90), GREEN), 'the wall keeps its picture');

    // A phone: nothing wider than the screen, the controls still there.
    await page.setViewportSize({ width: 390, height: 844 });
    t.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'on a phone the page is no wider than the screen');
    t.ok(await page.isVisible('#next'), 'and its controls are visible');

    t.same(errors, [], 'no console errors');
  });

  await t.test('a wrong token shows the error, the right one connects and is kept', async (t) => {
    const context = await browser.newContext();
    t.teardown(() => context.close());
    const page = await context.newPage();
    const errors = watchErrors(page);

    await page.goto(await daemon.url('/?token=not-the-token-at-all'));
    await page.waitForSelector('#token-form:not([hidden])', { timeout: 30_000 });
    t.match(await page.textContent('#token-message'), /refused this token: wrong token/, 'the daemon\'s message is shown');
    t.match(await page.textContent('#connection'), /wrong or missing token/);
    await page.fill('#token-input', TOKEN);
    await page.click('#token-form button[type="submit"]');
    await page.waitForSelector('#connection[data-state="connected"]', { timeout: 30_000 });
    t.ok(await page.isHidden('#token-form'), 'the token form goes away');
    await page.goto(await daemon.url('/'));
    await page.waitForSelector('#connection[data-state="connected"]', { timeout: 30_000 });
    t.pass('a later visit without ?token= connects with the kept token');

    // The browser itself logs the refused upgrade and the 401 of the check; the page adds nothing.
    const unexpected = errors.filter((e) => !/^console: (WebSocket connection to .* failed|Failed to load resource: the server responded with a status of 401)/.test(e));
    t.same(unexpected, [], 'no console errors besides the browser\'s own report of the 401');
  });
});
