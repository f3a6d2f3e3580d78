// A display thread ended while it is inside the addon's GL calls (ScreenThread.close ends one that
// does not give the screen back in time; process.exit ends every thread) must not abort the whole
// process. A call that fails then cannot throw into JavaScript any more; node-addon-api used to
// throw a second C++ exception out of the N-API callback instead: std::terminate, "terminate
// called after throwing an instance of 'Napi::Error'" (packages/node-drm-gbm-egl/src/addon.h).
// In a child process, so that an abort fails this test instead of ending the runner.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import t from 'tap';

t.test('threads ended inside failing GL calls do not abort the process', async (t) => {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./fixtures/terminate-in-gl.js', import.meta.url)), '8'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const [code, signal] = await once(child, 'exit');
  t.match(stdout, /GL calls fail: GL_INVALID_ENUM/, 'the thread was making failing GL calls');
  t.notMatch(stderr, /terminate called|FATAL ERROR/, 'no C++ exception escaped into std::terminate');
  t.same({ code, signal }, { code: 0, signal: null }, `the process survived: ${stdout.trim().split('\n').pop()} ${stderr.trim().slice(-300)}`);
});
