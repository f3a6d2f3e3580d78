// The addon must build on a Raspberry Pi (arm64 and armhf Raspberry Pi OS): compile every
// source file with Debian's cross compilers, warnings as errors. The DRM, GBM, EGL, GLES2
// and Node headers are the same on every architecture; the C library and the compiler's
// own headers come from the cross toolchain, so 32-bit and ARM-only problems show here.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { repoRoot } from '../../src/service/paths.js';

const run = promisify(execFile);
const addonDir = join(repoRoot, 'packages', 'node-drm-gbm-egl');
const sources = readdirSync(join(addonDir, 'src')).filter((name) => name.endsWith('.cc')).sort();
const napiInclude = String(createRequire(join(addonDir, 'package.json'))('node-addon-api').include_dir).replace(/"/g, '');
const nodeInclude = ['/usr/include/node', join(process.execPath, '..', '..', 'include', 'node')].find((dir) => existsSync(join(dir, 'node_api.h')));

const targets = [
  { compiler: 'aarch64-linux-gnu-g++', pi: 'arm64 (Pi 3/4/5, 64-bit Raspberry Pi OS)' },
  { compiler: 'arm-linux-gnueabihf-g++', pi: 'armhf (32-bit Raspberry Pi OS)' },
];

async function found(command: string): Promise<boolean> {
  return run(command, ['--version']).then(() => true, () => false);
}

for (const { compiler, pi } of targets) {
  const available = await found(compiler);
  const skip = available || process.env.UPREZ_REQUIRE_CROSS ? false : `${compiler} is not installed (Debian package g++-${compiler.replace(/-g\+\+$/, '')})`;
  t.test(`the addon compiles for ${pi} without warnings`, { skip }, async (t) => {
    t.ok(nodeInclude, 'Node\'s headers are installed');
    const out = mkdtempSync(join(tmpdir(), 'uprez-cross-'));
    for (const source of sources) {
      const args = [
        '-std=c++17', '-fexceptions', '-fPIC', '-Wall', '-Wextra', '-Wno-unused-parameter', '-Werror',
        '-DNAPI_VERSION=8', '-DNAPI_CPP_EXCEPTIONS', '-DNODE_ADDON_API_DISABLE_DEPRECATED',
        `-I${napiInclude}`, `-I${nodeInclude}`, '-I/usr/include/libdrm',
        // Only what the cross toolchain lacks (EGL, GLES2, gbm, libdrm) comes from the host's /usr/include.
        '-idirafter', '/usr/include',
        '-c', join(addonDir, 'src', source), '-o', join(out, `${source}.o`),
      ];
      const result = await run(compiler, args).then(() => '', (error: { stderr?: string; message: string }) => error.stderr || error.message);
      t.equal(result, '', `src/${source}`);
    }
  });
}
