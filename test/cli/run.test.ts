// `uprez run` for real: the compiled CLI in a child process, headless on llvmpipe.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import sharp from 'sharp';
import t from 'tap';
import { repoRoot } from '../../src/service/paths.js';
import { cornerColours } from '../../src/show/test-card.js';
import { NotifyReceiver } from '../helpers/notify-receiver.js';

const uprez = join(repoRoot, 'bin', 'uprez');

function startRun(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [uprez, 'run', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    for (const waiter of waiters) if (waiter.pattern.test(line)) waiter.resolve(line);
  });
  const waitForLine = (pattern: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const found = lines.find((line) => pattern.test(line));
      if (found) return resolve(found);
      waiters.push({ pattern, resolve });
      child.once('exit', (code) => reject(new Error(`uprez run exited (${code}) before printing ${pattern}:\n${lines.join('\n')}\n${stderr}`)));
    });
  return { child, lines, waitForLine, stderr: () => stderr };
}

t.test('headless: shows the test card, writes it as a PNG, notifies systemd, stops cleanly on SIGTERM', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'uprez-run-'));
  const png = join(dir, 'card.png');
  const receiver = await NotifyReceiver.start(join(dir, 'notify.sock'));
  t.teardown(() => receiver.stop());

  const run = startRun(['--backend', 'headless', '--size', '320x180', '--png', png], { NOTIFY_SOCKET: receiver.socketName });
  t.teardown(() => run.child.kill('SIGKILL'));
  const written = await run.waitForLine(/event=frame.written/);
  t.match(written, png, 'says where the PNG is');
  await receiver.waitFor('READY=1');

  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  t.same([info.width, info.height], [320, 180], 'PNG has the display size');
  const pixel = (x: number, y: number) => [...data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3)];
  t.same(pixel(2, 2), cornerColours.topLeft, 'top-left marker is at the top left (not flipped)');
  t.same(pixel(317, 2), cornerColours.topRight, 'top-right marker');
  t.same(pixel(2, 177), cornerColours.bottomLeft, 'bottom-left marker');
  t.same(pixel(317, 177), cornerColours.bottomRight, 'bottom-right marker');

  const exit = once(run.child, 'exit');
  run.child.kill('SIGTERM');
  const [code] = await exit;
  t.equal(code, 0, 'exits 0 on SIGTERM');
  t.ok(run.lines.some((line) => /event=stopped signal=SIGTERM/.test(line)), 'logs that it stopped');
  await receiver.waitFor('STOPPING=1');
});

t.test('auto falls back to headless when there is no KMS screen, and says why', { skip: hasDri() ? 'this machine has /dev/dri' : false }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'uprez-run-'));
  const run = startRun(['--size', '64x36', '--png', join(dir, 'card.png')]);
  t.teardown(() => run.child.kill('SIGKILL'));
  const opened = await run.waitForLine(/event=display.opened/);
  t.match(opened, /backend=headless/);
  t.match(opened, /reason=.*KMS/i, 'the reason names the missing KMS card');
  await run.waitForLine(/event=frame.written/);
  run.child.kill('SIGTERM');
  t.equal((await once(run.child, 'exit'))[0], 0);
});

t.test('--backend kms without a screen fails with advice', { skip: hasDri() ? 'this machine has /dev/dri' : false }, async (t) => {
  const run = startRun(['--backend', 'kms']);
  const [code] = await once(run.child, 'exit');
  t.equal(code, 1);
  t.match(run.stderr(), /KMS/);
});

function hasDri(): boolean {
  return existsSync('/dev/dri');
}
