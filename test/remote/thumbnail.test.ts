// GET /thumb.jpg?image=ID: the web page's list thumbnails, behind the token.
import { join } from 'node:path';
import sharp from 'sharp';
import t from 'tap';
import { daemonDirs, startDaemon } from '../helpers/daemon.js';

const token = 'thumbnail-test-token-0123456789';

t.test('thumbnails of the images, behind the token', async (t) => {
  const dirs = daemonDirs();
  await sharp({ create: { width: 640, height: 320, channels: 3, background: { r: 10, g: 200, b: 30 } } }).png().toFile(join(dirs.folder, 'wide.png'));
  const daemon = startDaemon(dirs, ['--model', 'none', '--token', token]);
  t.teardown(() => daemon.stop('SIGKILL'));
  await daemon.until((s) => s.current?.id === 'wide.png', 'the picture on screen');
  const url = await daemon.url('/thumb.jpg?image=wide.png');
  t.equal((await fetch(url)).status, 401, 'no token: 401');
  const response = await fetch(url, { headers: daemon.headers() });
  t.equal(response.status, 200);
  t.equal(response.headers.get('content-type'), 'image/jpeg');
  const { info, data } = await sharp(Buffer.from(await response.arrayBuffer())).raw().toBuffer({ resolveWithObject: true });
  t.same([info.width, info.height], [160, 80], 'at most 160 pixels, the aspect kept');
  t.ok(data[1]! > 150 && data[0]! < 60, `the picture's colour (${data[0]},${data[1]},${data[2]})`);
  const missing = await fetch(await daemon.url('/thumb.jpg?image=nothing.png'), { headers: daemon.headers() });
  t.equal(missing.status, 404, 'an unknown id: 404');
});
