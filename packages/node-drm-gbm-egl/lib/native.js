// Loads the compiled addon (built by node-gyp into build/Release or build/Debug).
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const packageDir = fileURLToPath(new URL('..', import.meta.url));

function loadNative() {
  for (const flavour of ['Release', 'Debug']) {
    const file = `${packageDir}build/${flavour}/drm_gbm_egl.node`;
    if (existsSync(file)) return require(file);
  }
  throw new Error(
    `node-drm-gbm-egl: the native addon is not built (looked in ${packageDir}build/). ` +
      'Run `npm ci` (or `npm rebuild node-drm-gbm-egl`) after installing the Debian packages in scripts/debian-packages.txt.',
  );
}

export const native = loadNative();
