// Adaptive compute, first pass: is this pixel heavy? Its detail is the range (max - min) of the
// 8-bit luma in its 3x3 window, read from the packed luma (2x2 per texel, margin {{MARGIN}}) in
// 4 fetches. Writes the seed of the distance passes: 0 where heavy, the cap ({{CAP}}) elsewhere.
{{PRECISION}}
varying vec2 v_pixel; // pixel coordinates, n + 0.5 at pixel centres (see quad.vert)
{{ROUNDING}}
uniform sampler2D u_packed;
uniform vec2 u_packedTexel; // 1 / packed texture size
uniform float u_threshold;  // bytes of range from which a pixel is heavy

// Luma at offset, offset + (1, 0), offset + (0, 1), offset + (1, 1) from this pixel.
vec4 block(vec2 offset) {
  return bytesOf(texture2D(u_packed, (v_pixel + offset + {{MARGIN}}.0) * u_packedTexel));
}

void main() {
  vec4 a = block(vec2(-1.0, -1.0)); // (-1,-1) (0,-1) (-1,0) (0,0)
  vec4 b = block(vec2(1.0, -1.0));  // (1,-1) . (1,0) .
  vec4 c = block(vec2(-1.0, 1.0));  // (-1,1) (0,1) . .
  vec4 d = block(vec2(1.0, 1.0));   // (1,1) . . .
  vec4 rest = vec4(b.x, b.z, c.x, c.y);
  vec4 hi4 = max(a, rest);
  vec4 lo4 = min(a, rest);
  float hi = max(max(max(hi4.x, hi4.y), max(hi4.z, hi4.w)), d.x);
  float lo = min(min(min(lo4.x, lo4.y), min(lo4.z, lo4.w)), d.x);
  float seed = hi - lo >= u_threshold ? 0.0 : {{CAP}}.0;
  gl_FragColor = vec4(seed, 0.0, 0.0, 0.0) * (1.0 / 255.0);
}
