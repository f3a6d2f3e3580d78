// The KMS path on a real (virtual) screen: a qemu VM with a virtio-gpu at 1920x1080
// runs test/vm/guest.ts, which opens the display with openDisplay(), shows a pattern
// (modeset), then a second one (page flip), and closes on SIGTERM: on the main thread,
// from a worker thread, and from a worker that ends without closing. The virtual screen is captured with the qemu
// monitor's screendump and compared pixel for pixel: the patterns are pure colours,
// so scan-out must reproduce them exactly.
import t, { type Test } from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from '../../src/service/paths.js';
import { gridPattern, overlapPattern, renderBlocks, type Block } from './patterns.js';
import sharp from 'sharp';
import { cornerColours, renderTestCard } from '../../src/show/test-card.js';
import { buildInitramfs, describeDifference, findVmTools, TestVm, type Screen } from './vm.js';

const WIDTH = 1920;
const HEIGHT = 1080;
// Everything in the guest runs under TCG emulation (node start-up alone takes seconds).
const STEP_TIMEOUT_MS = 180_000;

interface Crtc {
  id: number;
  fbId: number;
  mode: string | null;
}

const patternScreen = (blocks: Block[]): Screen => ({ width: WIDTH, height: HEIGHT, pixels: renderBlocks(blocks, WIDTH, HEIGHT) });

function pixelAt(screen: Screen, x: number, y: number): number[] {
  const at = (y * screen.width + x) * 3;
  return [...screen.pixels.subarray(at, at + 3)];
}

function samePixel(screen: Screen, x: number, y: number, colour: readonly number[]): boolean {
  return pixelAt(screen, x, y).every((value, i) => value === colour[i]);
}

const tools = findVmTools();
if ('missing' in tools) {
  // On CI the VM must run: a missing tool is a failure there, not a skip.
  if (process.env.UPREZ_REQUIRE_VM) t.fail(`the KMS VM test cannot run: ${tools.missing}`);
  else t.test('KMS display in a qemu VM', { skip: `the KMS VM test cannot run here: ${tools.missing}` }, () => {});
} else {
  t.test('KMS display in a qemu VM', { timeout: 600_000 }, async (t) => {
    const started = Date.now();
    const workDir = mkdtempSync(join(tmpdir(), 'uprez-vm-'));
    const initramfs = buildInitramfs(tools, join(repoRoot, 'dist', 'test', 'vm', 'guest.js'));
    const vm = await TestVm.boot(tools, initramfs, workDir);
    t.teardown(async () => {
      await vm.kill();
      // UPREZ_VM_KEEP=1 keeps the screendumps (PPM) and the serial console's log to look at.
      if (process.env.UPREZ_VM_KEEP) {
        writeFileSync(join(workDir, 'serial.log'), vm.log.join('\n') + '\n');
        t.comment(`screendumps and serial.log kept in ${workDir}`);
      }
      else rmSync(workDir, { recursive: true, force: true });
    });
    let dumps = 0;
    const screendump = () => vm.screendump(join(workDir, `screen-${dumps++}.ppm`));

    // The screen must show `expected`; a frame can take a moment to reach qemu's
    // display surface after the guest announced it, so look again a few times.
    async function expectScreen(t: Test, expected: Screen, what: string): Promise<void> {
      let difference = '';
      for (let attempt = 0; attempt < 10; attempt++) {
        difference = describeDifference(await screendump(), expected);
        if (difference === '') break;
        await sleep(500);
      }
      t.equal(difference, '', `the virtual screen shows ${what}, pixel for pixel`);
    }

    const booted = await vm.next('booted', 120_000);
    t.match(booted.dri, /card\d/, 'virtio-gpu gives the guest a DRM card');
    const bootSeconds = (Date.now() - started) / 1000;
    const consoleScreen = await screendump();
    t.ok(consoleScreen.pixels.some((value) => value !== 0), 'the text console shows something before the test');

    const timings: string[] = [];
    const sessions: Record<string, string> = {
      main: 'on the main thread',
      worker: 'on a worker thread',
      'abandoned-worker': 'on a worker thread that ends without close()',
    };
    for (const [thread, where] of Object.entries(sessions)) {
      await t.test(`openDisplay, modeset, page flip and close ${where}`, async (t) => {
        vm.send(`start ${thread}`);
        const before = await vm.next('crtc-before', STEP_TIMEOUT_MS);
        t.equal(before.thread, thread);
        const crtcBefore = before.crtc as Crtc | null;
        t.ok(crtcBefore && crtcBefore.fbId > 0 && crtcBefore.mode, `the console's CRTC is on before: ${JSON.stringify(crtcBefore)}`);

        const opened = await vm.next('opened', STEP_TIMEOUT_MS);
        t.match(opened, {
          backend: 'kms', card: /^\/dev\/dri\/card\d+$/, driver: 'virtio_gpu', connector: /^Virtual-\d+$/,
          mode: /^1920x1080@\d+(\.\d+)?$/, width: WIDTH, height: HEIGHT, glRenderer: /\S/, eglVersion: /^1\.\d/,
        }, `openDisplay() found the virtual screen: ${JSON.stringify(opened)}`);

        const first = await vm.next('frame', STEP_TIMEOUT_MS);
        t.equal(first.pattern, 'grid');
        const firstCrtc = first.crtc as Crtc;
        t.not(firstCrtc.fbId, crtcBefore?.fbId, "the CRTC scans out the display's own framebuffer after the modeset");
        await expectScreen(t, patternScreen(gridPattern(WIDTH, HEIGHT)), 'the grid pattern (first frame, modeset)');

        const errors = await vm.next('errors', STEP_TIMEOUT_MS);
        t.match(errors.busy, { name: 'DisplayError', code: 'drm-master-busy', message: /desktop session.*another uprez instance.*systemctl stop/s },
          'a second openDisplay() while the screen is taken says who to stop');
        t.match(errors.badMode, { name: 'DisplayError', code: 'mode-not-available', message: /1234x567.*Available: .*1920x1080@/ },
          'an absent mode is refused with the list of modes');

        vm.send('flip');
        const second = await vm.next('frame', STEP_TIMEOUT_MS);
        t.equal(second.pattern, 'overlap');
        t.not((second.crtc as Crtc).fbId, firstCrtc.fbId, 'the page flip put another framebuffer on the CRTC');
        t.equal(second.presentWhilePending, 'present-pending', 'present() while a flip is in flight is refused');
        await expectScreen(t, patternScreen(overlapPattern(WIDTH, HEIGHT)), 'the overlap pattern (second frame, page flip)');

        vm.send('stop');
        const closed = await vm.next('closed', STEP_TIMEOUT_MS);
        t.same(closed.crtc, crtcBefore, 'close() restored the CRTC found at start (same framebuffer id and mode)');
        if (thread !== 'abandoned-worker') {
          t.match(closed.latePresent, /^(resolved|closed)$/, `a present() in flight at close() settles: ${String(closed.latePresent)}`);
        }
        const exited = await vm.next('exited', 60_000);
        t.equal(exited.code, 0, 'the guest program exits with 0 on SIGTERM');
        await expectScreen(t, consoleScreen, 'the text console again after close()');
        timings.push(`${thread}: opened in ${String(opened.ms)} ms, first frame ${String(first.ms)} ms, flip ${String(second.ms)} ms`);
      });
    }

    await t.test('uprez run (what npm start runs) shows a picture from its folder on the KMS screen and gives the screen back on SIGTERM', async (t) => {
      // The test card as the only picture, shown 1:1 (fill, no SR, a cut): its corner markers
      // on the virtual screen say the daemon's whole path (decode, compositor, page flip) keeps
      // the picture upright and unmirrored.
      const photos = join(workDir, 'photos');
      mkdirSync(photos);
      await sharp(await renderTestCard(WIDTH, HEIGHT, ['uprez VM test']), { raw: { width: WIDTH, height: HEIGHT, channels: 4 } })
        .png().toFile(join(photos, 'card.png'));
      vm.send(`uprez run --backend kms --model none --transition cut --fit fill --http off --folder ${photos}`);
      await vm.next('uprez:starting', STEP_TIMEOUT_MS);
      const opened = await vm.next('uprez:display.opened', STEP_TIMEOUT_MS);
      t.match(opened.line, /backend=kms mode=1920x1080@\S+ card=\/dev\/dri\/card\d connector=Virtual-\d/, 'it opened the virtual screen through KMS');
      await vm.next('uprez:gpu', STEP_TIMEOUT_MS);
      await vm.next('uprez:frame.shown', STEP_TIMEOUT_MS); // the idle card, before the folder is scanned
      const shown = await vm.nextSkippingLogs('uprez:shown', STEP_TIMEOUT_MS);
      t.match(shown.line, /id=card.png/, 'then the picture from the folder');
      // The card's corner markers (60 px squares at 1080 lines) say the picture is upright and unmirrored.
      const corners: Array<[string, number, number, readonly number[]]> = [
        ['top left', 10, 10, cornerColours.topLeft],
        ['top right', WIDTH - 11, 10, cornerColours.topRight],
        ['bottom left', 10, HEIGHT - 11, cornerColours.bottomLeft],
        ['bottom right', WIDTH - 11, HEIGHT - 11, cornerColours.bottomRight],
      ];
      let screen = await screendump();
      for (let attempt = 0; attempt < 20 && !corners.every(([, x, y, c]) => samePixel(screen, x, y, c)); attempt++) {
        await sleep(500);
        screen = await screendump();
      }
      for (const [where, x, y, colour] of corners) {
        t.same(pixelAt(screen, x, y), [...colour], `the ${where} marker is in the ${where} corner of the screen`);
      }
      vm.send('term-uprez');
      await vm.nextSkippingLogs('uprez:stopped', 60_000);
      const exited = await vm.nextSkippingLogs('exited', 60_000);
      t.equal(exited.code, 0, 'uprez run exits with 0 on SIGTERM');
      // Once stopped nothing may hold the process (it exits anyway after 0.5 s, saying what held it).
      t.notMatch(vm.logTail(400), /event=exit\.held/, 'nothing held the process after the stop');
      await expectScreen(t, consoleScreen, 'the text console again after uprez run stopped');
    });

    await t.test('uprez run with contain\'s blurred bars (the default) shows a small photo on KMS', async (t) => {
      // The default placement: a small photo on contain's blurred background. (It once crashed
      // llvmpipe here, drawing a LINEAR-filtered texture; see src/show/compositor.ts.) SR is off:
      // under TCG emulation it takes minutes; the SR path on KMS is checked end to end elsewhere.
      const photos = join(workDir, 'photos-default');
      mkdirSync(photos);
      await sharp(join(repoRoot, 'config', 'sample-photos', 'chelsea.jpg')).resize(451, 300, { fit: 'fill' }).jpeg().toFile(join(photos, 'small.jpg'));
      vm.send(`uprez run --backend kms --http off --model none --folder ${photos}`);
      await vm.next('uprez:starting', STEP_TIMEOUT_MS);
      const shown = await vm.nextSkippingLogs('uprez:shown', STEP_TIMEOUT_MS);
      t.match(shown.line, /id=small.jpg/, 'the photo is shown');
      const screen = await screendump();
      const [r, g, b] = pixelAt(screen, WIDTH / 2, HEIGHT / 2);
      t.ok(r + g + b > 60, `the photo is on the screen (centre ${r},${g},${b})`);
      const bar = pixelAt(screen, 20, HEIGHT / 2);
      t.ok(bar.some((v) => v > 3) && bar.every((v) => v < 200), `the bars hold the blurred, darkened photo (${bar.join(',')})`);
      vm.send('term-uprez');
      await vm.nextSkippingLogs('uprez:stopped', 60_000);
      const exited = await vm.nextSkippingLogs('exited', 60_000);
      t.equal(exited.code, 0, 'exits with 0 on SIGTERM');
    });

    t.equal(await vm.powerOff(), 0, 'the VM powers off');
    t.comment(`VM boot ${bootSeconds.toFixed(1)} s; ${timings.join('; ')}; whole test ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
}
