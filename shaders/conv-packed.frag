// One pass of the first layer, which reads the packed luma texture: each texel holds the luma
// of a 2x2 block (x: (0,0), y: (1,0), z: (0,1), w: (1,1)), so a k x k window costs about a
// quarter of the fetches. The packed texture has a margin of {{MARGIN}} pixels on every side.
{{PRECISION}}
uniform vec2 u_packedTexel; // 1 / packed texture size
uniform sampler2D u_packed;

// Textures are read back as bytes (floor(t * 255 + 0.5)): some drivers (llvmpipe) return
// k/255 a little off, which would move 8-bit roundings away from the CPU reference.
// The weights are per byte (already divided by 255).
vec4 tap(vec2 offset) {
  return floor(texture2D(u_packed, (gl_FragCoord.xy + offset + {{MARGIN}}.0) * u_packedTexel) * 255.0 + 0.5);
}

void main() {
  vec4 acc = {{BIAS}};
  vec4 s;
{{BODY}}
  // Round to 8 bits here (half up, as the CPU reference): the driver float-to-unorm store
  // is not exactly round-to-nearest on every GPU; an exact k/255 stores as k everywhere.
  gl_FragColor = floor(clamp(acc, 0.0, 1.0) * 255.0 + 0.5) / 255.0;
}
