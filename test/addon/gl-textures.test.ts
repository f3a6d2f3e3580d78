// Textures round-trip byte-exact: bytes -> texImage2D -> drawn through a shader into an
// FBO -> readPixels, at odd sizes, for RGBA, RGB and LUMINANCE; plus texSubImage2D and
// readPixels into a caller's array.
import t from 'tap';
import { openHeadless } from 'node-drm-gbm-egl';
import type { GL, GLTexture } from 'node-drm-gbm-egl';
import { buildProgram, drawPixels, quadVertices } from './fixtures/gl-pattern.js';

const display = openHeadless({ width: 8, height: 8 });
const gl: GL = display.gl;
t.teardown(() => display.close());

const VERTEX = `attribute vec2 a_pixel; uniform vec2 u_size;
void main() { gl_Position = vec4(a_pixel / u_size * 2.0 - 1.0, 0.0, 1.0); }`;
// Samples the texel under each fragment: gl_FragCoord is at the texel centre.
const COPY = `precision highp float; uniform sampler2D u_texture; uniform vec2 u_size;
void main() { gl_FragColor = texture2D(u_texture, gl_FragCoord.xy / u_size); }`;
const copyProgram = buildProgram(gl, VERTEX, COPY);

/** Deterministic bytes (xorshift32), so a failure can be reproduced. */
function randomBytes(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

function createTexture(): GLTexture {
  const texture = gl.createTexture();
  gl.bindTexture(gl.TEXTURE_2D, texture);
  for (const [pname, value] of [
    [gl.TEXTURE_MIN_FILTER, gl.NEAREST],
    [gl.TEXTURE_MAG_FILTER, gl.NEAREST],
    [gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE],
    [gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE],
  ]) {
    gl.texParameteri(gl.TEXTURE_2D, pname, value);
  }
  return texture;
}

/** Draws `source` 1:1 into a fresh RGBA texture through the copy shader and reads it back (GL row order). */
function drawAndRead(source: GLTexture, width: number, height: number): Buffer {
  const target = createTexture();
  gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, width, height, 0, gl.RGBA, gl.UNSIGNED_BYTE, null);
  const fbo = gl.createFramebuffer();
  gl.bindFramebuffer(gl.FRAMEBUFFER, fbo);
  gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, target, 0);
  if (gl.checkFramebufferStatus(gl.FRAMEBUFFER) !== gl.FRAMEBUFFER_COMPLETE) throw new Error('FBO incomplete');
  gl.viewport(0, 0, width, height);
  gl.activeTexture(gl.TEXTURE0);
  gl.bindTexture(gl.TEXTURE_2D, source);
  gl.useProgram(copyProgram);
  gl.uniform1i(gl.getUniformLocation(copyProgram, 'u_texture'), 0);
  drawPixels(gl, copyProgram, quadVertices({ x: 0, y: 0, width, height }), width, height);
  const pixels = gl.readPixels(0, 0, width, height, gl.RGBA, gl.UNSIGNED_BYTE);
  gl.bindFramebuffer(gl.FRAMEBUFFER, null);
  gl.deleteFramebuffer(fbo);
  gl.deleteTexture(target);
  return pixels;
}

/** What an RGBA read of a texture in `format` shows: missing channels filled as GL does. */
function asRGBA(bytes: Buffer, format: 'RGBA' | 'RGB' | 'LUMINANCE'): Buffer {
  if (format === 'RGBA') return bytes;
  const channels = format === 'RGB' ? 3 : 1;
  const out = Buffer.alloc((bytes.length / channels) * 4);
  for (let p = 0; p < bytes.length / channels; p++) {
    const [r, g, b] = channels === 3 ? [bytes[p * 3]!, bytes[p * 3 + 1]!, bytes[p * 3 + 2]!] : [bytes[p]!, bytes[p]!, bytes[p]!];
    out.set([r, g, b, 255], p * 4);
  }
  return out;
}

const sizes: Array<[number, number]> = [[1, 1], [13, 7], [37, 29], [255, 3], [3, 131]];

for (const format of ['RGBA', 'RGB', 'LUMINANCE'] as const) {
  t.test(`${format} textures round-trip byte-exact`, async (t) => {
    const channels = { RGBA: 4, RGB: 3, LUMINANCE: 1 }[format];
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1); // rows of odd widths are tightly packed
    for (const [width, height] of sizes) {
      const bytes = randomBytes(width * height * channels, width * 1000 + height);
      const texture = createTexture();
      gl.texImage2D(gl.TEXTURE_2D, 0, gl[format], width, height, 0, gl[format], gl.UNSIGNED_BYTE, bytes);
      const read = drawAndRead(texture, width, height);
      t.ok(read.equals(asRGBA(bytes, format)), `${width}x${height}`);
      gl.deleteTexture(texture);
    }
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 4);
  });
}

t.test('UNPACK_ALIGNMENT 4 reads padded rows', async (t) => {
  const [width, height] = [5, 3]; // 5 LUMINANCE bytes per row, padded to 8
  const padded = Buffer.alloc(8 * (height - 1) + width, 0xee);
  const tight = randomBytes(width * height, 7);
  for (let y = 0; y < height; y++) tight.copy(padded, y * 8, y * width, (y + 1) * width);
  const texture = createTexture();
  gl.texImage2D(gl.TEXTURE_2D, 0, gl.LUMINANCE, width, height, 0, gl.LUMINANCE, gl.UNSIGNED_BYTE, padded);
  t.ok(drawAndRead(texture, width, height).equals(asRGBA(tight, 'LUMINANCE')), 'padding is skipped');
  gl.deleteTexture(texture);
});

t.test('texSubImage2D replaces exactly the given rectangle', async (t) => {
  const [width, height] = [11, 9];
  const base = randomBytes(width * height * 4, 1);
  const patch = randomBytes(4 * 3 * 4, 2); // 4x3 at (5, 4)
  const texture = createTexture();
  gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, width, height, 0, gl.RGBA, gl.UNSIGNED_BYTE, base);
  gl.texSubImage2D(gl.TEXTURE_2D, 0, 5, 4, 4, 3, gl.RGBA, gl.UNSIGNED_BYTE, patch);
  const expected = Buffer.from(base);
  for (let y = 0; y < 3; y++) patch.copy(expected, ((4 + y) * width + 5) * 4, y * 16, (y + 1) * 16);
  t.ok(drawAndRead(texture, width, height).equals(expected));
  gl.deleteTexture(texture);
});

t.test('readPixels fills a caller array and returns a Buffer over it', async (t) => {
  const [width, height] = [7, 5];
  const bytes = randomBytes(width * height * 4, 3);
  const texture = createTexture();
  gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, width, height, 0, gl.RGBA, gl.UNSIGNED_BYTE, bytes);
  const fbo = gl.createFramebuffer();
  gl.bindFramebuffer(gl.FRAMEBUFFER, fbo);
  gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, texture, 0);

  const out = new Uint8Array(width * height * 4 + 8);
  const result = gl.readPixels(0, 0, width, height, gl.RGBA, gl.UNSIGNED_BYTE, out);
  t.ok(Buffer.isBuffer(result), 'a Buffer');
  t.equal(result.buffer, out.buffer, 'sharing the caller memory');
  t.ok(Buffer.from(out.subarray(0, bytes.length)).equals(bytes), 'attached texture reads back as uploaded');
  t.same([...out.subarray(bytes.length)], new Array(8).fill(0), 'nothing written past the image');

  const region = gl.readPixels(2, 1, 3, 2, gl.RGBA, gl.UNSIGNED_BYTE);
  const expected = Buffer.concat([0, 1].map((row) => bytes.subarray(((1 + row) * width + 2) * 4, ((1 + row) * width + 5) * 4)));
  t.ok(region.equals(expected), 'a sub-rectangle');
  gl.bindFramebuffer(gl.FRAMEBUFFER, null);
  gl.deleteFramebuffer(fbo);
  gl.deleteTexture(texture);
});
