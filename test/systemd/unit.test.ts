// systemd/uprez.service and systemd/install.sh, checked without a running systemd:
// `systemd-analyze verify` and `systemd-analyze security --offline=true` on the unit
// (and on broken or weakened copies, to show the checks can fail), the settings the
// daemon cannot do without, the install script's syntax (bash -n, shellcheck) and its
// --dry-run, and the sample photos the script installs.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import t from 'tap';
import { repoRoot } from '../../src/service/paths.js';
import { NotifyReceiver } from '../helpers/notify-receiver.js';

const unitPath = join(repoRoot, 'systemd', 'uprez.service');
const installScript = join(repoRoot, 'systemd', 'install.sh');
const samplesDir = join(repoRoot, 'config', 'sample-photos');
const EXEC_START = '/usr/bin/node /opt/uprez/bin/uprez run --config /etc/uprez/config.json';
// Measured with systemd 252 (Debian 12): 1.6 "OK". Dropping any one of ProtectHome,
// PrivateTmp, ProtectKernelTunables or RestrictNamespaces raises it.
const MAX_EXPOSURE = 1.6;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end; a non-zero exit is a result, not an exception. */
function runTool(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Result> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, maxBuffer: 1 << 26, timeout: 120_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') reject(error);
      else resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

function findTool(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/bin', '/bin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not in this one
    }
  }
  return undefined;
}

const missingPackage = (tool: string, pkg: string) =>
  `${tool} is not installed: it comes with the Debian package ${pkg} ("${pkg}  test" in scripts/debian-packages.txt; ` +
  'npm test installs it)';

const unitText = readFileSync(unitPath, 'utf8');

/** Every assignment of the unit as "Section.Key" -> values in order (an empty assignment is ''). */
function unitSettings(text: string): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1];
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = `${section}.${line.slice(0, eq).trim()}`;
    settings.set(key, [...(settings.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return settings;
}

/**
 * The unit as this checkout would run it: ExecStart= pointing at this node and this
 * repository's bin/uprez (the installed paths need not exist here), in a folder of its own.
 */
function localUnit(): string {
  const quote = (path: string) => (/\s/.test(path) ? `"${path}"` : path);
  const local = unitText.replace(
    /^ExecStart=\/usr\/bin\/node \/opt\/uprez\/bin\/uprez /m,
    `ExecStart=${quote(process.execPath)} ${quote(join(repoRoot, 'bin', 'uprez'))} `,
  );
  if (local === unitText) throw new Error(`the unit has no "ExecStart=${EXEC_START}" line to point at this checkout`);
  return local;
}

function writeTestCopy(dir: string, edit: (text: string) => string = (text) => text): string {
  const file = join(dir, 'uprez.service');
  writeFileSync(file, edit(localUnit()));
  return file;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const analyze = findTool('systemd-analyze');
const work = mkdtempSync(join(tmpdir(), 'uprez-systemd-test-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

// systemd 252 has both flags: no man page look-ups, errors only for this unit (not for
// getty@tty1.service and the other units it names).
const verify = (file: string) => runTool(analyze!, ['verify', '--man=no', '--recursive-errors=no', file]);

async function exposure(file: string): Promise<{ score: number; label: string; output: string }> {
  const result = await runTool(analyze!, ['security', '--offline=true', '--no-pager', file]);
  const match = /Overall exposure level for uprez\.service: (\d+(?:\.\d+)?) (\S+)/.exec(result.stdout);
  if (!match) throw new Error(`no exposure level in the output of systemd-analyze security (exit ${result.code}):\n${result.stdout}${result.stderr}`);
  return { score: Number(match[1]), label: match[2], output: result.stdout };
}

t.test('systemd-analyze verify accepts the unit', async (t) => {
  if (!analyze) return void t.fail(missingPackage('systemd-analyze', 'systemd'));
  t.equal(unitSettings(unitText).get('Service.ExecStart')?.join('|'), EXEC_START, 'ExecStart= runs the installed uprez with /etc/uprez/config.json');
  const dir = join(work, 'verify');
  await mkdir(dir);
  const file = writeTestCopy(dir);
  const result = await verify(file);
  t.equal(result.code, 0, `systemd-analyze verify exits 0\n${result.stdout}${result.stderr}`);
  t.equal(result.stderr.trim(), '', 'and complains about nothing');
});

t.test('systemd-analyze verify rejects broken copies (so the check above can fail)', async (t) => {
  if (!analyze) return void t.fail(missingPackage('systemd-analyze', 'systemd'));
  const breakages: [string, (text: string) => string, RegExp][] = [
    ['a misspelt key', (text) => text.replace(/^NotifyAccess=/m, 'NotifyAcess='), /Unknown key/],
    ['a bad value', (text) => text.replace(/^Type=notify$/m, 'Type=notfy'), /service type/],
    ['a bad device right', (text) => text.replace(/^DeviceAllow=char-drm rw$/m, 'DeviceAllow=char-drm rwz'), /device rights/i],
    ['a program that does not exist', (text) => text.replace(/^ExecStart=\S+/m, 'ExecStart=/nonexistent/node'), /not executable/],
  ];
  for (const [what, edit, complaint] of breakages) {
    const dir = join(work, `broken-${what.replace(/\W+/g, '-')}`);
    await mkdir(dir);
    const file = writeTestCopy(dir, edit);
    t.not(readFileSync(file, 'utf8'), localUnit(), `${what}: the copy is changed`);
    const result = await verify(file);
    t.not(result.code, 0, `${what}: verify fails`);
    t.match(result.stderr, complaint, `${what}: and says why: ${result.stderr.trim().split('\n')[0]}`);
  }
});

t.test(`systemd-analyze security: exposure at most ${MAX_EXPOSURE}`, async (t) => {
  if (!analyze) return void t.fail(missingPackage('systemd-analyze', 'systemd'));
  const dir = join(work, 'security');
  await mkdir(dir);
  const { score, label, output } = await exposure(writeTestCopy(dir));
  t.comment(`exposure level of uprez.service: ${score} ${label}`);
  t.comment(output.split('\n').filter((line) => line.startsWith('✗')).map((line) => line.replace(/\s{2,}/g, '  ')).join('\n'));
  t.ok(score <= MAX_EXPOSURE, `exposure ${score} <= ${MAX_EXPOSURE}`);

  // Without the system call filter and with capabilities, the same measure must be worse.
  const weakDir = join(work, 'security-weak');
  await mkdir(weakDir);
  const weak = await exposure(writeTestCopy(weakDir, (text) => text.replace(/^(SystemCallFilter|CapabilityBoundingSet)=.*$/gm, '')));
  t.ok(weak.score > MAX_EXPOSURE, `a weakened copy scores worse: ${weak.score} ${weak.label}`);
});

t.test('the sandbox keeps what uprez needs', async (t) => {
  const settings = unitSettings(unitText);
  const one = (key: string) => settings.get(key)?.at(-1);
  const words = (key: string) => (settings.get(key) ?? []).flatMap((value) => value.split(/\s+/)).filter(Boolean);
  const yes = (key: string) => ['yes', 'true', '1', 'on'].includes(one(key) ?? '');

  // The daemon's contract with systemd.
  t.equal(one('Service.Type'), 'notify', 'Type=notify: started = first frame shown');
  t.equal(one('Service.NotifyAccess'), 'main');
  t.ok(Number(one('Service.WatchdogSec')) > 0, 'a watchdog');
  t.equal(one('Service.Restart'), 'always');
  t.equal(one('Service.User'), 'uprez');
  t.same(words('Service.SupplementaryGroups').sort(), ['render', 'video'], 'groups video (KMS) and render (GPU)');
  t.equal(one('Service.StateDirectory'), 'uprez', '$STATE_DIRECTORY = /var/lib/uprez, the photo folder inside');
  t.equal(words('Service.CacheDirectory')[0], 'uprez', '$CACHE_DIRECTORY starts with /var/cache/uprez');
  t.equal(one('Install.WantedBy'), 'multi-user.target');
  t.ok(words('Unit.Conflicts').includes('getty@tty1.service'));

  // Hardening that would break it, which a higher score invites.
  t.notOk(yes('Service.PrivateDevices'), 'no PrivateDevices: it hides /dev/dri');
  t.notOk(yes('Service.MemoryDenyWriteExecute'), 'no MemoryDenyWriteExecute: V8 and llvmpipe JIT');
  t.notOk(yes('Service.PrivateUsers'), 'no PrivateUsers: the device groups would not be mapped');
  t.notOk(yes('Service.PrivateNetwork'), 'no PrivateNetwork: the HTTP server');
  t.notOk(settings.has('Service.IPAddressDeny'), 'no IPAddressDeny: the http option may listen on the LAN');
  t.notOk(one('Service.ProcSubset') === 'pid', 'no ProcSubset=pid: Node sizes its heap from /proc/meminfo');
  t.equal(one('Service.DevicePolicy'), 'closed');
  t.ok((settings.get('Service.DeviceAllow') ?? []).includes('char-drm rw'), 'DeviceAllow=char-drm rw: card* and renderD*');
  for (const family of ['AF_UNIX', 'AF_INET', 'AF_INET6', 'AF_NETLINK']) {
    t.ok(words('Service.RestrictAddressFamilies').includes(family), `address family ${family} allowed`);
  }
  t.ok(words('Service.SystemCallFilter').includes('@system-service'), 'system calls: @system-service');
  t.equal(one('Service.SystemCallErrorNumber'), 'EPERM', 'a refused system call fails rather than killing');

  // The system calls DRM, Mesa and Node depend on are in the allowed groups and in no denied one.
  if (!analyze) return void t.fail(missingPackage('systemd-analyze', 'systemd'));
  const allowed = await allowedSyscalls();
  t.ok(allowed.size > 100, `${allowed.size} system calls allowed`);
  for (const call of ['ioctl', 'mmap', 'mprotect', 'madvise', 'epoll_wait', 'accept4', 'memfd_create', 'eventfd2', 'clone3', 'futex', 'statx', 'pkey_alloc']) {
    t.ok(allowed.has(call), `${call} is allowed`);
  }
});

/** `syscall-filter @group` lists its calls and its nested groups (as @names): expands those too. */
async function expandGroups(groups: string[], into = new Set<string>(), seen = new Set<string>()): Promise<Set<string>> {
  for (const group of groups) {
    if (seen.has(group)) continue;
    seen.add(group);
    if (!group.startsWith('@')) {
      into.add(group);
      continue;
    }
    const { stdout } = await runTool(analyze!, ['syscall-filter', '--no-pager', group]);
    const entries = stdout.split('\n').slice(1).map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
    for (const entry of entries) if (/^[a-z_0-9]+$/.test(entry)) into.add(entry);
    await expandGroups(entries.filter((entry) => entry.startsWith('@')), into, seen);
  }
  return into;
}

/** The system calls the unit's SystemCallFilter= lines let through (allow lists, then ~deny lists). */
async function allowedSyscalls(): Promise<Set<string>> {
  const values = unitSettings(unitText).get('Service.SystemCallFilter') ?? [];
  const split = (value: string) => value.split(/\s+/).filter(Boolean);
  const allowed = await expandGroups(values.filter((value) => !value.startsWith('~')).flatMap(split));
  const denied = await expandGroups(values.filter((value) => value.startsWith('~')).flatMap((value) => split(value.slice(1))));
  for (const call of denied) allowed.delete(call);
  return allowed;
}

/** The system calls `strace -f -c` counted (its summary table, one call per row). */
function summarisedSyscalls(summary: string): string[] {
  return summary
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length >= 5 && /^\d/.test(fields[0]) && /^[a-z_0-9]+$/.test(fields.at(-1)!) && fields.at(-1) !== 'total')
    .map((fields) => fields.at(-1)!);
}

// What the daemon does besides its own start-up, in one Node process: an HTTP and a
// websocket server, fs.watch, a worker thread, sharp decoding and encoding, os facts.
const exercise = `
import { createServer, get } from 'node:http';
import { mkdtempSync, watch, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
const require = createRequire(process.argv[1]);
const sharp = require('sharp');
const { WebSocketServer, WebSocket } = require('ws');
const dir = mkdtempSync(join(os.tmpdir(), 'uprez-exercise-'));
const watcher = watch(dir, () => {});
writeFileSync(join(dir, 'a'), 'x');
os.totalmem(); os.freemem(); os.cpus(); os.availableParallelism(); os.loadavg(); os.networkInterfaces();
const jpeg = await sharp(process.argv[2]).rotate().resize(1200).toColourspace('srgb').jpeg().toBuffer();
await sharp(jpeg).png().toBuffer();
const worker = new Worker('import("node:worker_threads").then(({ parentPort }) => parentPort.postMessage(1))', { eval: true });
await new Promise((resolve) => worker.once('message', resolve));
await worker.terminate();
const server = createServer((request, response) => response.end('ok')).listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const { port } = server.address();
await new Promise((resolve) => get('http://127.0.0.1:' + port + '/', (response) => response.resume().on('end', resolve)));
const sockets = new WebSocketServer({ server });
sockets.on('connection', (socket) => socket.send('hi'));
const client = new WebSocket('ws://127.0.0.1:' + port);
await new Promise((resolve) => client.once('message', resolve));
client.close(); sockets.close(); server.close(); watcher.close();
console.log('EXERCISED');
`;

t.test('the system call filter lets through every call uprez makes (traced with strace)', async (t) => {
  if (!analyze) return void t.fail(missingPackage('systemd-analyze', 'systemd'));
  const strace = findTool('strace');
  if (!strace) return void t.fail(missingPackage('strace', 'strace'));
  const dir = join(work, 'strace');
  await mkdir(dir);
  // The unit's allocator (LD_PRELOAD, with its background thread: MALLOC_CONF) is traced too: its calls must pass the filter as well.
  const allocator = Object.fromEntries((unitSettings(unitText).get('Service.Environment') ?? [])
    .filter((value) => /^(LD_PRELOAD|MALLOC_CONF)=/.test(value)).map((value) => [value.slice(0, value.indexOf('=')), value.slice(value.indexOf('=') + 1)]));
  const env = { ...process.env, XDG_RUNTIME_DIR: dir, TMPDIR: dir, ...allocator };
  const used = new Set<string>();

  // 1. The daemon itself, headless on llvmpipe, from its start to READY=1 and then SIGTERM.
  const receiver = await NotifyReceiver.start(join(dir, 'notify.sock'));
  t.teardown(() => receiver.stop());
  const runSummary = join(dir, 'run.summary');
  const run = spawn(strace, ['-f', '-c', '-o', runSummary, process.execPath, join(repoRoot, 'bin', 'uprez'), 'run', '--backend', 'headless', '--size', '320x180'], {
    env: { ...env, NOTIFY_SOCKET: receiver.socketName },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let runOutput = '';
  run.stdout.on('data', (chunk) => (runOutput += chunk));
  run.stderr.on('data', (chunk) => (runOutput += chunk));
  t.teardown(() => void run.kill('SIGKILL'));
  const exited = once(run, 'exit');
  const ready = await Promise.race([receiver.waitFor('READY=1').then(() => true), exited.then(() => false)]);
  t.ok(ready, 'uprez run sent READY=1 under strace', { output: runOutput });
  if (ready) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    // SIGTERM to node (strace's only child), not to strace, which would just detach.
    const node = Number(readFileSync(`/proc/${run.pid}/task/${run.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
    process.kill(node, 'SIGTERM');
  }
  await exited;
  for (const call of summarisedSyscalls(readFileSync(runSummary, 'utf8'))) used.add(call);

  // 2. The rest of what the daemon will do.
  const exerciseSummary = join(dir, 'exercise.summary');
  const script = join(repoRoot, 'package.json');  // resolves sharp and ws from the repository
  const sample = join(samplesDir, readdirSync(samplesDir).find((name) => name.endsWith('.jpg'))!);
  const result = await runTool(strace, ['-f', '-c', '-o', exerciseSummary, process.execPath, '--input-type=module', '-e', exercise, script, sample], env);
  t.match(result.stdout, /EXERCISED/, `the exercise ran\n${result.stderr}`);
  for (const call of summarisedSyscalls(readFileSync(exerciseSummary, 'utf8'))) used.add(call);

  t.ok(used.size > 40, `${used.size} different system calls traced`);
  const allowed = await allowedSyscalls();
  const refused = [...used].filter((call) => !allowed.has(call)).sort();
  t.same(refused, [], `every traced call is allowed by SystemCallFilter= (would be refused: ${refused.join(', ') || 'none'})`);
});

t.test('install.sh: bash -n and shellcheck', async (t) => {
  const syntax = await runTool('bash', ['-n', installScript]);
  t.equal(syntax.code, 0, `bash -n: ${syntax.stderr}`);
  const shellcheck = findTool('shellcheck');
  if (!shellcheck) return void t.fail(missingPackage('shellcheck', 'shellcheck'));
  const lint = await runTool(shellcheck, ['--shell=bash', installScript]);
  t.equal(lint.code, 0, `shellcheck finds nothing\n${lint.stdout}`);
});

t.test('install.sh --dry-run says what it would do and changes nothing', async (t) => {
  const etc = join(work, 'etc-uprez');
  const home = join(work, 'opt-uprez');
  const env = { ...process.env, UPREZ_ETC: etc, UPREZ_HOME: home };
  const config = join(etc, 'config.json');

  const first = await runTool('bash', [installScript, '--dry-run'], env);
  t.equal(first.code, 0, `exits 0\n${first.stderr}`);
  const out = first.stdout;
  t.match(out, /dry run: nothing is changed/);
  t.match(out, new RegExp(`would copy ${escape(repoRoot)} to ${escape(home)}`), 'copies the checkout to UPREZ_HOME');
  t.match(out, new RegExp(`would run, in ${escape(home)}: \\S+ scripts/setup\\.mjs run`), 'sets it up with setup.mjs');
  t.match(out, /(would create the system user uprez|kept: user uprez)/, 'the user');
  t.match(out, /(would|kept: ).*\/var\/lib\/uprez\/photos/, 'the photo folder');
  t.match(out, new RegExp(`would create ${escape(config)}`), 'the config, created when missing');
  t.match(out, /(would install the unit|kept:) \/etc\/systemd\/system\/uprez\.service/, 'the unit');
  t.match(out, /http:\/\/127\.0\.0\.1:8080\/status/, 'where to look');
  t.match(out, /journalctl -u uprez/, 'the log command');
  t.match(out, /dry run: \d+ change\(s\) would be made/);
  t.notOk(existsSync(config), 'no config written');
  t.notOk(existsSync(home), 'nothing copied');
  const actions = out.split('\n').filter((line) => /^\[install\] (create|copy|install|add|fix|enable|start|restart|reload)/.test(line));
  t.same(actions, [], 'every action is a "would"');

  // An existing configuration is the user's: kept, never rewritten.
  await mkdir(etc);
  writeFileSync(config, '{"folder": "/srv/photos"}\n');
  const second = await runTool('bash', [installScript, '--dry-run'], env);
  t.equal(second.code, 0);
  t.match(second.stdout, new RegExp(`kept: ${escape(config)}`), 'an existing config is kept');
  t.notMatch(second.stdout, new RegExp(`would create ${escape(config)}`));
  t.equal(readFileSync(config, 'utf8'), '{"folder": "/srv/photos"}\n', 'and left as it was');

  const bad = await runTool('bash', [installScript, '--bogus'], env);
  t.equal(bad.code, 2, 'an unknown argument is refused');
  t.match(bad.stderr, /unknown argument --bogus/);
});

t.test('the sample photos are small, low-resolution and licensed', async (t) => {
  const photos = readdirSync(samplesDir).filter((name) => name.endsWith('.jpg')).sort();
  t.ok(photos.length >= 3, `${photos.length} photos: ${photos.join(', ')}`);
  const licences = readFileSync(join(samplesDir, 'LICENSES.md'), 'utf8');
  let total = 0;
  for (const name of photos) {
    const file = join(samplesDir, name);
    const size = statSync(file).size;
    total += size;
    const meta = await sharp(file).metadata();
    t.equal(meta.format, 'jpeg', `${name} is a JPEG`);
    t.ok(Math.max(meta.width ?? Infinity, meta.height ?? Infinity) <= 640, `${name}: ${meta.width}x${meta.height}, long side <= 640`);
    t.ok(size < 80_000, `${name}: ${size} bytes < 80 KB`);
    t.ok(licences.includes(`\`${name}\``), `${name} is in LICENSES.md`);
  }
  t.ok(total < 300_000, `${total} bytes in all < 300 KB`);
});
