// What the VM tests of the daemon share: comparing screens, photos for the watched folder, the
// headless backend's render of the same input on the host, and HTTP to the guest's daemon.
import { copyFileSync, renameSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { repoRoot } from '../../src/service/paths.js';
import { yPsnr } from '../../src/quality/protocols.js';
import { daemonDirs, startDaemon, type RunningDaemon } from '../helpers/daemon.js';
import type { Screen } from './vm.js';

/** Y-PSNR (BT.601) of two screens of the same size. */
export const psnr = (a: Screen, b: Screen) => yPsnr({ ...a, channels: 3, data: a.pixels }, { ...b, channels: 3, data: b.pixels }, 0);

/**
 * How `mid` is a mix of `from` and `to`: the amount a (least squares over luma) of
 * (1 - a) * from + a * to, and the Y-PSNR of `mid` against that mix.
 */
export function blendOf(mid: Screen, from: Screen, to: Screen): { amount: number; db: number } {
  const luma = (p: Uint8Array, i: number) => 0.299 * p[i]! + 0.587 * p[i + 1]! + 0.114 * p[i + 2]!;
  let dot = 0, norm = 0;
  for (let i = 0; i < mid.pixels.length; i += 3) {
    const a = luma(from.pixels, i), d = luma(mid.pixels, i) - a, e = luma(to.pixels, i) - a;
    dot += d * e;
    norm += e * e;
  }
  const amount = norm > 0 ? dot / norm : 0;
  const mixed = new Uint8Array(mid.pixels.length);
  for (let i = 0; i < mixed.length; i++) mixed[i] = Math.round((1 - amount) * from.pixels[i]! + amount * to.pixels[i]!);
  return { amount, db: psnr(mid, { ...mid, pixels: mixed }) };
}

/** A small photo (SR is little work under emulation) from one of the bundled samples. */
export async function writePhoto(file: string, sample: string, width: number, height: number): Promise<void> {
  await sharp(join(repoRoot, 'config', 'sample-photos', sample)).resize(width, height, { fit: 'fill' }).jpeg({ quality: 90 }).toFile(file);
}

/** Copies into the watched folder as a transfer should: under a temporary name, then renamed. */
export function dropInto(folder: string, file: string, name: string): void {
  copyFileSync(file, join(folder, `${name}.part`));
  renameSync(join(folder, `${name}.part`), join(folder, name));
}

export async function hostScreen(daemon: RunningDaemon): Promise<Screen> {
  const screen = await daemon.screen();
  return { width: screen.width, height: screen.height, pixels: screen.data };
}

/** What the headless backend shows at `size` for `photo` with `options`, once `state` is reached and faded in. */
export async function headlessRender(photo: string, name: string, size: string, options: string[], state: string): Promise<Screen> {
  const dirs = daemonDirs('uprez-vm-reference-');
  const daemon = startDaemon(dirs, ['--size', size, ...options]);
  try {
    dropInto(dirs.folder, photo, name);
    // Minutes on a loaded machine (SR on llvmpipe beside VMs on the same cores).
    await daemon.until((s) => s.current?.id === name && s.current.state === state, `${name} ${state}`, 300_000);
    // The fade ends after the state changes: wait for the picture's last 'shown' line.
    await daemon.waitForLine(new RegExp(`event=shown id=${name} version=${state === 'super-resolved' ? 'final' : 'preview'}`), 60_000);
    return await hostScreen(daemon);
  } finally {
    await daemon.stop();
    rmSync(dirs.root, { recursive: true, force: true });
  }
}

export async function httpScreen(port: number, token: string): Promise<Screen> {
  const response = await fetch(`http://127.0.0.1:${port}/screen.png`, { headers: { authorization: `Bearer ${token}` } });
  if (response.status !== 200) throw new Error(`/screen.png: ${response.status}`);
  const { data, info } = await sharp(Buffer.from(await response.arrayBuffer())).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, pixels: data };
}

export async function status(port: number, token: string): Promise<Record<string, any>> {
  const response = await fetch(`http://127.0.0.1:${port}/status`, { headers: { authorization: `Bearer ${token}` } });
  return (await response.json()) as Record<string, any>;
}

/** Waits until the guest's daemon answers on the forwarded port. */
export async function reachable(port: number, token: string, timeoutMs: number): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await status(port, token);
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`the daemon in the VM did not answer on 127.0.0.1:${port}: ${(error as Error).message}`);
      await sleep(500);
    }
  }
}


/**
 * Asks qemu, as a VNC client does when its window is resized (RFB SetDesktopSize), for a screen
 * of width x height: virtio-gpu tells the guest that its display changed, and the connector
 * offers that size as its preferred mode from then on (in a new EDID), as another monitor would.
 * `socket` is qemu's VNC server (`-vnc unix:PATH`), without a password.
 */
export async function requestScreenSize(socket: string, width: number, height: number): Promise<void> {
  const connection = createConnection(socket);
  let received = Buffer.alloc(0);
  let wake = () => {};
  connection.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    wake();
  });
  connection.on('error', () => wake());
  /** The next `length` bytes from the server. */
  const read = async (length: number): Promise<Buffer> => {
    const deadline = Date.now() + 30_000;
    while (received.length < length) {
      if (connection.destroyed || Date.now() > deadline) throw new Error(`qemu's VNC server (${socket}) stopped answering`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 200);
      });
    }
    const bytes = received.subarray(0, length);
    received = received.subarray(length);
    return bytes;
  };
  try {
    await new Promise<void>((resolve, reject) => connection.once('connect', resolve).once('error', reject));
    const version = (await read(12)).toString('latin1');
    if (!version.startsWith('RFB 003.')) throw new Error(`not a VNC server: ${JSON.stringify(version)}`);
    connection.write('RFB 003.008\n');
    const types = await read((await read(1))[0]!);
    if (!types.includes(1)) throw new Error(`qemu's VNC server wants authentication (types ${[...types].join(', ')})`);
    connection.write(Buffer.from([1])); // security: none
    if ((await read(4)).readUInt32BE(0) !== 0) throw new Error('the VNC handshake failed');
    connection.write(Buffer.from([1])); // ClientInit: shared
    const serverInit = await read(24);
    await read(serverInit.readUInt32BE(20)); // the desktop's name
    // SetDesktopSize (type 251): the size, then one screen (id 0) covering it.
    const request = Buffer.alloc(8 + 16);
    request[0] = 251;
    request.writeUInt16BE(width, 2);
    request.writeUInt16BE(height, 4);
    request[6] = 1;
    request.writeUInt16BE(width, 8 + 8);
    request.writeUInt16BE(height, 8 + 10);
    connection.write(request);
    // qemu answers with an ExtendedDesktopSize rectangle whose y is its status: 4 when it passed the
    // request on to the display device, 3 when the device cannot change its size.
    const rectangle = (await read(4 + 12)).subarray(4);
    const status = rectangle.readUInt16BE(2);
    if (rectangle.readInt32BE(8) !== -308 || status !== 4) throw new Error(`qemu did not pass the new size on to the screen (status ${status})`);
  } finally {
    connection.destroy();
  }
}
