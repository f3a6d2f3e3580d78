// One pass of the first layer, which reads the packed luma texture: each texel holds the luma
// of a 2x2 block (x: (0,0), y: (1,0), z: (0,1), w: (1,1)), so a k x k window costs about a
// quarter of the fetches. The packed texture has a margin of {{MARGIN}} pixels on every side.
// Writes 4 channels (gl_FragColor) or, with EXT_draw_buffers, several blocks of 4 (gl_FragData[i]).
{{EXTENSION}}{{PRECISION}}
varying vec2 v_pixel; // pixel coordinates, n + 0.5 at pixel centres (see quad.vert)
{{ROUNDING}}
uniform vec2 u_packedTexel; // 1 / packed texture size
uniform sampler2D u_packed;

// Textures are read as bytes (bytesOf): 8-bit roundings then match the CPU reference.
// The weights are per byte (already divided by 255).
vec4 tap(vec2 offset) {
  return bytesOf(texture2D(u_packed, (v_pixel + offset + {{MARGIN}}.0) * u_packedTexel));
}

void main() {
{{ACCUMULATORS}}
  vec4 s;
{{BODY}}
  // Round to 8 bits here (half up, as the CPU reference): the driver float-to-unorm store
  // is not exactly round-to-nearest on every GPU; a value next to k/255 stores as k everywhere.
{{OUTPUT}}
}
