// The daemon end to end on a real (virtual) KMS screen: a qemu VM (virtio-gpu, 1920x1080) runs
// `uprez run --backend kms` with the default model; its photo folder and state are on a host
// folder shared read-write, its HTTP port is forwarded to the host's 127.0.0.1. The host copies
// photos into the folder, pushes one over the websocket (`uprez push`), reads /screen.png, and
// compares the virtual screen (qemu's screendump) with what the headless backend renders on the
// host for the same input and options. Then: SIGKILL and a restart, a second instance, the
// screen's connector going away and coming back (the kernel's own connector status switch), and
// coming back as another screen of another size (qemu's display resized through its VNC server):
// 1280x720, then 3840x2160 (the 4K run: the same KMS path at 4K, without a second boot), then
// 1920x1080 again; last, SIGTERM while the screen is away. (SIGTERM with the screen connected
// giving the console back is kms.test's and systemd.test's.)
import t from 'tap';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { repoRoot } from '../../src/service/paths.js';
import { uprez } from '../helpers/daemon.js';
import { blendOf, dropInto, headlessRender, httpScreen, psnr, reachable, requestScreenSize, status, writePhoto } from './daemon-vm.js';
import { buildInitramfs, describeDifference, differingPixels, findVmTools, freeLoopbackPort, TestVm, type Screen } from './vm.js';

const WIDTH = 1920;
const HEIGHT = 1080;
/** The other screen plugged in while the daemon runs. */
const SMALL_WIDTH = 1280;
const SMALL_HEIGHT = 720;
/** And a 4K one. */
const BIG_WIDTH = 3840;
const BIG_HEIGHT = 2160;
const STEP_TIMEOUT_MS = 240_000;
const GUEST_PORT = 8080;
/** Screens that show the same picture rendered by two llvmpipe instances (the last bit may differ). */
const SAME_PICTURE_DB = 45;
// The options both daemons (the VM's on KMS, the host's headless) run with. A long crossfade, so
// that a screendump can catch it halfway (under emulation a 1080p frame takes seconds, and the
// fade's first frame is all the old picture); a long interval, so the slideshow stays put.
const SHARED_OPTIONS = ['--interval', '3600', '--transition-ms', '10000', '--settle-ms', '300'];
const execFileAsync = promisify(execFile);

const tools = findVmTools();
if ('missing' in tools) {
  if (process.env.UPREZ_REQUIRE_VM) t.fail(`the daemon VM test cannot run: ${tools.missing}`);
  else t.test('the daemon end to end in a qemu VM', { skip: `the VM test cannot run here: ${tools.missing}` }, () => {});
} else {
  // As long as the runner lets the file run (TAP_TIMEOUT: package.json, or --timeout): on a loaded
  // machine a run takes longer than its usual 11 minutes.
  t.test('the daemon end to end in a qemu VM', { timeout: Number(process.env.TAP_TIMEOUT || 1200) * 1000 - 10_000 }, async (t) => {
    const started = Date.now();
    const workDir = mkdtempSync(join(tmpdir(), 'uprez-vm-daemon-'));
    const share = join(workDir, 'share');
    const folder = join(share, 'photos');
    mkdirSync(folder, { recursive: true });
    const hostPort = await freeLoopbackPort();
    const token = randomBytes(18).toString('hex');
    const initramfs = buildInitramfs(tools, join(repoRoot, 'dist', 'test', 'vm', 'guest.js'));
    // 3 GB: the daemon holds 4K frames and SR textures when the screen becomes 3840x2160.
    const vm = await TestVm.boot(tools, initramfs, workDir, { share, forward: { hostPort, guestPort: GUEST_PORT }, memoryMiB: 3072 });
    t.teardown(async () => {
      await vm.kill();
      if (process.env.UPREZ_VM_KEEP) {
        writeFileSync(join(workDir, 'serial.log'), vm.log.join('\n') + '\n');
        t.comment(`screendumps and serial.log kept in ${workDir}`);
      } else rmSync(workDir, { recursive: true, force: true });
    });
    // qemu's VNC server (vm.ts starts it on this socket): how the host gives the screen another size.
    const vncSocket = join(workDir, 'vnc.sock');
    let dumps = 0;
    const screendump = () => vm.screendump(join(workDir, `screen-${dumps++}.ppm`));
    const timings: string[] = [];
    const since = (from: number) => `${((Date.now() - from) / 1000).toFixed(1)} s`;

    const uprezRun = `uprez run --backend kms --http 0.0.0.0:${GUEST_PORT} --token ${token} --folder ${folder} ` +
      `--state-dir ${join(share, 'state')} --cache-dir ${join(share, 'cache')} ${SHARED_OPTIONS.join(' ')}`;

    // Pictures and what the host's headless backend makes of them: one after the other, while the
    // VM boots and its daemon starts (each is awaited where it is needed).
    const first = join(workDir, 'first.jpg');
    const second = join(workDir, 'second.jpg');
    await writePhoto(first, 'chelsea.jpg', 120, 80);
    await writePhoto(second, 'coffee.jpg', 96, 64);
    const firstPreview = headlessRender(first, 'first.jpg', `${WIDTH}x${HEIGHT}`, [...SHARED_OPTIONS, '--model', 'none'], 'resampled');
    const firstSr = firstPreview.then(() => headlessRender(first, 'first.jpg', `${WIDTH}x${HEIGHT}`, SHARED_OPTIONS, 'super-resolved'));
    // The pushed picture on the smaller and the 4K screens plugged in later.
    const secondSmallSr = firstSr.then(() => headlessRender(second, 'second.jpg', `${SMALL_WIDTH}x${SMALL_HEIGHT}`, SHARED_OPTIONS, 'super-resolved'));
    const secondBigSr = secondSmallSr.then(() => headlessRender(second, 'second.jpg', `${BIG_WIDTH}x${BIG_HEIGHT}`, SHARED_OPTIONS, 'super-resolved'));
    // A failure is reported where the picture is awaited, not as an unhandled rejection before.
    for (const render of [firstPreview, firstSr, secondSmallSr, secondBigSr]) render.catch(() => {});

    await vm.next('booted', 120_000);
    timings.push(`boot ${since(started)}`);
    const consoleScreen = await screendump();

    await t.test('the daemon starts on KMS and answers on the forwarded port', async (t) => {
      const from = Date.now();
      vm.send(uprezRun);
      const opened = await vm.nextSkippingLogs('uprez:display.opened', STEP_TIMEOUT_MS);
      t.match(opened.line, /backend=kms mode=1920x1080@/, 'it drives the virtual screen');
      await vm.nextSkippingLogs('uprez:sr.ready', STEP_TIMEOUT_MS);
      await vm.nextSkippingLogs('uprez:slideshow.ready', STEP_TIMEOUT_MS);
      const answer = await reachable(hostPort, token, 60_000);
      t.equal(answer.display.backend, 'kms', '/status over the forwarded port says KMS');
      t.equal(answer.model?.name, 'uprez-x2', 'with the default model');
      const refused = await fetch(`http://127.0.0.1:${hostPort}/status`);
      t.equal(refused.status, 401, 'without the token: 401');
      timings.push(`daemon ready ${since(from)}`);
    });

    let firstOnScreen: Screen | undefined;
    await t.test('a photo copied into the shared folder appears: first the preview, then the SR version, as headless renders them', async (t) => {
      const from = Date.now();
      dropInto(folder, first, 'first.jpg');
      await vm.nextSkippingLogs('uprez:image.taken', STEP_TIMEOUT_MS);
      const preview = await vm.nextSkippingLogs('uprez:shown', STEP_TIMEOUT_MS);
      t.match(preview.line, /id=first.jpg version=preview/, 'the preview is shown');
      const previewScreen = await screendump();
      const previewDb = psnr(previewScreen, await firstPreview);
      t.ok(previewDb >= SAME_PICTURE_DB, `the screen shows the preview as headless renders it: Y-PSNR ${previewDb.toFixed(1)} dB`);
      timings.push(`preview ${since(from)}`);
      const srDone = await vm.nextSkippingLogs('uprez:sr.done', STEP_TIMEOUT_MS);
      const final = await vm.nextSkippingLogs('uprez:shown', STEP_TIMEOUT_MS);
      t.match(final.line, /id=first.jpg version=final/, 'then the SR version');
      firstOnScreen = await screendump();
      const srDb = psnr(firstOnScreen, await firstSr);
      t.ok(srDb >= SAME_PICTURE_DB, `the screen shows the SR version as headless renders it: Y-PSNR ${srDb.toFixed(1)} dB`);
      t.ok(psnr(firstOnScreen, previewScreen) < 60, 'and it differs from the preview');
      timings.push(`SR ${since(from)} (${String(/ms=(\d+)/.exec(String(srDone.line))?.[1])} ms in the daemon)`);
    });

    await t.test('/screen.png over HTTP equals the screendump', async (t) => {
      const viaHttp = await httpScreen(hostPort, token);
      const dumped = await screendump();
      t.equal(describeDifference(viaHttp, dumped), '', 'the read-back is what is scanned out, pixel for pixel');
    });

    await t.test('a photo pushed over the websocket replaces it, crossfading on the real screen', async (t) => {
      const from = Date.now();
      const before = await screendump();
      const push = execFileAsync(process.execPath, [uprez, 'push', '--to', `127.0.0.1:${hostPort}`, '--token', token, '--json', second], { timeout: STEP_TIMEOUT_MS });
      // Screendumps while the crossfade runs, until the daemon says the new picture is fully on screen.
      // One a second: a frame of the fade stays up for seconds under emulation, and each dump (6 MB,
      // compared here) takes CPU from the VM, whose frames it would make slower still.
      let faded = false;
      const shown = vm.nextSkippingLogs('uprez:shown', STEP_TIMEOUT_MS).finally(() => (faded = true));
      const during: Screen[] = [];
      while (!faded) {
        const screen = await screendump();
        if (psnr(screen, before) < 50) during.push(screen);
        await sleep(1000);
      }
      const { stdout } = await push;
      t.match(JSON.parse(stdout), [{ file: second, id: /\S/ }], `uprez push reports the picture: ${stdout.trim()}`);
      const shownLine = String((await shown).line);
      const frames = /frames=(\d+) longestFrameMs=(\d+)/.exec(shownLine);
      t.match(shownLine, /version=preview/, `the pushed picture is shown (fade: ${frames?.[1]} frames, the longest ${frames?.[2]} ms)`);
      const after = await screendump();
      t.ok(psnr(after, before) < 30, 'it replaced the picture on screen');
      // A frame of the fade is a mix of the two pictures: (1 - a) * before + a * after, 0 < a < 1.
      // Under TCG a 1080p frame takes seconds: the fade's clock starts once its first frame (amount 0)
      // is up, so the frame drawn next is mostly the old picture, and the one after it a mix (at most
      // halfway: however slow the frames, a fade goes at most half the way in one frame).
      const blends = during.map((screen) => blendOf(screen, before, after));
      const amounts = [...new Set(blends.map((mix) => mix.amount.toFixed(2)))];
      const mixes = blends.filter((mix, i) => mix.amount > 0.1 && mix.amount < 0.9 && blends.findIndex((other) => other.amount === mix.amount) === i);
      t.ok(mixes.length > 0, `a screendump caught the crossfade halfway (${during.length} screendumps in the fade, amounts ${amounts.join(', ')})`);
      for (const mix of mixes) t.ok(mix.db >= 30, `that frame is the two pictures mixed ${(mix.amount * 100).toFixed(0)}/100: Y-PSNR ${mix.db.toFixed(1)} dB against the mix`);
      await vm.nextSkippingLogs('uprez:sr.done', STEP_TIMEOUT_MS);
      const final = await vm.nextSkippingLogs('uprez:shown', STEP_TIMEOUT_MS);
      t.match(final.line, /version=final/, 'then its SR version');
      timings.push(`push to SR ${since(from)}`);
    });

    await t.test('SIGKILL and a restart bring back the same picture and slideshow position', async (t) => {
      const from = Date.now();
      const before = await status(hostPort, token);
      const screenBefore = await screendump();
      vm.send('kill-uprez');
      const killed = await vm.nextSkippingLogs('exited', 60_000);
      t.equal(killed.code, 137, 'the daemon was killed (128 + SIGKILL)');
      vm.send(uprezRun);
      const resumed = await vm.nextSkippingLogs('uprez:state.resumed', STEP_TIMEOUT_MS);
      t.match(resumed.line, `id=${before.current.id}`, 'it resumes the picture it showed');
      await vm.nextSkippingLogs('uprez:shown', STEP_TIMEOUT_MS);
      const after = await reachable(hostPort, token, 60_000);
      t.equal(after.current.id, before.current.id, `/status: the same picture (${String(before.current.id)})`);
      t.equal(after.queue.next, before.queue.next, `/status: the same next picture in the slideshow (${String(before.queue.next)})`);
      const screen = await screendump();
      const db = psnr(screen, screenBefore);
      t.ok(db >= SAME_PICTURE_DB, `the screen shows what it showed before the kill: Y-PSNR ${db.toFixed(1)} dB`);
      timings.push(`restart ${since(from)}`);
    });

    await t.test('a second instance fails with the documented message, the first keeps showing', async (t) => {
      const from = Date.now();
      const before = await screendump();
      const logFrom = vm.log.length;
      vm.send(`uprez run --backend kms --http off --folder ${folder} --state-dir /run/second-state --cache-dir /run/second-cache`);
      const exited = await vm.nextSkippingLogs('exited', STEP_TIMEOUT_MS);
      t.not(exited.code, 0, `the second instance exits with ${String(exited.code)}`);
      const said = vm.log.slice(logFrom).join('\n');
      t.match(said, /Another program drives the screen.*another uprez instance.*systemctl stop uprez/s, 'it says who holds the screen and what to do');
      t.equal(describeDifference(await screendump(), before), '', 'the screen is unchanged');
      t.equal((await status(hostPort, token)).current.id, (await status(hostPort, token)).current.id, 'the first still answers');
      timings.push(`second instance ${since(from)}`);
    });

    await t.test('the screen goes away and comes back: uprez goes on and shows the picture again', async (t) => {
      const from = Date.now();
      const before = await screendump();
      vm.send('connector-off');
      const off = await vm.nextSkippingLogs('connector', 60_000);
      t.equal(off.status, 'disconnected', 'the kernel reads the connector as disconnected');
      const lost = await vm.nextSkippingLogs('uprez:display.disconnected', 60_000);
      t.match(lost.line, /connector=Virtual-1/, 'uprez logs the screen going away');
      const away = await screendump();
      t.ok(psnr(away, before) < 30, 'uprez stopped scanning out: the virtual screen no longer shows the picture');
      const during = await status(hostPort, token);
      t.equal(during.current.id, (await status(hostPort, token)).current.id, 'uprez keeps running (HTTP answers)');
      const health = await fetch(`http://127.0.0.1:${hostPort}/healthz`);
      t.equal(health.status, 200, '/healthz stays 200: the display thread is alive, just without a screen');
      vm.send('connector-detect');
      const on = await vm.nextSkippingLogs('connector', 60_000, ['uprez:display.reconnected']);
      t.equal(on.status, 'connected', 'the connector reads connected again');
      const back = await vm.nextSkippingLogs('uprez:display.reconnected', 60_000);
      t.match(back.line, /connector=Virtual-1 mode=1920x1080@/, 'uprez logs the screen coming back, at its mode');
      let difference = '';
      for (let attempt = 0; attempt < 20; attempt++) {
        difference = describeDifference(await screendump(), before);
        if (difference === '') break;
        await sleep(500);
      }
      t.equal(difference, '', 'the picture is on the screen again, pixel for pixel');
      timings.push(`screen away and back ${since(from)}`);
    });

    await t.test('the screen comes back with another mode: uprez shows the picture again at the new size', async (t) => {
      const from = Date.now();
      const before = await screendump();
      const { current } = await status(hostPort, token);
      // The screen swapped for another: qemu's display becomes width x height (virtio-gpu gives the
      // guest a new EDID, that size preferred), the connector reads disconnected, then connected.
      const plugIn = async (width: number, height: number) => {
        await requestScreenSize(vncSocket, width, height);
        vm.send('connector-off');
        await vm.nextSkippingLogs('connector', 60_000);
        await vm.nextSkippingLogs('uprez:display.disconnected', 60_000);
        vm.send('connector-detect');
        await vm.nextSkippingLogs('connector', 60_000, ['uprez:display.reconnected']);
        const back = await vm.nextSkippingLogs('uprez:display.reconnected', 60_000);
        // The picture is planned, composed and super-resolved again for the new size.
        for (;;) {
          const shown = await vm.nextSkippingLogs('uprez:shown', STEP_TIMEOUT_MS);
          if (/version=final/.test(String(shown.line))) break;
        }
        return String(back.line);
      };
      const back = await plugIn(SMALL_WIDTH, SMALL_HEIGHT);
      t.match(back, /connector=Virtual-1 mode=1280x720@\S+ modeBefore=1920x1080@/, 'uprez logs the screen coming back at its new mode');
      const during = await status(hostPort, token);
      t.match(during.display, { width: SMALL_WIDTH, height: SMALL_HEIGHT, mode: /^1280x720@/ }, `/status: the new size (${String(during.display.mode)})`);
      const hzOf = (mode: unknown) => Number(/@([\d.]+)$/.exec(String(mode))?.[1]);
      t.equal(during.display.refreshHz, hzOf(during.display.mode), `/status: the new mode's refresh rate (${String(during.display.refreshHz)} Hz)`);
      t.equal(during.current.id, current.id, '/status: the same picture');
      const screen = await screendump();
      t.equal(`${screen.width}x${screen.height}`, '1280x720', 'the virtual screen scans out 1280x720');
      const db = psnr(screen, await secondSmallSr);
      t.ok(db >= SAME_PICTURE_DB, `it shows the picture as headless renders it at 1280x720: Y-PSNR ${db.toFixed(1)} dB`);
      timings.push(`1280x720 ${since(from)}`);
      // A 4K screen: the daemon drives it at 3840x2160 and shows what headless renders at 4K.
      const fromBig = Date.now();
      t.match(await plugIn(BIG_WIDTH, BIG_HEIGHT), /mode=3840x2160@\S+ modeBefore=1280x720@/, 'a 4K screen: uprez drives it at 3840x2160');
      const big = await screendump();
      t.same([big.width, big.height], [BIG_WIDTH, BIG_HEIGHT], 'the virtual screen scans out 3840x2160');
      const bigDb = psnr(big, await secondBigSr);
      t.ok(bigDb >= SAME_PICTURE_DB, `it shows the picture as headless renders it at 4K: Y-PSNR ${bigDb.toFixed(1)} dB`);
      timings.push(`3840x2160 ${since(fromBig)}`);
      // The first screen again, for the steps that follow.
      t.match(await plugIn(WIDTH, HEIGHT), /mode=1920x1080@\S+ modeBefore=3840x2160@/, 'back at 1920x1080 when the first screen returns');
      const backAgain = await status(hostPort, token);
      t.equal(backAgain.display.refreshHz, hzOf(backAgain.display.mode), `/status: its refresh rate again (${String(backAgain.display.mode)})`);
      const again = await screendump();
      const againDb = psnr(again, before);
      t.ok(againDb >= SAME_PICTURE_DB, `showing the picture as before: Y-PSNR ${againDb.toFixed(1)} dB`);
      timings.push(`another mode and back ${since(from)}`);
    });

    await t.test('SIGTERM while the screen is disconnected: exits 0 (no C++ terminate), and the console is back with the screen', async (t) => {
      const from = Date.now();
      const logFrom = vm.log.length;
      const picture = await screendump();
      vm.send('connector-off');
      await vm.nextSkippingLogs('connector', 60_000);
      await vm.nextSkippingLogs('uprez:display.disconnected', 60_000);
      vm.send('term-uprez');
      await vm.nextSkippingLogs('uprez:stopped', 60_000);
      const exited = await vm.nextSkippingLogs('exited', 60_000);
      t.equal(exited.code, 0, 'exit code 0');
      const said = vm.log.slice(logFrom).join('\n');
      t.notMatch(said, /terminate called|Napi::Error|FATAL ERROR|Aborted/, 'no C++ exception ended the process');
      t.match(said, /display\.closed backend=kms(?! outcome)/, 'the display thread closed the display');
      vm.send('connector-detect');
      await vm.nextSkippingLogs('connector', 60_000);
      // The text console scanned out again, not the picture. Not pixel for pixel with boot's console:
      // after the 4K screen its text differs (in two runs 1,419 pixels differed, the boot console
      // having 735 lit: fbcon redraws on a mode change). So: the console's size, mostly black with a
      // few lit pixels (text), where the picture lights nearly all of them.
      const lit = (screen: Screen) => differingPixels(screen, { ...screen, pixels: new Uint8Array(screen.pixels.length) });
      const pixels = consoleScreen.width * consoleScreen.height;
      let screen = await screendump();
      for (let attempt = 0; attempt < 20 && !(lit(screen) > 0 && lit(screen) < pixels / 100); attempt++) {
        await sleep(500);
        screen = await screendump();
      }
      t.same([screen.width, screen.height], [consoleScreen.width, consoleScreen.height], 'the screen connected again is at the console\'s size');
      t.ok(lit(screen) > 0 && lit(screen) < pixels / 100,
        `and shows the text console (the CRTC was restored while it was away): ${lit(screen)} pixels lit (boot's console: ${lit(consoleScreen)}; the picture: ${lit(picture)})`);
      timings.push(`SIGTERM while disconnected ${since(from)}`);
    });

    await vm.powerOff();
    t.comment(`${timings.join('; ')}; whole test ${since(started)}`);
  });
}

