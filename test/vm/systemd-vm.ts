// The VM booted into systemd, for the unit itself (test/vm/systemd.test.ts). Its initramfs lays a
// tmpfs over the host's root (9p, read-only) with overlayfs, installs uprez there as
// systemd/install.sh would (the real unit, the user uprez in video and render, /etc/uprez/
// config.json, /opt/uprez: the repository) plus a drop-in with what the test needs, and
// switch_roots into the host's own systemd as PID 1. A small service answers the host's commands
// on the serial line (`UPREZ-VM <event> <json>`, as the other VM tests' init does).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../src/service/paths.js';
import { cpioArchive, initPrelude, moduleContents, moduleFiles, type VmTools } from './vm.js';

/** The port uprez listens on in the guest (forwarded to the host). */
export const GUEST_PORT = 8080;

/**
 * The drop-in the test adds to the real unit: the test hooks (the frame path's freeze), a short
 * watchdog so that its timeout does not make the test long, a long start timeout for emulation;
 * its sandbox stays as it is.
 */
export function dropIn(watchdogSec: number): string {
  // (modprobe@drm first, a finding of this test, is in the unit itself now.)
  return `[Service]
Environment=UPREZ_TEST_HOOKS=1
WatchdogSec=${watchdogSec}
# Emulation on a busy host: node alone took up to 145 s from its start to its first log line.
TimeoutStartSec=600
`;
}

// What systemd boots into: the basic system, the daemon (as if enabled) and the host's commands.
const TARGET = `[Unit]
Description=uprez VM test: uprez.service and the host's commands
Requires=basic.target
After=basic.target
Wants=uprez.service uprez-vm-control.service systemd-networkd.service
AllowIsolate=yes
`;

// The guest's address on qemu's user network, where the host's forwarded port arrives.
const NETWORK = `[Match]
Driver=virtio_net

[Network]
Address=10.0.2.15/24
`;

const CONTROL_SERVICE = `[Unit]
Description=uprez VM test: the host's commands on the serial line
After=basic.target

[Service]
ExecStart=/bin/sh /etc/uprez-vm/control.sh
StandardInput=tty-force
StandardOutput=tty
TTYPath=/dev/ttyS0
TTYReset=no
TTYVHangup=no
`;

// Answers one line per command. systemctl show's KEY=VALUE lines become one JSON object.
const CONTROL_SCRIPT = String.raw`#!/bin/sh
say() { printf 'UPREZ-VM %s %s\n' "$1" "$2"; }
props='ActiveState,SubState,Result,StatusText,NRestarts,MainPID,ExecMainCode,ExecMainStatus,ActiveEnterTimestampMonotonic,WatchdogUSec,WatchdogTimestampMonotonic'
unit() {
  say "$1" "{$(systemctl show -p "$props" uprez.service | sed 's/\\/\\\\/g; s/"/\\"/g; s/^\([^=]*\)=\(.*\)$/"\1":"\2"/' | paste -sd, -)}"
}
value() { systemctl show -p "$1" --value uprez.service; }
# A command's output, each line prefixed, then the announcement that it is complete.
lines() { name=$1; shift; "$@" 2>&1 | sed "s/^/UPREZ-LINE $name /"; say "$name" '{}'; }
stty -echo
say control "{\"uptime\":\"$(cut -d' ' -f1 /proc/uptime)\"}"
while read -r command arg; do
  case $command in
    show) unit unit ;;
    wait-active) until [ "$(value ActiveState)" = active ]; do sleep 0.5; done; unit active ;;
    # Until the unit has restarted more than ARG times and is up again.
    wait-restarts) until [ "$(value NRestarts)" -gt "$arg" ] && [ "$(value ActiveState)" = active ]; do sleep 0.5; done; unit restarted ;;
    stop) systemctl stop uprez.service; say stop-returned "{\"code\":$?}"; unit stopped ;;
    sandbox) lines sandbox grep -E '^(Uid|Gid|Groups|CapEff|CapBnd|NoNewPrivs|Seccomp):' "/proc/$(value MainPID)/status" ;;
    journal) lines journal journalctl -b --no-pager -o short-monotonic -u uprez.service ;;
  esac
done
`;

function initScript(modules: string[]): string {
  return `#!/bin/busybox sh
# uprez VM test init, systemd: the host's root read-only under a tmpfs, uprez installed, systemd as PID 1.
${initPrelude(modules)}$bb mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 hostroot /lower || say failed '{"error":"mounting the host root over 9p"}'
$bb mount -t tmpfs -o mode=0755 rw /rw
$bb mkdir -p /rw/upper /rw/work
r=/newroot
token=
for arg in $($bb cat /proc/cmdline); do case "$arg" in uprez.token=*) token="\${arg#uprez.token=}" ;; esac; done
$bb mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay $r || say failed '{"error":"mounting the overlay"}'
for fs in dev proc sys; do $bb mount --move /$fs $r/$fs; done
# The repository as /opt/uprez (the unit's ExecStart), straight from the host's root.
$bb mkdir -p $r/opt/uprez
$bb mount --bind "/lower${repoRoot}" $r/opt/uprez || say failed '{"error":"binding the repository to /opt/uprez"}'
# What systemd/install.sh does: the user, the configuration, the unit (unchanged).
$bb grep -q '^uprez:' $r/etc/passwd || $bb chroot $r /usr/sbin/useradd --system --user-group --home-dir /var/lib/uprez \\
  --no-create-home --shell /usr/sbin/nologin --comment "uprez display daemon" --groups video,render uprez || say failed '{"error":"useradd"}'
# The photo folder as install.sh makes it, left empty: uprez shows its idle card. Pictures are
# daemon.test.ts's; here a photo's first frames (seconds each under emulation) would stall the
# frame path long enough for the watchdog on their own.
$bb chroot $r /usr/bin/install -d -o uprez -g uprez -m 0750 /var/lib/uprez
$bb chroot $r /usr/bin/install -d -o uprez -g uprez -m 2775 /var/lib/uprez/photos
$bb mkdir -p $r/etc/uprez
# No SR model: its opening (shader compiles: minutes under emulation) comes after READY=1 and before
# uprez feeds the watchdog, so systemd would kill it every time (a finding of this test).
echo "{\\"folder\\":\\"/var/lib/uprez/photos\\",\\"backend\\":\\"kms\\",\\"model\\":\\"none\\",\\"http\\":\\"0.0.0.0:${GUEST_PORT}\\",\\"token\\":\\"$token\\"}" > $r/etc/uprez/config.json
$bb cp $r/opt/uprez/systemd/uprez.service $r/etc/systemd/system/uprez.service
$bb cp -R /files/etc/. $r/etc/
# The host's fstab is not this machine's. The host is a container: without its /.dockerenv,
# systemd sees the VM (and then reads systemd.unit= from the kernel's command line).
: > $r/etc/fstab
$bb rm -f $r/.dockerenv
# Not here: tmpfiles' boot-time setup walks (and would empty) the host's /tmp and /var/tmp over 9p,
# for minutes; nothing of uprez needs it (systemd makes the unit's own directories).
$bb ln -sf /dev/null $r/etc/systemd/system/systemd-tmpfiles-setup.service
exec $bb switch_root $r /lib/systemd/systemd
`;
}

/** What the systemd boot needs beyond the other VM tests' tools, or '' when it is all there. */
export function systemdMissing(tools: VmTools): string {
  // The guest runs the host's own systemd (PID 1 and systemctl), from the 9p root.
  if (!existsSync('/lib/systemd/systemd')) return 'systemd is not installed (Debian package systemd)';
  if (!moduleFiles(`/lib/modules/${tools.kernelVersion}`).has('overlay')) return `the kernel ${tools.kernelVersion} has no overlay module`;
  return '';
}

/** Builds (or reuses from the cache) the initramfs that boots systemd with uprez.service installed. */
export function buildSystemdInitramfs(tools: VmTools, watchdogSec: number): string {
  const overlay = moduleFiles(`/lib/modules/${tools.kernelVersion}`).get('overlay');
  if (!overlay) throw new Error(`no overlay module for ${tools.kernelVersion}`);
  const modules = [...tools.modules, overlay];
  const names = modules.map((file) => /([^/]+)\.ko(\.\w+)?$/.exec(file)![1].replace(/-/g, '_'));
  const script = initScript(names);
  const files: Record<string, string> = {
    'etc/systemd/system/uprez-vm.target': TARGET,
    'etc/systemd/system/uprez-vm-control.service': CONTROL_SERVICE,
    'etc/systemd/system/uprez.service.d/test.conf': dropIn(watchdogSec),
    'etc/uprez-vm/control.sh': CONTROL_SCRIPT,
    'etc/systemd/network/10-uprez-vm.network': NETWORK,
  };
  const versions = [tools.busybox, ...modules].map((file) => statSync(file).mtimeMs);
  const key = createHash('sha256').update(JSON.stringify([tools, versions, script, files])).digest('hex').slice(0, 16);
  const cacheDir = join(repoRoot, 'test', 'vm', '.cache');
  const file = join(cacheDir, `systemd-initramfs-${tools.kernelVersion}-${key}.cpio`);
  if (existsSync(file)) return file;
  mkdirSync(cacheDir, { recursive: true });
  for (const old of readdirSync(cacheDir).filter((name) => /^systemd-initramfs-.*\.cpio$/.test(name))) rmSync(join(cacheDir, old));
  // Every folder of the files too, parents first.
  const folders = Object.keys(files).flatMap((name) => name.split('/').slice(0, -1).map((_, i, parts) => `files/${parts.slice(0, i + 1).join('/')}`));
  const dirs = [...new Set(['bin', 'modules', 'dev', 'proc', 'sys', 'lower', 'rw', 'newroot', 'files', ...folders])];
  const archive = cpioArchive([
    ...dirs.map((name) => ({ name, mode: 0o40755 })),
    { name: 'init', mode: 0o100755, data: Buffer.from(script) },
    { name: 'bin/busybox', mode: 0o100755, data: readFileSync(tools.busybox) },
    ...modules.map((path, i) => ({ name: `modules/${names[i]}.ko`, mode: 0o100644, data: moduleContents(path) })),
    ...Object.entries(files).map(([name, text]) => ({ name: `files/${name}`, mode: 0o100644, data: Buffer.from(text) })),
  ]);
  writeFileSync(`${file}.tmp`, archive);
  renameSync(`${file}.tmp`, file);
  return file;
}
