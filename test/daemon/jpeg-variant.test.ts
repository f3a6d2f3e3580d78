// The JPEG model variant: with models/uprez-x2-jpeg.json next to models/uprez-x2.json, the
// daemon super-resolves a JPEG with the variant and a PNG of the same picture with the model
// itself; each SR version on screen is what `uprez upscale --model` computes with that file,
// and not what the other model computes. The cache keeps the two models apart: the same model
// file without its sibling (behaviour as before the variant) runs SR again for the JPEG, and
// serves the PNG from the cache.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import t from 'tap';
import { yPsnr } from '../../src/quality/protocols.js';
import type { RasterImage } from '../../src/sr/model.js';
import { modelsDir, repoRoot } from '../../src/service/paths.js';
import { daemonDirs, startDaemon, uprez, type RunningDaemon, readRaster, screenRaster } from '../helpers/daemon.js';

const MAIN_MODEL = join(modelsDir, 'uprez-x2.json');
const JPEG_MODEL = join(modelsDir, 'uprez-x2-jpeg.json');



/** `uprez upscale --model FILE` of one picture to the screen's size; its PNG, read back. */
function upscaleCli(file: string, model: string, out: string, cacheHome: string): Promise<RasterImage> {
  return new Promise((done, fail) => {
    execFile(process.execPath, [uprez, 'upscale', file, '--model', model, '--scale', '2', '--size', '320x180', '--out', out],
      { env: { ...process.env, XDG_CACHE_HOME: cacheHome } },
      (error, _stdout, stderr) => (error ? fail(new Error(`uprez upscale failed: ${stderr}`)) : done(readRaster(join(out, 'photo.png')))));
  });
}

/** Drops a file into the folder as a finished file (renamed into place). */
async function drop(daemon: RunningDaemon, name: string, bytes: Buffer): Promise<void> {
  const temporary = join(daemon.dirs.root, `incoming-${name}`);
  await writeFile(temporary, bytes);
  await rename(temporary, join(daemon.dirs.folder, name));
}

const superResolved = (id: string) => (s: Record<string, any>) => s.current?.id === id && s.current.state === 'super-resolved';

t.test('a JPEG gets the -jpeg variant, a PNG the model; each as uprez upscale makes it; the cache keeps them apart', async (t) => {
  const dirs = daemonDirs('uprez-jpeg-variant-');
  const xdg = join(dirs.root, 'xdg-cache');
  // One picture, twice: a JPEG and a PNG of the same 160x90 pixels (one x2 step to 320x180).
  const pixels = sharp(join(repoRoot, 'config', 'sample-photos', 'coffee.jpg')).resize(160, 90, { fit: 'fill' });
  const jpeg = await pixels.clone().jpeg({ quality: 80 }).toBuffer();
  const png = await pixels.clone().png().toBuffer();
  const args = ['--fit', 'contain', '--background', '#000000', '--transition', 'cut', '--interval', '600', '--order', 'name'];

  const paired = startDaemon(dirs, args);
  t.teardown(() => paired.stop('SIGKILL'));
  await paired.waitForLine(/event=slideshow.ready/);
  const ready = await paired.waitForLine(/event=sr.ready/);
  t.match(ready, /model=uprez-x2 jpegVariant=uprez-x2-jpeg /, 'sr.ready names the model and its JPEG variant');
  t.match((await paired.status()).model, { name: 'uprez-x2', jpegVariant: 'uprez-x2-jpeg', engine: /2 models/ }, '/status: both models loaded');

  await drop(paired, 'photo.jpg', jpeg);
  const jpegStatus = await paired.until(superResolved('photo.jpg'), 'photo.jpg super-resolved');
  t.match(jpegStatus.current, { format: 'jpeg', model: 'uprez-x2-jpeg' }, '/status: the JPEG was super-resolved by the variant');
  t.match(await paired.waitForLine(/event=sr.done id=photo\.jpg /), / model=uprez-x2-jpeg$/, 'sr.done: model=uprez-x2-jpeg');
  const jpegScreen = screenRaster(await paired.screen());

  await drop(paired, 'photo.png', png);
  const pngStatus = await paired.until(superResolved('photo.png'), 'photo.png super-resolved');
  t.match(pngStatus.current, { format: 'png', model: 'uprez-x2' }, '/status: the PNG was super-resolved by the model itself');
  t.match(await paired.waitForLine(/event=sr.done id=photo\.png /), / model=uprez-x2$/, 'sr.done: model=uprez-x2');
  const pngScreen = screenRaster(await paired.screen());
  await paired.stop('SIGTERM');

  const [jpegByVariant, jpegByMain, pngByMain, pngByVariant] = await Promise.all([
    upscaleCli(join(paired.dirs.folder, 'photo.jpg'), JPEG_MODEL, join(dirs.root, 'jpg-variant'), xdg),
    upscaleCli(join(paired.dirs.folder, 'photo.jpg'), MAIN_MODEL, join(dirs.root, 'jpg-main'), xdg),
    upscaleCli(join(paired.dirs.folder, 'photo.png'), MAIN_MODEL, join(dirs.root, 'png-main'), xdg),
    upscaleCli(join(paired.dirs.folder, 'photo.png'), JPEG_MODEL, join(dirs.root, 'png-variant'), xdg),
  ]);
  const modelsApart = yPsnr(jpegByVariant, jpegByMain, 0);
  t.ok(modelsApart < 45, `the two models' SR versions of the JPEG differ: Y-PSNR ${modelsApart.toFixed(2)} dB between them (< 45)`);
  const jpegToVariant = yPsnr(jpegScreen, jpegByVariant, 0);
  const jpegToMain = yPsnr(jpegScreen, jpegByMain, 0);
  t.ok(jpegToVariant >= 45, `the JPEG on screen is uprez upscale --model uprez-x2-jpeg.json's: Y-PSNR ${jpegToVariant.toFixed(2)} dB (>= 45)`);
  t.ok(jpegToMain < jpegToVariant, `and not uprez-x2.json's (Y-PSNR ${jpegToMain.toFixed(2)} dB against it)`);
  const pngToMain = yPsnr(pngScreen, pngByMain, 0);
  const pngToVariant = yPsnr(pngScreen, pngByVariant, 0);
  t.ok(pngToMain >= 45, `the PNG on screen is uprez upscale --model uprez-x2.json's: Y-PSNR ${pngToMain.toFixed(2)} dB (>= 45)`);
  t.ok(pngToVariant < pngToMain, `and not uprez-x2-jpeg.json's (Y-PSNR ${pngToVariant.toFixed(2)} dB against it)`);

  // The same model file in a folder without its -jpeg sibling: everything uses it, as before
  // the variant existed. The PNG's entry (same model, same key) is served from the cache; the
  // JPEG's entry was the variant's, so the JPEG is super-resolved again, by uprez-x2.
  const soloDir = join(dirs.root, 'solo-model');
  await mkdir(soloDir);
  const soloModel = join(soloDir, 'uprez-x2.json');
  await copyFile(MAIN_MODEL, soloModel);
  // Its own state directory: it starts at the first picture by name (the JPEG), not where the first one left off.
  const solo = startDaemon(dirs, [...args, '--model', soloModel, '--state-dir', join(dirs.root, 'state-solo')]);
  t.teardown(() => solo.stop('SIGKILL'));
  t.match(await solo.waitForLine(/event=sr.ready/), /model=uprez-x2 jpegVariant=none /, 'sr.ready: no JPEG variant');
  const soloStatus = await solo.until(superResolved('photo.jpg'), 'photo.jpg super-resolved without a variant');
  t.equal(soloStatus.model.jpegVariant, null, '/status: jpegVariant is null');
  t.match(soloStatus.current, { format: 'jpeg', model: 'uprez-x2' }, '/status: the JPEG was super-resolved by the model itself');
  t.match(await solo.waitForLine(/event=sr.done id=photo\.jpg /), / model=uprez-x2$/, 'the JPEG ran SR again (the variant\'s cache entry is not the model\'s)');
  t.equal(solo.count(/event=cache.hit id=photo\.jpg/), 0, 'no cache hit for the JPEG');
  await solo.waitForLine(/event=cache.hit id=photo\.png/);
  t.pass('the PNG, fetched ahead, came from the cache: the model\'s own keys are unchanged');
  const soloJpeg = yPsnr(screenRaster(await solo.screen()), jpegByMain, 0);
  t.ok(soloJpeg >= 45, `the JPEG on screen is uprez upscale --model uprez-x2.json's: Y-PSNR ${soloJpeg.toFixed(2)} dB (>= 45)`);
  await solo.stop('SIGTERM');
});
