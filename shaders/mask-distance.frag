// Adaptive compute: one axis ({{AXIS}}) of the Chebyshev distance to the nearest heavy pixel,
// capped at {{CAP}}: d = min over k in -{{REACH}}..{{REACH}} of max(|k|, input at k). On the seed
// (0 heavy, cap elsewhere) along x, then on that along y. Reads past the edge clamp, and a
// replicated pixel is never nearer than the one it copies.
{{PRECISION}}
varying vec2 v_pixel; // pixel coordinates, n + 0.5 at pixel centres (see quad.vert)
{{ROUNDING}}
uniform sampler2D u_input;
uniform vec2 u_texel; // 1 / texture size

void main() {
  float d = {{CAP}}.0;
  for (int k = -{{REACH}}; k <= {{REACH}}; k++) {
    vec2 at = v_pixel;
    at.{{AXIS}} += float(k);
    d = min(d, max(abs(float(k)), bytesOf(texture2D(u_input, at * u_texel)).x));
  }
  gl_FragColor = vec4(d, 0.0, 0.0, 0.0) * (1.0 / 255.0);
}
