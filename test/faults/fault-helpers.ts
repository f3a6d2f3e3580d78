// Shared by the fault tests: pictures of one colour, what the screen shows, waiting on sd_notify.
import { rmSync } from 'node:fs';
import sharp from 'sharp';
import type { NotifyReceiver } from '../helpers/notify-receiver.js';
import type { DaemonDirs, RunningDaemon } from '../helpers/daemon.js';

export type Rgb = [number, number, number];

/** A PNG of one colour with a lighter square in it (SR has an edge to work on). */
export async function writePicture(path: string, rgb: Rgb, width = 160, height = 90): Promise<void> {
  const square = await sharp({ create: { width: width >> 2, height: height >> 2, channels: 3, background: { r: 255, g: 255, b: 255 } } }).png().toBuffer();
  await sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .composite([{ input: square, left: width >> 3, top: height >> 3 }]).png().toFile(path);
}

/** The colour at a point of the screen that shows a picture's plain part (bottom right quarter). */
export async function screenColour(daemon: RunningDaemon): Promise<Rgb> {
  const screen = await daemon.screen();
  return screen.pixel(Math.round(screen.width * 0.75), Math.round(screen.height * 0.75));
}

export function near(a: Rgb, b: Rgb, tolerance = 12): boolean {
  return a.every((value, i) => Math.abs(value - b[i]!) <= tolerance);
}

export async function healthz(daemon: RunningDaemon): Promise<number> {
  return (await fetch(await daemon.url('/healthz'))).status;
}

export async function post(daemon: RunningDaemon, path: string): Promise<string> {
  const response = await fetch(await daemon.url(path), { method: 'POST', headers: daemon.headers() });
  if (response.status !== 200) throw new Error(`POST ${path}: ${response.status} ${await response.text()}`);
  return response.text();
}

/** The first sd_notify message received after index `from` that matches. */
export async function notified(receiver: NotifyReceiver, pattern: RegExp, from = 0, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = receiver.messages.slice(from).find((message) => pattern.test(message));
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no sd_notify message matching ${pattern}; got:\n${receiver.messages.slice(-15).join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function removeDirs(dirs: DaemonDirs): void {
  rmSync(dirs.root, { recursive: true, force: true });
}
