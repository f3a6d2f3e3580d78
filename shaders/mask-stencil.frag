// Adaptive compute: draws where the distance to a heavy pixel has bit u_bit set and discards
// elsewhere. With colour writes off, the stencil op REPLACE and the write mask u_bit, one draw
// per bit copies the distance into the stencil buffer, which each layer's stencil test reads.
{{PRECISION}}
varying vec2 v_pixel; // pixel coordinates, n + 0.5 at pixel centres (see quad.vert)
{{ROUNDING}}
uniform sampler2D u_distance;
uniform vec2 u_texel; // 1 / texture size
uniform float u_bit;  // 1, 2, 4, ...

void main() {
  float d = bytesOf(texture2D(u_distance, v_pixel * u_texel)).x;
  // bit set: floor(d / bit) is odd
  float q = floorOf(vec4(d / u_bit, 0.0, 0.0, 0.0)).x;
  if (q - 2.0 * floorOf(vec4(q * 0.5, 0.0, 0.0, 0.0)).x < 0.5) discard;
  gl_FragColor = vec4(0.0);
}
