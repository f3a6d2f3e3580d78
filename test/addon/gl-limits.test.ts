// Limits, strings, precision, extensions and program binaries as the driver reports them.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';
import { openHeadless } from 'node-drm-gbm-egl';
import type { GL } from 'node-drm-gbm-egl';
import { repoRoot } from '../../src/service/paths.js';
import { buildProgram, drawPixels, quadVertices } from './fixtures/gl-pattern.js';

const display = openHeadless({ width: 8, height: 8 });
const gl: GL = display.gl;
t.teardown(() => display.close());

t.test('limits are at least the GLES2 minimums', async (t) => {
  // Minimums from the OpenGL ES 2.0 specification, table 6.18 / 6.20.
  const minimums: Array<[string, number, number]> = [
    ['MAX_TEXTURE_SIZE', gl.MAX_TEXTURE_SIZE, 64],
    ['MAX_RENDERBUFFER_SIZE', gl.MAX_RENDERBUFFER_SIZE, 1],
    ['MAX_FRAGMENT_UNIFORM_VECTORS', gl.MAX_FRAGMENT_UNIFORM_VECTORS, 16],
    ['MAX_VERTEX_UNIFORM_VECTORS', gl.MAX_VERTEX_UNIFORM_VECTORS, 128],
    ['MAX_TEXTURE_IMAGE_UNITS', gl.MAX_TEXTURE_IMAGE_UNITS, 8],
    ['MAX_COMBINED_TEXTURE_IMAGE_UNITS', gl.MAX_COMBINED_TEXTURE_IMAGE_UNITS, 8],
    ['MAX_VARYING_VECTORS', gl.MAX_VARYING_VECTORS, 8],
    ['MAX_VERTEX_ATTRIBS', gl.MAX_VERTEX_ATTRIBS, 8],
  ];
  for (const [name, pname, minimum] of minimums) {
    const value = gl.getParameter(pname);
    t.type(value, 'number', `${name} is a number`);
    t.ok(Number.isInteger(value) && (value as number) >= minimum && (value as number) < 1 << 20, `${name} = ${value}`);
  }
  const viewport = gl.getParameter(gl.MAX_VIEWPORT_DIMS) as number[];
  t.equal(viewport.length, 2, 'MAX_VIEWPORT_DIMS is [width, height]');
  t.ok(viewport.every((v) => v >= (gl.getParameter(gl.MAX_TEXTURE_SIZE) as number) / 2), `MAX_VIEWPORT_DIMS = ${viewport}`);
});

t.test('strings name the driver', async (t) => {
  t.match(gl.getParameter(gl.VERSION), /^OpenGL ES [23]\.\d/);
  t.match(gl.getParameter(gl.SHADING_LANGUAGE_VERSION), /^OpenGL ES GLSL ES \d\.\d+/);
  t.equal(gl.getParameter(gl.RENDERER), display.info.glRenderer);
  t.equal(gl.getParameter(gl.VENDOR), display.info.glVendor);
});

t.test('other parameter shapes', async (t) => {
  t.equal(gl.getParameter(gl.BLEND), false);
  gl.enable(gl.BLEND);
  t.equal(gl.getParameter(gl.BLEND), true);
  t.equal(gl.isEnabled(gl.BLEND), true);
  gl.disable(gl.BLEND);
  gl.colorMask(true, false, true, false);
  t.same(gl.getParameter(gl.COLOR_WRITEMASK), [true, false, true, false]);
  gl.colorMask(true, true, true, true);
  gl.clearColor(0.5, 0.25, 0, 1);
  t.same(gl.getParameter(gl.COLOR_CLEAR_VALUE), [0.5, 0.25, 0, 1]);
  t.equal(gl.getParameter(gl.STENCIL_BITS), 8, 'the display has an 8-bit stencil buffer');
  t.ok((gl.getParameter(gl.DEPTH_BITS) as number) >= 16, 'and a depth buffer');
  t.equal(gl.getParameter(gl.RED_BITS), 8);
});

t.test('fragment shader precision', async (t) => {
  const high = gl.getShaderPrecisionFormat(gl.FRAGMENT_SHADER, gl.HIGH_FLOAT);
  const medium = gl.getShaderPrecisionFormat(gl.FRAGMENT_SHADER, gl.MEDIUM_FLOAT);
  t.ok(high.precision === 0 || high.precision >= 16, `highp: ${JSON.stringify(high)}`);
  t.ok(medium.precision >= 10 && medium.rangeMax >= 14, `mediump: ${JSON.stringify(medium)}`);
  const highInt = gl.getShaderPrecisionFormat(gl.FRAGMENT_SHADER, gl.HIGH_INT);
  t.equal(highInt.precision, 0, 'integers have precision 0');
  t.throws(() => gl.getShaderPrecisionFormat(gl.FRAGMENT_SHADER, gl.TEXTURE_2D), { name: 'GLError' });
});

t.test('extensions', async (t) => {
  const extensions = gl.getSupportedExtensions();
  t.ok(extensions.length > 10, `${extensions.length} extensions`);
  t.ok(extensions.every((name) => /^GL_[A-Z0-9]+_\w+$/.test(name)), 'every name looks like GL_VENDOR_name');
  t.equal(new Set(extensions).size, extensions.length, 'no duplicates');
  // The headless display is built on these, so they must be there.
  t.ok(extensions.includes('GL_OES_rgb8_rgba8'));
  t.ok(extensions.includes('GL_OES_packed_depth_stencil'));
  t.equal((gl.getParameter(gl.EXTENSIONS) as string).trim(), extensions.join(' '));
});

const VERTEX = `attribute vec2 a_pixel; uniform vec2 u_size;
void main() { gl_Position = vec4(a_pixel / u_size * 2.0 - 1.0, 0.0, 1.0); }`;
const FRAGMENT = `precision mediump float; uniform vec4 u_colour;
void main() { gl_FragColor = u_colour * vec4(1.0, 0.5, 1.0, 1.0); }`;

function drawWith(program: ReturnType<typeof buildProgram>): number[] {
  gl.bindFramebuffer(gl.FRAMEBUFFER, null);
  gl.clearColor(0, 0, 0, 0);
  gl.clear(gl.COLOR_BUFFER_BIT);
  gl.useProgram(program);
  gl.uniform4f(gl.getUniformLocation(program, 'u_colour'), 0.2, 0.8, 1, 1);
  drawPixels(gl, program, quadVertices({ x: 0, y: 0, width: 8, height: 8 }), 8, 8);
  return [...gl.readPixels(3, 3, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE)];
}

t.test('program binaries round-trip when the driver offers a format', async (t) => {
  const formats = gl.getProgramBinaryFormats();
  const original = buildProgram(gl, VERTEX, FRAGMENT);
  const binary = gl.getProgramBinary(original);
  if (formats.length === 0) {
    t.equal(binary, null, 'no formats offered: getProgramBinary returns null');
    t.equal(gl.programBinary(gl.createProgram(), 0, new Uint8Array(4)), false, 'and programBinary refuses');
    return;
  }
  t.comment(`program binary formats: ${formats.map((f) => `0x${f.toString(16)}`).join(', ')}`);
  t.ok(gl.getSupportedExtensions().includes('GL_OES_get_program_binary'));
  t.ok(binary, 'a binary');
  t.ok(formats.includes(binary!.format), 'in an offered format');
  t.ok(binary!.binary.length > 0, `${binary!.binary.length} bytes`);

  const loaded = gl.createProgram();
  t.equal(gl.programBinary(loaded, binary!.format, binary!.binary), true, 'the binary loads into a new program');
  t.equal(gl.getProgramParameter(loaded, gl.LINK_STATUS), true, 'which is linked');
  const expected = drawWith(original);
  t.same(expected, [51, 102, 255, 255], 'the original program draws');
  t.same(drawWith(loaded), expected, 'the loaded program draws the same');

  const garbage = Buffer.from(binary!.binary);
  garbage.fill(0x5a, 0, Math.min(64, garbage.length));
  t.equal(gl.programBinary(gl.createProgram(), binary!.format, garbage), false, 'a damaged binary is rejected');
  t.equal(gl.programBinary(gl.createProgram(), 0x1234, binary!.binary), false, 'an unknown format is rejected');
  t.equal(gl.getError(), gl.NO_ERROR);
  gl.useProgram(null);
});

t.test('without a shader cache Mesa offers no formats, and getProgramBinary returns null', async (t) => {
  // MESA_SHADER_CACHE_DISABLE is read when the driver starts, so this needs a fresh process.
  const script = `
    import { openHeadless } from 'node-drm-gbm-egl';
    const { gl, close } = openHeadless({ width: 4, height: 4 });
    const program = gl.createProgram();
    for (const [type, source] of [[gl.VERTEX_SHADER, 'void main() { gl_Position = vec4(0.0); }'],
                                  [gl.FRAGMENT_SHADER, 'void main() { gl_FragColor = vec4(1.0); }']]) {
      const shader = gl.createShader(type);
      gl.shaderSource(shader, source);
      gl.compileShader(shader);
      gl.attachShader(program, shader);
    }
    gl.linkProgram(program);
    console.log(JSON.stringify({ formats: gl.getProgramBinaryFormats(), binary: gl.getProgramBinary(program) }));
    close();`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    cwd: repoRoot, // where node_modules/node-drm-gbm-egl resolves
    env: { ...process.env, MESA_SHADER_CACHE_DISABLE: 'true' },
  });
  const { formats, binary } = JSON.parse(stdout) as { formats: number[]; binary: unknown };
  t.same(formats, [], 'no formats');
  t.equal(binary, null, 'getProgramBinary returns null');
});
