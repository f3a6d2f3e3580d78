// systemd/uprez.service under a real systemd (PID 1 in a qemu VM, the host's systemd 252): the
// unit, unchanged but for a drop-in (test hooks, a short watchdog, a long start timeout: see
// systemd-vm.ts), starts uprez as user uprez in its sandbox on the virtio-gpu's KMS screen;
// READY=1 makes it active once the first frame is up; the frame path frozen through the test hook
// stops the watchdog's pings and systemd kills and restarts it; `systemctl stop` (SIGTERM) ends it
// cleanly. test/systemd/unit.test.ts checks the same protocol without a VM (a notify socket of
// its own).
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildSystemdInitramfs, GUEST_PORT, systemdMissing } from './systemd-vm.js';
import { describeDifference, findVmTools, freeLoopbackPort, TestVm, type Screen } from './vm.js';

// Short, to keep the test short; long enough for uprez's first ping (half of it after its start).
const WATCHDOG_SEC = 20;
// Boot to active took 150-250 s on 2 cores shared with other VMs and a training run.
const BOOT_TIMEOUT_MS = 480_000;

/** How many distinct colours a screen has: uprez's idle card hundreds (its text), a blank screen or the console a few. */
function colours(screen: Screen): number {
  const seen = new Set<number>();
  for (let i = 0; i < screen.pixels.length; i += 3) seen.add((screen.pixels[i]! << 16) | (screen.pixels[i + 1]! << 8) | screen.pixels[i + 2]!);
  return seen.size;
}

const tools = findVmTools();
const missing = 'missing' in tools ? tools.missing : systemdMissing(tools);
if ('missing' in tools || missing) {
  if (process.env.UPREZ_REQUIRE_VM) t.fail(`the systemd VM test cannot run: ${missing}`);
  else t.test('uprez.service under systemd in a qemu VM', { skip: `the VM test cannot run here: ${missing}` }, () => {});
} else {
  t.test('uprez.service under systemd in a qemu VM', { timeout: 900_000 }, async (t) => {
    const started = Date.now();
    const since = (from: number) => `${((Date.now() - from) / 1000).toFixed(1)} s`;
    const timings: string[] = [];
    const workDir = mkdtempSync(join(tmpdir(), 'uprez-vm-systemd-'));
    const hostPort = await freeLoopbackPort();
    const token = randomBytes(18).toString('hex');
    const initramfs = buildSystemdInitramfs(tools, WATCHDOG_SEC);
    const vm = await TestVm.boot(tools, initramfs, workDir, {
      width: 1024, height: 768,
      forward: { hostPort, guestPort: GUEST_PORT },
      kernelArgs: ['systemd.unit=uprez-vm.target', 'systemd.show_status=false', 'systemd.journald.forward_to_console=1', `uprez.token=${token}`],
    });
    // The serial log, also while it runs (a boot that hangs shows where).
    const saveLog = () => writeFileSync(join(workDir, 'serial.log'), vm.log.join('\n') + '\n');
    const saving = setInterval(saveLog, 5000);
    t.teardown(async () => {
      clearInterval(saving);
      await vm.kill();
      saveLog();
      if (process.env.UPREZ_VM_KEEP) t.comment(`screendumps and serial.log kept in ${workDir}`);
      else rmSync(workDir, { recursive: true, force: true });
    });
    let dumps = 0;
    const screendump = () => vm.screendump(join(workDir, `screen-${dumps++}.ppm`));
    // The lines a `lines` command printed (UPREZ-LINE <name> ...), once it says it is done.
    const lines = async (name: string) => {
      const from = vm.log.length;
      vm.send(name);
      await vm.next(name, 60_000);
      return vm.log.slice(from).filter((line) => line.startsWith(`UPREZ-LINE ${name} `)).map((line) => line.slice(`UPREZ-LINE ${name} `.length));
    };
    // Only the qemu monitor's screendump: a /screen.png read-back runs on uprez's frame path and,
    // under emulation, holds it for seconds: long enough to miss a watchdog ping (a finding).
    let idleCard: Screen | undefined;

    let first: Record<string, any> = {};
    let activeAt = 0;
    await t.test('systemd boots and the unit becomes active with its first frame (READY=1)', async (t) => {
      const control = await vm.next('control', BOOT_TIMEOUT_MS);
      timings.push(`systemd up ${since(started)} (guest uptime ${String(control.uptime)} s)`);
      vm.send('wait-active');
      first = await vm.next('active', BOOT_TIMEOUT_MS);
      activeAt = Date.now();
      timings.push(`unit active ${since(started)} (guest: ${(Number(first.ActiveEnterTimestampMonotonic) / 1e6).toFixed(1)} s after the kernel started)`);
      t.equal(first.SubState, 'running', 'running');
      t.equal(first.NRestarts, '0', 'on its first start');
      t.equal(first.WatchdogUSec, `${WATCHDOG_SEC}s`, "with the drop-in's watchdog");
      t.match(first.StatusText, /\S/, `its STATUS= line: ${String(first.StatusText)}`);
      idleCard = await screendump();
      t.ok(colours(idleCard) > 100, `the screen shows uprez's idle card (${colours(idleCard)} colours)`);
    });

    await t.test('it runs as user uprez in its sandbox', async (t) => {
      const status = (await lines('sandbox')).join('\n');
      const uprezUid = /^Uid:\s+(\d+)/m.exec(status)?.[1];
      t.not(uprezUid, '0', `not as root (${status.replace(/\s+/g, ' ')})`);
      t.match(status, /^CapEff:\s+0+$/m, 'no capabilities');
      t.match(status, /^NoNewPrivs:\s+1$/m, 'no new privileges');
      t.match(status, /^Seccomp:\s+2$/m, 'a system call filter');
    });

    await t.test('uprez feeds the watchdog: still the same process after more than WatchdogSec', async (t) => {
      // From systemd's point of view: its last WATCHDOG=1 came after READY=1, and nothing restarted.
      const left = activeAt + (WATCHDOG_SEC + 5) * 1000 - Date.now();
      if (left > 0) await sleep(left);
      vm.send('show');
      const later = await vm.next('unit', 60_000);
      t.equal(later.MainPID, first.MainPID, `the same process (${String(later.MainPID)})`);
      t.equal(later.NRestarts, '0', 'no restarts');
      t.ok(Number(later.WatchdogTimestampMonotonic) > Number(first.ActiveEnterTimestampMonotonic),
        `pings after READY=1 (the last ${((Number(later.WatchdogTimestampMonotonic) - Number(first.ActiveEnterTimestampMonotonic)) / 1e6).toFixed(1)} s after it)`);
    });

    await t.test('the frame path frozen: the watchdog kills uprez and systemd restarts it', async (t) => {
      const from = Date.now();
      const frozen = await fetch(`http://127.0.0.1:${hostPort}/test/freeze-display`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
      t.equal(frozen.status, 200, 'the freeze hook answers');
      vm.send('wait-restarts 0');
      const again = await vm.next('restarted', BOOT_TIMEOUT_MS);
      timings.push(`freeze to active again ${since(from)}`);
      t.equal(again.NRestarts, '1', 'systemd restarted it once');
      t.not(again.MainPID, first.MainPID, `a new process (${String(first.MainPID)} -> ${String(again.MainPID)})`);
      t.equal(again.SubState, 'running', 'running again');
      const journal = (await lines('journal')).join('\n');
      t.match(journal, /"event":"watchdog\.withheld"/, 'uprez stopped feeding the watchdog');
      t.match(journal, new RegExp(`uprez\\.service: Watchdog timeout \\(limit ${WATCHDOG_SEC}s\\)`), "systemd's watchdog fired");
      t.match(journal, /uprez\.service: Main process exited, code=(dumped|killed), status=6\/ABRT/, 'and killed it (SIGABRT)');
      t.equal(describeDifference(await screendump(), idleCard!), '', 'the screen shows the idle card again');
    });

    await t.test('systemctl stop: SIGTERM, and uprez exits cleanly', async (t) => {
      const from = Date.now();
      vm.send('stop');
      const returned = await vm.next('stop-returned', 60_000);
      t.equal(returned.code, 0, 'systemctl stop succeeds');
      const stopped = await vm.next('stopped', 60_000);
      timings.push(`stop ${since(from)}`);
      t.equal(stopped.ActiveState, 'inactive', 'inactive');
      t.equal(stopped.Result, 'success', 'Result=success');
      t.equal(stopped.ExecMainCode, '1', 'the process exited (CLD_EXITED), not killed');
      t.equal(stopped.ExecMainStatus, '0', 'with status 0');
      const journal = (await lines('journal')).join('\n');
      t.match(journal, /"event":"stopped","signal":"SIGTERM"/, 'uprez logged its stop');
      const stopping = journal.lastIndexOf('Stopping uprez.service');
      t.ok(stopping >= 0, 'systemd logged the stop');
      t.notMatch(journal.slice(stopping), /SIGKILL|timed out/, 'no SIGKILL after the stop timeout');
      t.not(describeDifference(await screendump(), idleCard!), '', 'it gave the screen back (the CRTC as it found it)');
    });

    t.comment(`${timings.join('; ')}; whole test ${since(started)}`);
  });
}
