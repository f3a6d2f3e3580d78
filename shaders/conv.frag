// One pass of a convolution layer: 4 output channels at one pixel, from the input channels
// their groups read, with the weights as constants. The generator fills the {{...}} slots.
// Pixels outside the texture clamp to its edge: edge-replicate padding.
{{PRECISION}}
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
  vec4 acc = {{BIAS}};
  vec4 s;
{{BODY}}
  // Round to 8 bits here (half up, as the CPU reference): the driver float-to-unorm store
  // is not exactly round-to-nearest on every GPU; a value next to k/255 stores as k everywhere.
  gl_FragColor = roundHalfUp(clamp(acc, 0.0, 1.0) * 255.0) * (1.0 / 255.0);
}
