// gpuMemory(): the bytes of textures, renderbuffers and buffers the process's GL contexts hold
// through the binding, counted on creation, resize and deletion, and dropped with the context.
import t from 'tap';
import { gpuMemory, openHeadless } from 'node-drm-gbm-egl';

t.test('texture, renderbuffer and buffer bytes follow creation, resize and deletion', async (t) => {
  const before = gpuMemory();
  const display = openHeadless({ width: 8, height: 8 });
  const { gl } = display;

  const texture = gl.createTexture();
  gl.bindTexture(gl.TEXTURE_2D, texture);
  gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, 64, 32, 0, gl.RGBA, gl.UNSIGNED_BYTE, null);
  t.equal(gpuMemory().textureBytes - before.textureBytes, 64 * 32 * 4, 'an RGBA texture: 4 bytes a pixel');
  gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGB, 10, 10, 0, gl.RGB, gl.UNSIGNED_BYTE, null);
  t.equal(gpuMemory().textureBytes - before.textureBytes, 300, 'its level 0 replaced by a 10x10 RGB image');
  gl.texImage2D(gl.TEXTURE_2D, 1, gl.RGB, 5, 5, 0, gl.RGB, gl.UNSIGNED_BYTE, null);
  t.equal(gpuMemory().textureBytes - before.textureBytes, 375, 'level 1 adds to it');

  const renderbuffer = gl.createRenderbuffer();
  gl.bindRenderbuffer(gl.RENDERBUFFER, renderbuffer);
  gl.renderbufferStorage(gl.RENDERBUFFER, gl.DEPTH_COMPONENT16, 16, 16);
  t.equal(gpuMemory().renderbufferBytes - before.renderbufferBytes, 512, 'a 16-bit depth renderbuffer');

  const buffer = gl.createBuffer();
  gl.bindBuffer(gl.ARRAY_BUFFER, buffer);
  gl.bufferData(gl.ARRAY_BUFFER, new Float32Array(100), gl.STATIC_DRAW);
  t.equal(gpuMemory().bufferBytes - before.bufferBytes, 400, 'a buffer of 100 floats');
  gl.bufferData(gl.ARRAY_BUFFER, 1000, gl.DYNAMIC_DRAW);
  t.equal(gpuMemory().bufferBytes - before.bufferBytes, 1000, 'resized');
  t.ok(gpuMemory().contexts >= 1, 'the context is counted');

  t.throws(() => gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, -1, 4, 0, gl.RGBA, gl.UNSIGNED_BYTE, null), 'a refused image raises its GL error');
  t.equal(gpuMemory().textureBytes - before.textureBytes, 375, 'and counts nothing');

  gl.deleteTexture(texture);
  gl.deleteRenderbuffer(renderbuffer);
  gl.deleteBuffer(buffer);
  const deleted = gpuMemory();
  t.same([deleted.textureBytes, deleted.renderbufferBytes, deleted.bufferBytes], [before.textureBytes, before.renderbufferBytes, before.bufferBytes], 'deleted: back to where it was');

  // What a context still holds when it is destroyed goes with it.
  const kept = gl.createTexture();
  gl.bindTexture(gl.TEXTURE_2D, kept);
  gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, 32, 32, 0, gl.RGBA, gl.UNSIGNED_BYTE, null);
  t.equal(gpuMemory().textureBytes - before.textureBytes, 4096);
  display.close();
  t.equal(gpuMemory().textureBytes, before.textureBytes, 'dropped with its context');
});
