// The daemon's `effort` option reaches the SR engine: with --effort 0.4 the SR version on
// screen is what `uprez upscale --effort 0.4` computes (not the full network's), /status says
// the effort, and the cache keeps the two apart (a restart at effort 1 runs SR again); the
// cache keeps models apart by their content, not their name.
import { execFile } from 'node:child_process';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import t from 'tap';
import { yPsnr } from '../../src/quality/protocols.js';
import { modelsDir, repoRoot } from '../../src/service/paths.js';
import { daemonDirs, startDaemon, uprez, readRaster, screenRaster } from '../helpers/daemon.js';

// A JPEG is super-resolved by the default model's JPEG variant (models/uprez-x2-jpeg.json).
const JPEG_MODEL = join(modelsDir, 'uprez-x2-jpeg.json');



function upscaleCli(args: string[], cacheHome: string): Promise<void> {
  return new Promise((done, fail) => {
    execFile(process.execPath, [uprez, 'upscale', ...args], { env: { ...process.env, XDG_CACHE_HOME: cacheHome } },
      (error, _stdout, stderr) => (error ? fail(new Error(`uprez upscale failed: ${stderr}`)) : done()));
  });
}

t.test('--effort reaches SR: the screen is uprez upscale --effort, /status says it, the cache keeps efforts apart', async (t) => {
  const dirs = daemonDirs();
  const bytes = await sharp(join(repoRoot, 'config', 'sample-photos', 'coffee.jpg')).resize(160, 90, { fit: 'fill' }).jpeg({ quality: 92 }).toBuffer();
  const photo = join(dirs.root, 'photo.jpg');
  await writeFile(photo, bytes);
  const args = ['--size', '640x360', '--fit', 'contain', '--background', '#000000', '--transition', 'cut', '--interval', '600'];

  const low = startDaemon(dirs, [...args, '--effort', '0.4']);
  t.teardown(() => low.stop('SIGKILL'));
  await low.waitForLine(/event=slideshow.ready/);
  await writeFile(join(dirs.root, 'incoming'), bytes);
  await rename(join(dirs.root, 'incoming'), join(dirs.folder, 'photo.jpg'));
  const status = await low.until((s) => s.current?.id === 'photo.jpg' && s.current.state === 'super-resolved', 'photo.jpg super-resolved', 60_000);
  t.equal(status.sr.effort, 0.4, '/status: sr.effort is 0.4');
  const screenLow = await low.screen();
  await low.stop('SIGTERM');

  const xdg = join(dirs.root, 'xdg-cache');
  await upscaleCli([photo, '--model', JPEG_MODEL, '--scale', '4', '--size', '640x360', '--effort', '0.4', '--out', join(dirs.root, 'e04')], xdg);
  await upscaleCli([photo, '--model', JPEG_MODEL, '--scale', '4', '--size', '640x360', '--out', join(dirs.root, 'e1')], xdg);
  const [reference04, reference1] = await Promise.all([readRaster(join(dirs.root, 'e04', 'photo.png')), readRaster(join(dirs.root, 'e1', 'photo.png'))]);
  const toLow = yPsnr(screenRaster(screenLow), reference04, 0);
  const toFull = yPsnr(screenRaster(screenLow), reference1, 0);
  t.ok(toLow >= 45, `the screen at effort 0.4 is uprez upscale --effort 0.4's: Y-PSNR ${toLow.toFixed(2)} dB (>= 45)`);
  t.ok(toFull < toLow, `and not the full network's (Y-PSNR ${toFull.toFixed(2)} dB against it)`);

  // The same picture at effort 1: a cache miss (its own entry), and the full network on screen.
  const full = startDaemon(dirs, args);
  t.teardown(() => full.stop('SIGKILL'));
  await full.until((s) => s.current?.id === 'photo.jpg' && s.current.state === 'super-resolved', 'photo.jpg super-resolved at effort 1', 60_000);
  t.ok(full.count(/event=sr.done id=photo\.jpg/) >= 1, 'effort 1 ran SR itself: the effort-0.4 cache entry was not taken');
  const toFullNow = yPsnr(screenRaster(await full.screen()), reference1, 0);
  t.ok(toFullNow >= 45, `at effort 1 the screen is the full network's: Y-PSNR ${toFullNow.toFixed(2)} dB`);
  await full.stop('SIGTERM');

  // The cache names the model by its content: the same model again is a hit; a file of the
  // same name with other bytes (a retrained model) is not.
  const again = startDaemon(dirs, args);
  t.teardown(() => again.stop('SIGKILL'));
  await again.waitForLine(/event=cache.hit id=photo\.jpg/, 60_000);
  t.equal(again.count(/event=sr.done id=photo\.jpg/), 0, 'the same model again: served from the cache');
  await again.stop('SIGTERM');
  const retrained = join(dirs.root, 'uprez-x2.json');
  await writeFile(retrained, JSON.stringify(JSON.parse(await readFile(join(repoRoot, 'models', 'uprez-x2.json'), 'utf8'))));
  const other = startDaemon(dirs, [...args, '--model', retrained]);
  t.teardown(() => other.stop('SIGKILL'));
  await other.waitForLine(/event=sr.done id=photo\.jpg/, 60_000);
  t.equal(other.count(/event=cache.hit id=photo\.jpg/), 0, 'a model file of the same name with other content: not served the old pictures');
});
