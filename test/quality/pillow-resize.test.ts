// pillowBicubicResize against Pillow's own output (test/quality/fixtures/pillow/, made by
// make-vectors.py there): shrinking by 2 (the bicubic protocol's LR), growing by 2 (its
// reference), odd and one-axis sizes, every byte equal.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import t from 'tap';
import { pillowBicubicResize } from '../../src/quality/pillow-resize.js';
import type { RasterImage } from '../../src/sr/model.js';
import { repoRoot } from '../../src/service/paths.js';

const fixtures = join(repoRoot, 'test', 'quality', 'fixtures', 'pillow');

async function readRgb(file: string): Promise<RasterImage> {
  const { data, info } = await sharp(join(fixtures, file)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  t.equal(info.channels, 3, `${file} is RGB`);
  return { width: info.width, height: info.height, channels: 3, data: new Uint8Array(data) };
}

t.test('every byte as Pillow makes it', async (t) => {
  const vectors = JSON.parse(readFileSync(join(fixtures, 'vectors.json'), 'utf8')) as {
    pillow: string; input: string; outputs: { width: number; height: number; file: string }[];
  };
  const input = await readRgb(vectors.input);
  t.ok(vectors.outputs.length >= 6, `vectors from Pillow ${vectors.pillow}`);
  for (const { width, height, file } of vectors.outputs) {
    const expected = await readRgb(file);
    const got = pillowBicubicResize(input, width, height);
    t.same([got.width, got.height, got.channels], [width, height, 3], `${file}: size`);
    let differing = 0;
    for (let i = 0; i < got.data.length; i++) if (got.data[i] !== expected.data[i]) differing++;
    t.equal(differing, 0, `${input.width}x${input.height} -> ${width}x${height}: no byte differs`);
  }
});

t.test('the same size is a copy; a flat image stays flat', async (t) => {
  const input = await readRgb('input.png');
  const same = pillowBicubicResize(input, input.width, input.height);
  t.same(Buffer.from(same.data), Buffer.from(input.data));
  t.not(same.data, input.data, 'a new buffer');
  const flat: RasterImage = { width: 9, height: 7, channels: 3, data: new Uint8Array(9 * 7 * 3).fill(200) };
  t.same([...pillowBicubicResize(flat, 4, 3).data], new Array(4 * 3 * 3).fill(200));
  t.same([...pillowBicubicResize(flat, 18, 14).data], new Array(18 * 14 * 3).fill(200));
});
