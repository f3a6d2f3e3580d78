// Stencil works on the headless display's default framebuffer and on FBOs with
// packed depth-stencil or stencil-only renderbuffers.
import t from 'tap';
import { openHeadless } from 'node-drm-gbm-egl';
import type { GL } from 'node-drm-gbm-egl';
import { buildProgram, drawPixels, quadVertices, type Rect } from './fixtures/gl-pattern.js';

const [WIDTH, HEIGHT] = [23, 17];
const display = openHeadless({ width: WIDTH, height: HEIGHT });
const gl: GL = display.gl;
t.teardown(() => display.close());

const program = buildProgram(
  gl,
  `attribute vec2 a_pixel; uniform vec2 u_size;
   void main() { gl_Position = vec4(a_pixel / u_size * 2.0 - 1.0, 0.0, 1.0); }`,
  'precision mediump float; uniform vec4 u_colour; void main() { gl_FragColor = u_colour; }',
);
const FULL: Rect = { x: 0, y: 0, width: WIDTH, height: HEIGHT };
const A: Rect = { x: 2, y: 3, width: 10, height: 8 };
const B: Rect = { x: 7, y: 6, width: 12, height: 9 };

function fill(rect: Rect, colour: [number, number, number]): void {
  gl.useProgram(program);
  gl.uniform4f(gl.getUniformLocation(program, 'u_colour'), colour[0], colour[1], colour[2], 1);
  drawPixels(gl, program, quadVertices(rect), WIDTH, HEIGHT);
}

/**
 * Writes stencil 1 over A and increments it over B (so A∩B holds 2), with colour
 * writes off; then paints by stencil value: 0 stays black, 1 red, 2 blue.
 */
function drawStencilled(): void {
  gl.viewport(0, 0, WIDTH, HEIGHT);
  gl.clearColor(0, 0, 0, 1);
  gl.clearStencil(0);
  gl.stencilMask(0xff);
  gl.clear(gl.COLOR_BUFFER_BIT | gl.STENCIL_BUFFER_BIT);
  gl.enable(gl.STENCIL_TEST);
  gl.colorMask(false, false, false, false);
  gl.stencilFunc(gl.ALWAYS, 1, 0xff);
  gl.stencilOp(gl.KEEP, gl.KEEP, gl.REPLACE);
  fill(A, [1, 1, 1]);
  gl.stencilOp(gl.KEEP, gl.KEEP, gl.INCR);
  fill(B, [1, 1, 1]);
  gl.colorMask(true, true, true, true);
  gl.stencilOp(gl.KEEP, gl.KEEP, gl.KEEP);
  gl.stencilFunc(gl.EQUAL, 1, 0xff);
  fill(FULL, [1, 0, 0]);
  gl.stencilFunc(gl.EQUAL, 2, 0xff);
  fill(FULL, [0, 0, 1]);
  gl.disable(gl.STENCIL_TEST);
}

/** The expected picture in GL row order (bottom row first). */
function expected(): Buffer {
  const pixels = Buffer.alloc(WIDTH * HEIGHT * 4);
  const inside = (r: Rect, x: number, y: number) => x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height;
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const inA = inside(A, x, y);
      const inB = inside(B, x, y);
      // Outside A, INCR over B takes 0 to 1.
      const stencil = inA && inB ? 2 : inA || inB ? 1 : 0;
      pixels.set(stencil === 2 ? [0, 0, 255, 255] : stencil === 1 ? [255, 0, 0, 255] : [0, 0, 0, 255], (y * WIDTH + x) * 4);
    }
  }
  return pixels;
}

t.test('on the display default framebuffer', async (t) => {
  gl.bindFramebuffer(gl.FRAMEBUFFER, null);
  t.equal(gl.getParameter(gl.STENCIL_BITS), 8);
  drawStencilled();
  t.ok(gl.readPixels(0, 0, WIDTH, HEIGHT, gl.RGBA, gl.UNSIGNED_BYTE).equals(expected()));
  await display.present();
  // The other buffer of the swap shares the stencil buffer and works the same.
  drawStencilled();
  t.ok(gl.readPixels(0, 0, WIDTH, HEIGHT, gl.RGBA, gl.UNSIGNED_BYTE).equals(expected()), 'after a present too');
});

for (const [name, storage] of [
  ['packed DEPTH24_STENCIL8_OES', gl.DEPTH24_STENCIL8_OES],
  ['STENCIL_INDEX8', gl.STENCIL_INDEX8],
] as const) {
  t.test(`on an FBO with a ${name} renderbuffer`, async (t) => {
    const colour = gl.createRenderbuffer();
    gl.bindRenderbuffer(gl.RENDERBUFFER, colour);
    gl.renderbufferStorage(gl.RENDERBUFFER, gl.RGBA8_OES, WIDTH, HEIGHT);
    const stencil = gl.createRenderbuffer();
    gl.bindRenderbuffer(gl.RENDERBUFFER, stencil);
    gl.renderbufferStorage(gl.RENDERBUFFER, storage, WIDTH, HEIGHT);
    const fbo = gl.createFramebuffer();
    gl.bindFramebuffer(gl.FRAMEBUFFER, fbo);
    gl.framebufferRenderbuffer(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.RENDERBUFFER, colour);
    gl.framebufferRenderbuffer(gl.FRAMEBUFFER, gl.STENCIL_ATTACHMENT, gl.RENDERBUFFER, stencil);
    t.equal(gl.checkFramebufferStatus(gl.FRAMEBUFFER), gl.FRAMEBUFFER_COMPLETE);
    drawStencilled();
    t.ok(gl.readPixels(0, 0, WIDTH, HEIGHT, gl.RGBA, gl.UNSIGNED_BYTE).equals(expected()));
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    gl.deleteFramebuffer(fbo);
    gl.deleteRenderbuffer(stencil);
    gl.deleteRenderbuffer(colour);
  });
}

t.test('without a stencil test the same drawing paints everything', async (t) => {
  // Guards the test itself: the stencil, not the quads, makes the picture.
  gl.bindFramebuffer(gl.FRAMEBUFFER, null);
  gl.viewport(0, 0, WIDTH, HEIGHT);
  fill(FULL, [0, 0, 1]);
  const pixels = gl.readPixels(0, 0, WIDTH, HEIGHT, gl.RGBA, gl.UNSIGNED_BYTE);
  t.notOk(pixels.equals(expected()));
  t.same([...pixels.subarray(0, 4)], [0, 0, 255, 255]);
});
