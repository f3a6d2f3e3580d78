// `uprez info` for real: the compiled CLI in a child process.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { repoRoot } from '../../src/service/paths.js';

const run = promisify(execFile);
const uprez = join(repoRoot, 'bin', 'uprez');

t.test('--json describes the cards and the GPU', async (t) => {
  const { stdout } = await run(process.execPath, [uprez, 'info', '--json']);
  const info = JSON.parse(stdout);
  t.ok(Array.isArray(info.cards), 'cards is a list');
  t.type(info.gl.renderer, 'string');
  t.ok(info.gl.renderer.length > 0, `renderer: ${info.gl.renderer}`);
  t.match(info.gl.version, /OpenGL ES/);
  t.ok(info.gl.limits.MAX_TEXTURE_SIZE >= 2048, 'a GLES2 GPU has textures of at least 2048');
  t.equal(info.gl.limits.MAX_VIEWPORT_DIMS.length, 2, 'viewport limit has width and height');
  t.ok(info.gl.limits.MAX_TEXTURE_IMAGE_UNITS >= 8);
  t.ok(info.gl.extensions.length > 0, 'extensions are listed');
});

t.test('plain text lists the same facts', async (t) => {
  const { stdout } = await run(process.execPath, [uprez, 'info']);
  t.match(stdout, /^DRM cards/m);
  t.match(stdout, /^GL renderer: \S/m);
  t.match(stdout, /MAX_TEXTURE_SIZE\s+\d+/);
  t.match(stdout, /^extensions \(\d+\):/m);
});

t.test('an unknown option is refused with a pointer to --help', async (t) => {
  await t.rejects(run(process.execPath, [uprez, 'info', '--bogus']), /Unknown option '--bogus'/);
});
