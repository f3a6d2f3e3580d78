// Adaptive compute: draws where the distance to a heavy pixel is above u_below and discards
// elsewhere; with colour writes off and the stencil op INCR, one draw per distance 0, 1, ...
// leaves min(distance, cap) in the stencil buffer, which each layer's stencil test then reads.
{{PRECISION}}
varying vec2 v_pixel; // pixel coordinates, n + 0.5 at pixel centres (see quad.vert)
{{ROUNDING}}
uniform sampler2D u_distance;
uniform vec2 u_texel; // 1 / texture size
uniform float u_below;

void main() {
  if (bytesOf(texture2D(u_distance, v_pixel * u_texel)).x <= u_below) discard;
  gl_FragColor = vec4(0.0);
}
