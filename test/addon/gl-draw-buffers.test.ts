// Multiple render targets (EXT_draw_buffers): one draw writes gl_FragData[i] to several
// colour attachments, each read back exactly; NONE leaves its attachment untouched.
import t from 'tap';
import { openHeadless } from 'node-drm-gbm-egl';
import type { GL, GLTexture } from 'node-drm-gbm-egl';
import { buildProgram, drawPixels, quadVertices } from './fixtures/gl-pattern.js';

const display = openHeadless({ width: 8, height: 8 });
const gl: GL = display.gl;
t.teardown(() => display.close());

const hasExtension = gl.getSupportedExtensions().includes('GL_EXT_draw_buffers');
const maxDrawBuffers = hasExtension ? (gl.getParameter(gl.MAX_DRAW_BUFFERS_EXT) as number) : 1;
const skip = !hasExtension
  ? `this GL (${display.info.glRenderer}) has no GL_EXT_draw_buffers`
  : maxDrawBuffers < 2 ? `MAX_DRAW_BUFFERS_EXT is ${maxDrawBuffers}` : false;

const VERTEX = `attribute vec2 a_pixel; uniform vec2 u_size;
void main() { gl_Position = vec4(a_pixel / u_size * 2.0 - 1.0, 0.0, 1.0); }`;

/** Target i gets bytes (x + 10i, y + 20i, 30 + 40i, 255 - i) at pixel (x, y). */
function fragmentShader(targets: number): string {
  const writes = Array.from({ length: targets }, (_, i) =>
    `  gl_FragData[${i}] = vec4(p + vec2(${10 * i}.0, ${20 * i}.0), ${30 + 40 * i}.0, ${255 - i}.0) / 255.0;`);
  return `#extension GL_EXT_draw_buffers : require
precision highp float;
void main() {
  vec2 p = floor(gl_FragCoord.xy);
${writes.join('\n')}
}`;
}

function expected(target: number, width: number, height: number): Buffer {
  const bytes = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) bytes.set([x + 10 * target, y + 20 * target, 30 + 40 * target, 255 - target], (y * width + x) * 4);
  }
  return bytes;
}

function createTarget(width: number, height: number, fill: number): GLTexture {
  const texture = gl.createTexture();
  gl.bindTexture(gl.TEXTURE_2D, texture);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
  gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, width, height, 0, gl.RGBA, gl.UNSIGNED_BYTE, Buffer.alloc(width * height * 4, fill));
  return texture;
}

/** The texture's bytes, read through a framebuffer of its own (GL row order). */
function readTexture(texture: GLTexture, width: number, height: number): Buffer {
  const fbo = gl.createFramebuffer();
  gl.bindFramebuffer(gl.FRAMEBUFFER, fbo);
  gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, texture, 0);
  const pixels = gl.readPixels(0, 0, width, height, gl.RGBA, gl.UNSIGNED_BYTE);
  gl.bindFramebuffer(gl.FRAMEBUFFER, null);
  gl.deleteFramebuffer(fbo);
  return pixels;
}

t.test('the constants are gl2ext.h\'s', async (t) => {
  t.equal(gl.MAX_DRAW_BUFFERS_EXT, 0x8824);
  t.equal(gl.MAX_COLOR_ATTACHMENTS_EXT, 0x8cdf);
  t.equal(gl.DRAW_BUFFER0_EXT, 0x8825);
  t.equal(gl.DRAW_BUFFER7_EXT, 0x882c);
  t.equal(gl.COLOR_ATTACHMENT0_EXT, gl.COLOR_ATTACHMENT0);
  t.equal(gl.COLOR_ATTACHMENT7_EXT, 0x8ce7);
});

t.test('one draw writes every attachment, each read back exactly', { skip }, async (t) => {
  const count = Math.min(4, maxDrawBuffers);
  const [width, height] = [13, 7];
  const program = buildProgram(gl, VERTEX, fragmentShader(count));
  const targets = Array.from({ length: count }, () => createTarget(width, height, 0));
  const fbo = gl.createFramebuffer();
  gl.bindFramebuffer(gl.FRAMEBUFFER, fbo);
  const attachments = targets.map((_, i) => gl.COLOR_ATTACHMENT0_EXT + i);
  targets.forEach((texture, i) => gl.framebufferTexture2D(gl.FRAMEBUFFER, attachments[i]!, gl.TEXTURE_2D, texture, 0));
  t.equal(gl.checkFramebufferStatus(gl.FRAMEBUFFER), gl.FRAMEBUFFER_COMPLETE);
  gl.drawBuffers(attachments);
  t.equal(gl.getParameter(gl.DRAW_BUFFER1_EXT), attachments[1], 'DRAW_BUFFER1_EXT reports the attachment');
  gl.viewport(0, 0, width, height);
  drawPixels(gl, program, quadVertices({ x: 0, y: 0, width, height }), width, height);
  gl.drawBuffers([gl.COLOR_ATTACHMENT0_EXT]);
  gl.bindFramebuffer(gl.FRAMEBUFFER, null);
  targets.forEach((texture, i) => {
    t.ok(readTexture(texture, width, height).equals(expected(i, width, height)), `attachment ${i}: exact bytes`);
  });
  gl.deleteFramebuffer(fbo);
  targets.forEach((texture) => gl.deleteTexture(texture));
  gl.deleteProgram(program);
});

t.test('NONE leaves its attachment untouched', { skip }, async (t) => {
  const [width, height] = [5, 3];
  const program = buildProgram(gl, VERTEX, fragmentShader(2));
  const targets = [createTarget(width, height, 0), createTarget(width, height, 77)];
  const fbo = gl.createFramebuffer();
  gl.bindFramebuffer(gl.FRAMEBUFFER, fbo);
  targets.forEach((texture, i) => gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0_EXT + i, gl.TEXTURE_2D, texture, 0));
  gl.drawBuffers([gl.COLOR_ATTACHMENT0_EXT, gl.NONE]);
  gl.viewport(0, 0, width, height);
  drawPixels(gl, program, quadVertices({ x: 0, y: 0, width, height }), width, height);
  gl.drawBuffers([gl.COLOR_ATTACHMENT0_EXT]);
  gl.bindFramebuffer(gl.FRAMEBUFFER, null);
  t.ok(readTexture(targets[0]!, width, height).equals(expected(0, width, height)), 'attachment 0 drawn');
  t.ok(readTexture(targets[1]!, width, height).equals(Buffer.alloc(width * height * 4, 77)), 'attachment 1 kept its bytes');
  gl.deleteFramebuffer(fbo);
  targets.forEach((texture) => gl.deleteTexture(texture));
  gl.deleteProgram(program);
});

t.test('bad arguments: TypeError; a GL error names the call', { skip }, async (t) => {
  t.throws(() => gl.drawBuffers('COLOR_ATTACHMENT0' as unknown as number[]), TypeError);
  t.throws(() => gl.drawBuffers(['x'] as unknown as number[]), TypeError);
  const fbo = gl.createFramebuffer();
  gl.bindFramebuffer(gl.FRAMEBUFFER, fbo);
  // Buffer i must be COLOR_ATTACHMENTi_EXT or NONE.
  t.throws(() => gl.drawBuffers([gl.COLOR_ATTACHMENT1_EXT]), { name: 'GLError', call: 'drawBuffers' });
  gl.bindFramebuffer(gl.FRAMEBUFFER, null);
  gl.deleteFramebuffer(fbo);
});
