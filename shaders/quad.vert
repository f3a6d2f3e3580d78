// A full-viewport quad. v_pixel carries pixel coordinates (n + 0.5 at pixel centres) in highp:
// gl_FragCoord is only mediump in GLSL ES 1.00, and llvmpipe really loses its half above 1024.
attribute vec2 a_position;
uniform vec2 u_viewport; // the target's size in pixels
varying highp vec2 v_pixel;

void main() {
  v_pixel = (a_position * 0.5 + 0.5) * u_viewport;
  gl_Position = vec4(a_position, 0.0, 1.0);
}
