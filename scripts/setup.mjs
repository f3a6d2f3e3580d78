#!/usr/bin/env node
// Does whatever set-up is still missing before `npm start` (mode "run") or `npm test`
// (mode "test"): Debian packages, npm dependencies, the native addon, the TypeScript
// build. Prints each thing it does. Uses only Node's built-ins: it runs before `npm ci`.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const mode = process.argv[2] === 'test' ? 'test' : 'run';

function say(message) {
  process.stdout.write(`[setup] ${message}\n`);
}

function stop(message) {
  process.stderr.write(`[setup] ${message}\n`);
  process.exit(1);
}

function run(command, args, options = {}) {
  say(`running: ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root, ...options });
  if (result.status !== 0) stop(`failed: ${[command, ...args].join(' ')} (exit ${result.status ?? result.signal})`);
}

function checkNode() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 19)) {
    stop(`Node ${process.versions.node} is too old: uprez needs Node >= 20.19 (sharp and chokidar need it). ` +
      'On a Raspberry Pi, install Node 20 from NodeSource or the official arm64 build.');
  }
}

/** The packages of scripts/debian-packages.txt this mode needs on this architecture. */
export function neededPackages(forMode, arch) {
  const text = readFileSync(join(root, 'scripts', 'debian-packages.txt'), 'utf8');
  const packages = [];
  for (const line of text.split('\n')) {
    const fields = line.replace(/#.*/, '').trim().split(/\s+/).filter(Boolean);
    if (fields.length < 2) continue;
    const [name, neededFor, ...arches] = fields;
    if (neededFor === 'test' && forMode !== 'test') continue;
    if (arches.length > 0 && !arches.includes(arch)) continue;
    packages.push(name);
  }
  return packages;
}

function debianArch() {
  try {
    return execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

function isInstalled(name) {
  const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.includes('install ok installed');
}

function ensureDebianPackages() {
  const arch = debianArch();
  if (arch === null) {
    say('not a Debian-based system (no dpkg): install the equivalents of scripts/debian-packages.txt yourself');
    return;
  }
  const missing = neededPackages(mode, arch).filter((name) => !isInstalled(name));
  if (missing.length === 0) return;
  const command = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  say(`missing Debian packages: ${missing.join(' ')}`);
  if (process.getuid?.() !== 0) stop(`not root, so cannot install them. Run:\n  sudo sh -c '${command}'\nthen run this again.`);
  const environment = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update'], { env: environment });
  run('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env: environment });
}

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

function ensureNodeModules() {
  const installed = join(root, 'node_modules', '.package-lock.json');
  if (existsSync(installed) && statSync(installed).mtimeMs >= statSync(join(root, 'package-lock.json')).mtimeMs) return;
  say('npm dependencies are missing or out of date');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

function ensureAddon() {
  const addonDir = join(root, 'packages', 'node-drm-gbm-egl');
  const built = join(addonDir, 'build', 'Release', 'drm_gbm_egl.node');
  const sourcesChanged = Math.max(newestMtime(join(addonDir, 'src')), newestMtime(join(addonDir, 'binding.gyp')));
  if (existsSync(built) && statSync(built).mtimeMs >= sourcesChanged) return;
  say('the native addon node-drm-gbm-egl is not built or is older than its sources');
  run('npm', ['rebuild', 'node-drm-gbm-egl']);
}

/**
 * bufferutil unmasks websocket frames natively (30x faster than ws's JavaScript: a pushed 5 MB
 * picture costs the event loop 0.3 ms, not 10). Where it has no prebuilt binary (arm64) and npm
 * skipped its install script, build it; should that fail, ws falls back to JavaScript.
 */
function ensureBufferutil() {
  const require = createRequire(join(root, 'package.json'));
  try {
    require('bufferutil');
    return;
  } catch {
    say('bufferutil has no binary for this machine: building it');
  }
  const result = spawnSync('npm', ['rebuild', 'bufferutil'], { stdio: 'inherit', cwd: root });
  if (result.status !== 0) say('bufferutil did not build; websockets use the slower JavaScript unmasking');
}

function buildTypeScript() {
  say('compiling TypeScript (tsc -p .)');
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  run(process.execPath, [tsc, '-p', '.']);
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[3] === '--list') {
  // `node scripts/setup.mjs test --list`: the package names, for .ci/run.
  process.stdout.write(`${neededPackages(mode, debianArch() ?? 'amd64').join('\n')}\n`);
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  checkNode();
  ensureDebianPackages();
  ensureNodeModules();
  ensureAddon();
  ensureBufferutil();
  buildTypeScript();
  say('ready');
}
