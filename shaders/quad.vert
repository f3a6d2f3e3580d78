// A full-viewport quad. Fragment shaders address texels with gl_FragCoord (pixel centres
// at n + 0.5), so no texture coordinates are passed along.
attribute vec2 a_position;

void main() {
  gl_Position = vec4(a_position, 0.0, 1.0);
}
