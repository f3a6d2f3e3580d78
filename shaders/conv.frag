// One pass of a convolution layer: 4 output channels at one pixel (gl_FragColor), or several
// blocks of 4 that read the same inputs (gl_FragData[i], EXT_draw_buffers), from the input
// channels their groups read, with the weights as constants. The generator fills the {{...}} slots.
// Pixels outside the texture clamp to its edge: edge-replicate padding.
{{EXTENSION}}{{PRECISION}}
varying vec2 v_pixel; // pixel coordinates, n + 0.5 at pixel centres (see quad.vert)
{{ROUNDING}}
uniform vec2 u_texel; // 1 / input texture size (inputs have the output's size)
{{SAMPLERS}}

// Textures are read as bytes (bytesOf): 8-bit roundings then match the CPU reference.
// The weights are per byte (already divided by 255).
vec4 tap(sampler2D t, vec2 offset) {
  return bytesOf(texture2D(t, (v_pixel + offset) * u_texel));
}

void main() {
{{ACCUMULATORS}}
  vec4 s;
{{BODY}}
  // Round to 8 bits here (half up, as the CPU reference): the driver float-to-unorm store
  // is not exactly round-to-nearest on every GPU; a value next to k/255 stores as k everywhere.
{{OUTPUT}}
}
