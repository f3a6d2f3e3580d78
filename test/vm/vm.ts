// A throw-away x86_64 virtual machine for testing the KMS path: qemu (TCG) boots the
// host's Debian kernel with a tiny initramfs (busybox + the 9p modules) that mounts the
// host's root read-only over 9p, chroots into it, loads virtio-gpu and runs a guest
// program. The guest talks back on the serial console (`UPREZ-VM <event> <json>`
// lines); the host sends one-word commands on the same line and captures the virtual
// screen through the qemu monitor's `screendump`.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from '../../src/service/paths.js';

/** The 9p chain, in load order (DESIGN.md); virtio-gpu comes later from the host's modules. */
const NINEP_MODULES = [
  'virtio_ring', 'virtio', 'virtio_pci_modern_dev', 'virtio_pci_legacy_dev', 'virtio_pci',
  'netfs', 'fscache', '9pnet', '9pnet_virtio', '9p',
];

const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export interface VmTools {
  qemu: string;
  kernel: string;
  kernelVersion: string;
  busybox: string;
  /** The .ko file of each module of NINEP_MODULES, in order (maybe .ko.xz / .ko.zst). */
  modules: string[];
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** True when the ELF file has no program interpreter, i.e. is statically linked. */
function isStaticElf(file: string): boolean {
  const header = readFileSync(file).subarray(0, 1 << 16);
  if (header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2) return false; // 64-bit ELF only
  const programHeaders = Number(header.readBigUInt64LE(0x20));
  const entrySize = header.readUInt16LE(0x36);
  const count = header.readUInt16LE(0x38);
  for (let i = 0; i < count; i++) {
    if (header.readUInt32LE(programHeaders + i * entrySize) === 3 /* PT_INTERP */) return false;
  }
  return true;
}

// Compares kernel versions like 6.1.0-56-amd64 numerically, part by part.
function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.split(/[.-]/).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  const pa = parts(a), pb = parts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if (pa[i] === pb[i]) continue;
    if (typeof pa[i] === 'number' && typeof pb[i] === 'number') return (pa[i] as number) - (pb[i] as number);
    return String(pa[i] ?? '') < String(pb[i] ?? '') ? -1 : 1;
  }
  return 0;
}

// The module files of a kernel by module name ('-' and '_' are the same in module names).
export function moduleFiles(modulesDir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      const match = /^(.+)\.ko(\.xz|\.zst|\.gz)?$/.exec(entry.name);
      if (match) files.set(match[1].replace(/-/g, '_'), path);
    }
  };
  if (existsSync(join(modulesDir, 'kernel'))) walk(join(modulesDir, 'kernel'));
  return files;
}

/** Finds what the VM needs, or says exactly what is missing. */
export function findVmTools(): VmTools | { missing: string } {
  if (process.arch !== 'x64') {
    return { missing: `the VM test needs an x86_64 host (it runs the host's own root in the guest); this is ${process.arch}` };
  }
  const qemu = findOnPath('qemu-system-x86_64');
  if (!qemu) return { missing: 'qemu-system-x86_64 is not installed (Debian package qemu-system-x86)' };
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((file) => existsSync(file) && isStaticElf(file));
  if (!busybox) return { missing: 'no statically linked busybox (Debian package busybox-static)' };
  const kernels = existsSync('/boot')
    ? readdirSync('/boot').filter((name) => /^vmlinuz-.+-amd64$/.test(name)).map((name) => name.slice('vmlinuz-'.length))
    : [];
  kernels.sort(compareVersions).reverse();
  for (const version of kernels) {
    const kernel = `/boot/vmlinuz-${version}`;
    try {
      accessSync(kernel, constants.R_OK);
    } catch {
      continue;
    }
    const files = moduleFiles(`/lib/modules/${version}`);
    const modules = NINEP_MODULES.map((name) => files.get(name));
    if (modules.every((m) => m !== undefined) && files.has('virtio_gpu')) {
      return { qemu, kernel, kernelVersion: version, busybox, modules: modules as string[] };
    }
  }
  return {
    missing:
      kernels.length === 0
        ? 'no Debian amd64 kernel in /boot (Debian package linux-image-amd64)'
        : `no readable kernel in /boot with the 9p and virtio-gpu modules in /lib/modules (tried ${kernels.join(', ')})`,
  };
}

export function moduleContents(file: string): Buffer {
  if (file.endsWith('.ko')) return readFileSync(file);
  const tool = file.endsWith('.xz') ? 'xz' : file.endsWith('.zst') ? 'zstd' : 'gzip';
  return execFileSync(tool, ['-dc', file], { maxBuffer: 1 << 28 });
}

// An uncompressed cpio archive in the kernel's "newc" format.
export function cpioArchive(entries: { name: string; mode: number; data?: Buffer }[]): Buffer {
  const parts: Buffer[] = [];
  const pad = (length: number) => Buffer.alloc((4 - (length % 4)) % 4);
  const add = (name: string, mode: number, data: Buffer, inode: number) => {
    const fields = [inode, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, name.length + 1, 0];
    const header = Buffer.from('070701' + fields.map((f) => f.toString(16).padStart(8, '0')).join('') + name + '\0');
    parts.push(header, pad(header.length), data, pad(data.length));
  };
  entries.forEach((entry, i) => add(entry.name, entry.mode, entry.data ?? Buffer.alloc(0), i + 1));
  add('TRAILER!!!', 0, Buffer.alloc(0), 0);
  return Buffer.concat(parts);
}

/** The start of every initramfs's init: busybox, `say` for the host, /proc, /sys, /dev and `modules` loaded. */
export function initPrelude(modules: string[]): string {
  return `bb=/bin/busybox
say() { echo "UPREZ-VM $1 $2"; }
$bb mount -t proc proc /proc
$bb mount -t sysfs sys /sys
$bb mount -t devtmpfs dev /dev
for m in ${modules.join(' ')}; do
  $bb insmod /modules/$m.ko || say failed "{\\"error\\":\\"insmod $m\\"}"
done
`;
}

function initScript(modules: string[], guestCommand: string, uprezCommand: string): string {
  return `#!/bin/busybox sh
# uprez VM test init: mount the host root over 9p, load virtio-gpu, obey the host.
${initPrelude(modules)}$bb mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 hostroot /host || say failed '{"error":"mounting the host root over 9p"}'
$bb mount -t proc proc /host/proc
$bb mount -t sysfs sys /host/sys
$bb mount -t devtmpfs dev /host/dev
# Writable space on /run only: /tmp stays the host's, since the repository may live there.
$bb mount -t tmpfs run /host/run
$bb chroot /host /sbin/modprobe virtio-gpu || say failed '{"error":"modprobe virtio-gpu"}'
# Options on the kernel command line: uprez.share=DIR mounts the host's DIR read-write at the
# same path (the photo folder and state); uprez.net=1 brings up the network (qemu user-net).
share=; net=
for arg in $($bb cat /proc/cmdline); do
  case "$arg" in uprez.share=*) share="\${arg#uprez.share=}" ;; uprez.net=1) net=1 ;; esac
done
if [ -n "$share" ]; then
  $bb mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 share "/host$share" || say failed '{"error":"mounting the share"}'
fi
if [ -n "$net" ]; then
  $bb chroot /host /sbin/modprobe virtio_net || say failed '{"error":"modprobe virtio_net"}'
  $bb ip link set lo up
  $bb ip addr add 10.0.2.15/24 dev eth0 && $bb ip link set eth0 up || say failed '{"error":"configuring eth0"}'
fi
for i in 1 2 3 4 5 6 7 8 9 10; do [ -e /host/dev/dri/card0 ] && break; $bb sleep 0.5; done
# Something on the text console, so the host can see it come back after close().
printf '\\n  uprez VM test: the text console\\n' > /dev/tty1
$bb sleep 1
$bb stty -echo
say booted "{\\"dri\\":\\"$(echo /host/dev/dri/*)\\"}"
while read -r command; do
  case "$command" in
    start*) ${guestCommand} \${command#start} </dev/null & pid=$! ;;
    uprez*) ( ${uprezCommand} \${command#uprez} </dev/null; say exited "{\\"code\\":$?}" ) & ;;
    term-uprez) $bb kill -TERM $($bb pidof node) ;;  # the only node running by then (busybox has no pkill)
    kill-uprez) $bb kill -KILL $($bb pidof node) ;;
    # The kernel's own switch of a connector's status (as an unplugged cable reads): off, or detect.
    connector-off|connector-detect)
      for status in /host/sys/class/drm/card*-Virtual-1/status; do echo "\${command#connector-}" > "$status"; done
      say connector "{\\"status\\":\\"$($bb cat /host/sys/class/drm/card*-Virtual-1/status)\\"}" ;;
    flip) $bb kill -USR2 $pid ;;
    stop) $bb kill -TERM $pid; wait $pid; say exited "{\\"code\\":$?}" ;;
    poweroff) break ;;
  esac
done
$bb poweroff -f
`;
}

/** Builds (or reuses from the cache) the initramfs that runs `guestScript` under the host's node. */
export function buildInitramfs(tools: VmTools, guestScript: string): string {
  const env = 'HOME=/run TMPDIR=/run XDG_CACHE_HOME=/run/cache PATH=/usr/bin:/bin';
  // The KMS test's guest program measures the first frame: without Mesa's shader cache, as on a first start.
  const guestCommand = `$bb env -i ${env} MESA_SHADER_CACHE_DISABLE=true $bb chroot /host ${process.execPath} ${guestScript}`;
  // The product itself, as `npm start` runs it: bin/uprez, its logs on the serial line. With Mesa's
  // shader cache (on the guest's /run, empty at boot), as the systemd unit gives it one: a restart
  // in the same boot finds the shaders its first start compiled.
  // inotify does not see the host's writes to a 9p share: chokidar polls there (as on NFS or SMB).
  const uprezCommand = `$bb env -i ${env} CHOKIDAR_USEPOLLING=1 CHOKIDAR_INTERVAL=300 $bb chroot /host ${process.execPath} ${join(repoRoot, 'bin', 'uprez')}`;
  const script = initScript(NINEP_MODULES, guestCommand, uprezCommand);
  // A new busybox or kernel package (same paths) must give a new archive too.
  const versions = [tools.busybox, ...tools.modules].map((file) => statSync(file).mtimeMs);
  const key = createHash('sha256').update(JSON.stringify([tools, versions, script])).digest('hex').slice(0, 16);
  const cacheDir = join(repoRoot, 'test', 'vm', '.cache');
  const file = join(cacheDir, `initramfs-${tools.kernelVersion}-${key}.cpio`);
  if (existsSync(file)) return file;
  mkdirSync(cacheDir, { recursive: true });
  // Archives of older scripts or kernels are never used again.
  for (const old of readdirSync(cacheDir).filter((name) => /^initramfs-.*\.cpio$/.test(name))) rmSync(join(cacheDir, old));
  const archive = cpioArchive([
    ...['bin', 'modules', 'dev', 'proc', 'sys', 'host'].map((name) => ({ name, mode: 0o40755 })),
    { name: 'init', mode: 0o100755, data: Buffer.from(script) },
    { name: 'bin/busybox', mode: 0o100755, data: readFileSync(tools.busybox) },
    ...tools.modules.map((path, i) => ({ name: `modules/${NINEP_MODULES[i]}.ko`, mode: 0o100644, data: moduleContents(path) })),
  ]);
  writeFileSync(`${file}.tmp`, archive);
  renameSync(`${file}.tmp`, file);
  return file;
}

export interface Announcement {
  event: string;
  details: Record<string, unknown>;
}

export interface Screen {
  width: number;
  height: number;
  /** RGB bytes, top row first. */
  pixels: Uint8Array;
}

/** Parses a binary PPM (P6, maxval 255), as qemu's screendump writes it. */
export function readPpm(data: Buffer): Screen {
  const header = /^P6\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(data.subarray(0, 64).toString('latin1'));
  if (!header || header[3] !== '255') throw new Error('not a P6 PPM with maxval 255');
  const width = Number(header[1]), height = Number(header[2]);
  const pixels = data.subarray(header[0].length, header[0].length + width * height * 3);
  if (pixels.length !== width * height * 3) throw new Error(`truncated PPM: ${pixels.length} bytes of pixels`);
  return { width, height, pixels };
}

export interface BootOptions {
  /** The virtio-gpu's screen (its preferred mode); 1920x1080 by default. */
  width?: number;
  height?: number;
  memoryMiB?: number;
  /** A host folder the guest mounts read-write at the same path (the rest of the host is read-only). */
  share?: string;
  /** Forwards the host's 127.0.0.1:hostPort to the guest's guestPort (the guest is 10.0.2.15). */
  forward?: { hostPort: number; guestPort: number };
  /** More kernel command line options (an initramfs of its own reads them, e.g. systemd.unit=). */
  kernelArgs?: string[];
}

/** A TCP port free on the host's loopback now. */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export class TestVm {
  readonly log: string[] = [];
  private readonly announcements: Announcement[] = [];
  private cursor = 0;
  private wake: () => void = () => {};
  private monitor?: Socket;
  private monitorOutput = '';
  readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;

  private constructor(private readonly qemu: ChildProcess, private readonly monitorPath: string) {
    let pending = '';
    qemu.stdout!.setEncoding('latin1').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const raw of lines) this.receiveLine(raw.replace(/\r/g, ''));
    });
    qemu.stderr!.setEncoding('utf8').on('data', (chunk: string) => this.log.push(...chunk.trimEnd().split('\n').map((l) => `qemu: ${l}`)));
    this.exited = new Promise((resolve) =>
      qemu.on('exit', (code) => {
        this.exitCode = code;
        this.wake();
        resolve(code);
      }),
    );
  }

  /** Boots the VM; qemu is killed when this process exits, whatever happens. */
  static async boot(tools: VmTools, initramfs: string, workDir: string, options: BootOptions = {}): Promise<TestVm> {
    const monitorPath = join(workDir, 'monitor.sock');
    const { width = 1920, height = 1080, share, forward } = options;
    // no_timer_check: on a busy host, TCG's timer can be too slow for the kernel's early check of
    // it, which then panics ("IO-APIC + timer doesn't work!").
    const kernelOptions = ['console=ttyS0', 'loglevel=3', 'vt.global_cursor_default=0', 'panic=-1', 'no_timer_check', ...(options.kernelArgs ?? [])];
    const extra: string[] = [];
    if (share) {
      if (/\s/.test(share)) throw new Error(`the share's path must have no spaces: ${share}`);
      extra.push('-virtfs', `local,path=${share},mount_tag=share,security_model=none`);
      kernelOptions.push(`uprez.share=${share}`);
    }
    if (forward) {
      // restrict=on: the guest reaches nothing outside; only the forwarded port, on the host's loopback only.
      extra.push('-netdev', `user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:${forward.hostPort}-10.0.2.15:${forward.guestPort}`,
        '-device', 'virtio-net-pci,netdev=net0');
      kernelOptions.push('uprez.net=1');
    }
    const qemu = spawn(tools.qemu, [
      '-accel', 'tcg', '-nodefaults', '-no-reboot', '-display', 'none', '-vga', 'none',
      // -cpu max: the prebuilt sharp (libvips) needs x86-64-v2 instructions that qemu's default CPU model lacks.
      '-cpu', 'max', '-m', String(options.memoryMiB ?? 2048), '-smp', '2',
      '-kernel', tools.kernel, '-initrd', initramfs,
      '-append', kernelOptions.join(' '),
      '-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
      '-device', `virtio-gpu-pci,xres=${width},yres=${height}`,
      ...extra,
      '-monitor', `unix:${monitorPath},server,nowait`,
      // A VNC server on a socket, without a password: a client's SetDesktopSize is how the host
      // gives the virtual screen another size, as another monitor would (daemon-vm.ts requestScreenSize).
      '-vnc', `unix:${join(workDir, 'vnc.sock')}`,
      '-serial', 'stdio',
    ], { stdio: ['pipe', 'pipe', 'pipe'] });
    // Never leave qemu behind: not when this process exits, nor when it is told to stop
    // (tap's timeout sends SIGTERM, which would otherwise end it without an 'exit' event).
    const killOnExit = () => qemu.kill('SIGKILL');
    const killOnSignal = (signal: NodeJS.Signals) => {
      qemu.kill('SIGKILL');
      process.exit(128 + (osConstants.signals[signal] ?? 0));
    };
    process.once('exit', killOnExit);
    for (const signal of STOP_SIGNALS) process.once(signal, killOnSignal);
    qemu.once('exit', () => {
      process.removeListener('exit', killOnExit);
      for (const signal of STOP_SIGNALS) process.removeListener(signal, killOnSignal);
    });
    const vm = new TestVm(qemu, monitorPath);
    qemu.once('error', (error) => {
      vm.log.push(`qemu: ${error.message}`);
      vm.exitCode = null;
      vm.wake();
    });
    return vm;
  }

  private receiveLine(line: string): void {
    this.log.push(line);
    // uprez's own log lines (logfmt: `level=info event=frame.shown ...`) announce `uprez:<event>`.
    const logLine = /^level=\w+ event=(\S+)(.*)$/.exec(line);
    if (logLine) {
      this.announcements.push({ event: `uprez:${logLine[1]}`, details: { line } });
      this.wake();
      return;
    }
    const match = /^UPREZ-VM (\S+) (.*)$/.exec(line);
    if (!match) return;
    let details: Record<string, unknown>;
    try {
      details = JSON.parse(match[2]);
    } catch {
      details = { unparsed: match[2] };
    }
    this.announcements.push({ event: match[1], details });
    this.wake();
  }

  /**
   * Waits for `event`, passing over uprez's own log lines (`uprez:*`) that come before it: the
   * daemon logs many events (the folder scan, timings) that a step need not name one by one.
   * Announcements named in `alsoSkip` are passed over too.
   */
  async nextSkippingLogs(event: string, timeoutMs: number, alsoSkip: string[] = []): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const upcoming = this.announcements[this.cursor];
      if (upcoming && upcoming.event !== event && (upcoming.event.startsWith('uprez:') || alsoSkip.includes(upcoming.event))) this.cursor++;
      else if (upcoming || this.exitCode !== undefined || Date.now() >= deadline) return this.next(event, Math.max(0, deadline - Date.now()));
      else await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Waits for the next announcement; it must be `event` (a `failed` one, or qemu exiting, rejects). */
  async next(event: string, timeoutMs: number): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.cursor < this.announcements.length) {
        const announcement = this.announcements[this.cursor++];
        if (announcement.event === event) return announcement.details;
        throw new Error(`expected "${event}" from the VM, got "${announcement.event}" ${JSON.stringify(announcement.details)}\n${this.logTail()}`);
      }
      if (this.exitCode !== undefined) throw new Error(`qemu exited (${this.exitCode}) before "${event}"\n${this.logTail()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no "${event}" from the VM within ${timeoutMs / 1000} s\n${this.logTail()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Sends a command line to the guest's init (on the serial console). */
  send(command: string): void {
    this.qemu.stdin!.write(`${command}\n`);
  }

  logTail(lines = 40): string {
    return this.log.slice(-lines).join('\n');
  }

  private async monitorCommand(command: string): Promise<string> {
    if (!this.monitor) {
      for (let attempt = 0; ; attempt++) {
        try {
          this.monitor = await new Promise<Socket>((resolve, reject) => {
            const socket = createConnection(this.monitorPath, () => resolve(socket));
            socket.once('error', reject);
          });
          break;
        } catch (error) {
          if (attempt >= 50) throw error;
          await sleep(100);
        }
      }
      this.monitor.setEncoding('latin1').on('data', (chunk: string) => (this.monitorOutput += chunk));
      await this.monitorPrompt(10_000);
    }
    this.monitorOutput = '';
    this.monitor.write(`${command}\n`);
    return this.monitorPrompt(30_000);
  }

  // The HMP monitor answers a command, then prints its prompt again.
  private async monitorPrompt(timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!this.monitorOutput.includes('(qemu) ')) {
      if (Date.now() > deadline) throw new Error(`the qemu monitor did not answer: ${JSON.stringify(this.monitorOutput)}`);
      await sleep(20);
    }
    const answer = this.monitorOutput;
    this.monitorOutput = '';
    return answer;
  }

  /** Captures the virtual screen. */
  async screendump(file: string): Promise<Screen> {
    const answer = await this.monitorCommand(`screendump ${file}`);
    if (!existsSync(file)) throw new Error(`screendump wrote nothing: ${JSON.stringify(answer)}`);
    return readPpm(readFileSync(file));
  }

  /**
   * Asks the guest to power off and waits for qemu to end, at most `timeoutMs`: resolves with its
   * exit code, or 'timeout'. The wait's timer is cleared either way (a pending timer would keep the
   * test's process, and so tap, waiting for it after the test is done).
   */
  async powerOff(timeoutMs = 30_000): Promise<number | null | 'timeout'> {
    this.send('poweroff');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, timeoutMs, 'timeout')));
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Kills qemu if it still runs. */
  async kill(): Promise<void> {
    this.monitor?.destroy();
    if (this.exitCode === undefined) {
      this.qemu.kill('SIGKILL');
      await this.exited;
    }
  }
}

const samePixel = (a: Screen, b: Screen, i: number) => a.pixels[i] === b.pixels[i] && a.pixels[i + 1] === b.pixels[i + 1] && a.pixels[i + 2] === b.pixels[i + 2];

/** How many pixels of two screens of the same size differ. */
export function differingPixels(actual: Screen, expected: Screen): number {
  let count = 0;
  for (let i = 0; i < actual.pixels.length; i += 3) if (!samePixel(actual, expected, i)) count++;
  return count;
}

/** How two screens differ, in words; '' when they are equal. */
export function describeDifference(actual: Screen, expected: Screen): string {
  if (actual.width !== expected.width || actual.height !== expected.height) {
    return `size ${actual.width}x${actual.height}, expected ${expected.width}x${expected.height}`;
  }
  let count = 0;
  let first = '';
  for (let i = 0; i < actual.pixels.length; i += 3) {
    if (samePixel(actual, expected, i)) continue;
    if (count++ === 0) {
      const pixel = i / 3;
      const rgb = (p: Uint8Array) => `(${p[i]},${p[i + 1]},${p[i + 2]})`;
      first = ` first at x=${pixel % actual.width} y=${Math.floor(pixel / actual.width)}: ${rgb(actual.pixels)}, expected ${rgb(expected.pixels)}`;
    }
  }
  return count === 0 ? '' : `${count} pixels differ;${first}`;
}
