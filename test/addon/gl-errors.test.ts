// How the GL binding reports failures: shader and link errors with the driver's
// info log, GL error flags as GLError with their names, bad arguments as
// exceptions instead of reads past the end of memory.
import t from 'tap';
import { GLError, GLShaderError, openHeadless } from 'node-drm-gbm-egl';
import type { GL, GLUniformLocation } from 'node-drm-gbm-egl';
import { buildProgram } from './fixtures/gl-pattern.js';

const display = openHeadless({ width: 16, height: 16 });
const gl: GL = display.gl;
t.teardown(() => display.close());

const VERTEX = 'attribute vec2 a_pixel; void main() { gl_Position = vec4(a_pixel, 0.0, 1.0); }';
const FRAGMENT = 'precision mediump float; void main() { gl_FragColor = vec4(1.0); }';

t.test('a shader syntax error raises GLShaderError with the info log', async (t) => {
  const shader = gl.createShader(gl.FRAGMENT_SHADER);
  gl.shaderSource(shader, 'precision mediump float;\nvoid main() {\n  gl_FragColor = vec4(1.0)\n}\n');
  const error = t.throws(() => gl.compileShader(shader)) as GLShaderError;
  t.ok(error instanceof GLShaderError, 'a GLShaderError');
  t.equal(error.name, 'GLShaderError');
  t.match(error.message, /fragment shader/);
  t.match(error.infoLog, /error/i, `info log: ${error.infoLog.trim()}`);
  t.match(error.infoLog, /\b0:4\b|\b0:3\b/, 'the log points at the line');
  t.ok(error.message.includes(error.infoLog), 'the message carries the log');
  t.equal(gl.getShaderInfoLog(shader), error.infoLog, 'getShaderInfoLog returns the same log');
  t.equal(gl.getShaderParameter(shader, gl.COMPILE_STATUS), false);
  gl.deleteShader(shader);
});

t.test('a link error raises GLShaderError with the info log', async (t) => {
  // The fragment shader reads a varying the vertex shader never declares.
  const fragment = 'precision mediump float; varying vec4 v_missing; void main() { gl_FragColor = v_missing; }';
  const error = t.throws(() => buildProgram(gl, VERTEX, fragment)) as GLShaderError;
  t.ok(error instanceof GLShaderError);
  t.match(error.message, /does not link/);
  t.match(error.infoLog, /v_missing/, `info log: ${error.infoLog.trim()}`);
});

t.test('GL error flags raise GLError named after the flag and the call', async (t) => {
  const cases: Array<[string, () => void, string]> = [
    ['enable(bogus)', () => gl.enable(0x1234), 'GL_INVALID_ENUM'],
    ['negative viewport', () => gl.viewport(0, 0, -1, 4), 'GL_INVALID_VALUE'],
    ['uniform without a program', () => gl.uniform1f(0 as GLUniformLocation, 1), 'GL_INVALID_OPERATION'],
  ];
  for (const [what, call, glName] of cases) {
    const error = t.throws(call, what) as GLError;
    t.ok(error instanceof GLError, `${what}: a GLError`);
    t.equal(error.glName, glName, `${what}: ${glName}`);
    t.equal(error.code, { GL_INVALID_ENUM: 0x500, GL_INVALID_VALUE: 0x501, GL_INVALID_OPERATION: 0x502 }[glName]);
    t.match(error.message, new RegExp(`${glName}.* in ${error.call}$`));
  }
  t.equal((t.throws(() => gl.enable(0x1234)) as GLError).call, 'enable');
  t.equal(gl.getError(), gl.NO_ERROR, 'the flags are cleared after raising');
});

t.test('drawing into an incomplete framebuffer is GL_INVALID_FRAMEBUFFER_OPERATION', async (t) => {
  const fbo = gl.createFramebuffer();
  gl.bindFramebuffer(gl.FRAMEBUFFER, fbo);
  t.equal(gl.checkFramebufferStatus(gl.FRAMEBUFFER), gl.FRAMEBUFFER_INCOMPLETE_MISSING_ATTACHMENT);
  const error = t.throws(() => gl.clear(gl.COLOR_BUFFER_BIT)) as GLError;
  t.equal(error.glName, 'GL_INVALID_FRAMEBUFFER_OPERATION');
  t.equal(error.call, 'clear');
  gl.bindFramebuffer(gl.FRAMEBUFFER, null);
  gl.deleteFramebuffer(fbo);
});

t.test('bad arguments are exceptions, never out-of-bounds memory access', async (t) => {
  t.throws(() => gl.viewport('0' as unknown as number, 0, 1, 1), TypeError);
  t.throws(() => gl.bindTexture(gl.TEXTURE_2D, {} as never), /argument 2 must be a GL object or null/);

  const texture = gl.createTexture();
  gl.bindTexture(gl.TEXTURE_2D, texture);
  t.throws(() => gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, 4, 4, 0, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(63)),
    /63 bytes, 4x4 pixels need 64/);
  // Rows of 3 LUMINANCE bytes are padded to 4 under the default UNPACK_ALIGNMENT.
  t.throws(() => gl.texImage2D(gl.TEXTURE_2D, 0, gl.LUMINANCE, 3, 2, 0, gl.LUMINANCE, gl.UNSIGNED_BYTE, new Uint8Array(6)),
    /need 7/);
  gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
  gl.texImage2D(gl.TEXTURE_2D, 0, gl.LUMINANCE, 3, 2, 0, gl.LUMINANCE, gl.UNSIGNED_BYTE, new Uint8Array(6));
  gl.pixelStorei(gl.UNPACK_ALIGNMENT, 4);
  t.throws(() => gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, 3, 2, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(20)), /need 24/);
  gl.deleteTexture(texture);

  t.throws(() => gl.readPixels(0, 0, 4, 4, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(10)), /10 bytes/);

  // An enabled attribute array without a buffer would read client memory at address 0.
  const program = buildProgram(gl, VERTEX, FRAGMENT);
  gl.useProgram(program);
  gl.enableVertexAttribArray(0);
  t.throws(() => gl.drawArrays(gl.TRIANGLES, 0, 3), /attribute 0 is enabled but has no buffer/);
  t.throws(() => gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 0, 0), /no ARRAY_BUFFER is bound/);
  t.throws(() => gl.drawElements(gl.TRIANGLES, 3, gl.UNSIGNED_SHORT, 0), /no ELEMENT_ARRAY_BUFFER/);
  gl.disableVertexAttribArray(0);
  gl.useProgram(null);
  gl.deleteProgram(program);

  t.throws(() => gl.uniform4fv(null, [1, 2, 3]), /multiple of 4/);
  t.equal(gl.getError(), gl.NO_ERROR, 'none of these left a GL error behind');
});

t.test('getUniformLocation returns null for unknown names; null locations are ignored', async (t) => {
  const program = buildProgram(gl, VERTEX, 'precision mediump float; uniform vec4 u_c; void main() { gl_FragColor = u_c; }');
  gl.useProgram(program);
  t.equal(gl.getUniformLocation(program, 'u_nothing'), null);
  t.type(gl.getUniformLocation(program, 'u_c'), 'number');
  gl.uniform4f(null, 1, 2, 3, 4);
  gl.uniform4fv(gl.getUniformLocation(program, 'u_c'), new Float32Array([0.25, 0.5, 0.75, 1]));
  t.equal(gl.getProgramParameter(program, gl.LINK_STATUS), true);
  t.equal(gl.getProgramParameter(program, gl.ACTIVE_UNIFORMS), 1);
  gl.useProgram(null);
  gl.deleteProgram(program);
});
