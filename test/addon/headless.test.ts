// The headless display on real Mesa (llvmpipe): draw a known pattern, present it,
// read back exact pixels.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';
import { DisplayError, openHeadless } from 'node-drm-gbm-egl';
import { repoRoot } from '../../src/service/paths.js';
import { drawPattern, expectedPattern, firstDifference } from './fixtures/gl-pattern.js';

t.test('a drawn pattern reads back exactly, top row first', async (t) => {
  const [width, height] = [41, 29];
  const display = openHeadless({ width, height });
  t.teardown(() => display.close());
  const { gl } = display;
  gl.bindFramebuffer(gl.FRAMEBUFFER, null);
  drawPattern(gl, width, height);
  await display.present();
  const pixels = display.readPixels();
  t.equal(pixels.length, width * height * 4);
  t.equal(firstDifference(pixels, expectedPattern(width, height), width), null, 'every pixel as computed');
});

t.test('present() swaps: readPixels shows the presented frame, not the one being drawn', async (t) => {
  const display = openHeadless({ width: 5, height: 3 });
  t.teardown(() => display.close());
  const { gl } = display;
  t.same([...display.readPixels().subarray(0, 4)], [0, 0, 0, 255], 'a fresh display is opaque black');

  const firstBuffer = gl.defaultFramebuffer;
  t.equal(gl.getParameter(gl.FRAMEBUFFER_BINDING), firstBuffer, 'the default framebuffer is bound at open');
  gl.clearColor(0, 1, 0, 1);
  gl.clear(gl.COLOR_BUFFER_BIT);
  await display.present();
  t.not(gl.defaultFramebuffer, firstBuffer, 'the default framebuffer is now the other buffer');
  t.equal(gl.getParameter(gl.FRAMEBUFFER_BINDING), gl.defaultFramebuffer, 'and it is bound in place of the old one');

  gl.clearColor(0, 0, 1, 1);
  gl.clear(gl.COLOR_BUFFER_BIT);
  t.same([...display.readPixels().subarray(0, 4)], [0, 255, 0, 255], 'green until the next present');
  await display.present();
  t.same([...display.readPixels().subarray(0, 4)], [0, 0, 255, 255], 'blue after it');

  // readPixels leaves the binding alone: an FBO bound by the caller stays bound.
  const fbo = gl.createFramebuffer();
  gl.bindFramebuffer(gl.FRAMEBUFFER, fbo);
  display.readPixels();
  t.equal(gl.getParameter(gl.FRAMEBUFFER_BINDING), fbo);
  await display.present();
  t.equal(gl.getParameter(gl.FRAMEBUFFER_BINDING), fbo, 'present leaves a caller FBO bound too');
  gl.deleteFramebuffer(fbo);
});

t.test('info and size', async (t) => {
  const display = openHeadless({ width: 64, height: 48 });
  t.teardown(() => display.close());
  t.equal(display.width, 64);
  t.equal(display.height, 48);
  t.equal(display.refreshHz, 60);
  t.equal(display.info.backend, 'headless');
  t.equal(display.info.mode, '64x48@60');
  t.match(display.info.glVersion, /^OpenGL ES \d\.\d/);
  t.ok(display.info.glRenderer.length > 0, `renderer: ${display.info.glRenderer}`);
  t.ok(display.info.glVendor.length > 0);
  t.match(display.info.eglVersion, /^1\.\d/);
  t.same(display.gl.getParameter(display.gl.VIEWPORT), [0, 0, 64, 48], 'the viewport starts at the display size');
});

t.test('close() is idempotent and a closed display says so', async (t) => {
  const display = openHeadless({ width: 2, height: 2 });
  display.close();
  display.close();
  t.throws(() => display.readPixels(), /closed/);
  await t.rejects(display.present(), /closed/);
});

t.test('bad sizes are DisplayErrors', async (t) => {
  t.throws(() => openHeadless({ width: 0, height: 10 }), DisplayError);
  t.throws(() => openHeadless({ width: 1.5, height: 10 }), { code: 'bad-size' });
  t.throws(() => openHeadless({ width: 100000, height: 8 }), { code: 'bad-size', message: /larger than this GPU/ });
});

t.test('two displays on one thread: present and readPixels use their own context', async (t) => {
  const a = openHeadless({ width: 3, height: 3 });
  a.gl.clearColor(1, 0, 0, 1);
  a.gl.clear(a.gl.COLOR_BUFFER_BIT);
  await a.present();
  const b = openHeadless({ width: 3, height: 3 }); // now current
  b.gl.clearColor(0, 0, 1, 1);
  b.gl.clear(b.gl.COLOR_BUFFER_BIT);
  await b.present();
  t.same([...a.readPixels().subarray(0, 4)], [255, 0, 0, 255]);
  t.same([...b.readPixels().subarray(0, 4)], [0, 0, 255, 255]);
  a.close();
  t.same([...b.readPixels().subarray(0, 4)], [0, 0, 255, 255], 'closing one leaves the other working');
  b.close();
});

/** Tries openHeadless in a fresh process with `env` added; returns the error it raised, or null. */
async function openInChild(env: Record<string, string>): Promise<{ name: string; code: string; message: string } | null> {
  const script = `
    import { openHeadless } from 'node-drm-gbm-egl';
    try { openHeadless({ width: 2, height: 2 }).close(); console.log('null'); }
    catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })); }`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
  });
  return JSON.parse(stdout);
}

t.test('missing Mesa pieces are DisplayErrors that name the Debian packages', async (t) => {
  // glvnd finds no EGL vendor library: as if libegl-mesa0 were not installed.
  const noVendor = await openInChild({ __EGL_VENDOR_LIBRARY_FILENAMES: '/nonexistent/50_mesa.json' });
  t.match(noVendor, { name: 'DisplayError', code: 'egl', message: /libegl-mesa0.*apt-get install libegl-mesa0 libgl1-mesa-dri/s });
  // Mesa's EGL finds no driver: as if libgl1-mesa-dri were not installed.
  const noDriver = await openInChild({ LIBGL_DRIVERS_PATH: '/nonexistent' });
  t.match(noDriver, { name: 'DisplayError', code: 'egl', message: /no Mesa GL driver could be loaded.*libgl1-mesa-dri/s });
  t.equal(await openInChild({}), null, 'with everything in place it opens');
});
