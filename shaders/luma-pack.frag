// Luma of the input image, packed 2x2: texel (x, y) holds Y at (x, y), (x+1, y), (x, y+1),
// (x+1, y+1) of the image shifted by the margin, so the first layer and the residual base
// read a 2x2 block per fetch. The margin ({{MARGIN}} pixels each side) holds the image's
// replicated edge, which clamp-to-edge sampling could not give for the packed neighbours.
{{PRECISION}}
varying vec2 v_pixel; // pixel coordinates, n + 0.5 at pixel centres (see quad.vert)
{{ROUNDING}}
uniform sampler2D u_image;
uniform vec2 u_imageTexel; // 1 / image texture size

// BT.601 luma, rounded to 8 bits (half up) as SEMANTICS.md says.
float luma(vec2 pixel) {
  vec3 rgb = bytesOf(texture2D(u_image, (pixel + 0.5) * u_imageTexel)).rgb;
  // 299 R + 587 G + 114 B is an exact integer in float32, so Y = floor((that + 500) / 1000)
  // exactly (ties up, as specified).
  return floorOf(vec4((dot(rgb, vec3(299.0, 587.0, 114.0)) + 500.5) * 0.001)).x * (1.0 / 255.0);
}

void main() {
  vec2 pixel = floorOf(vec4(v_pixel, 0.0, 0.0)).xy - {{MARGIN}}.0;
  gl_FragColor = vec4(luma(pixel), luma(pixel + vec2(1.0, 0.0)),
                      luma(pixel + vec2(0.0, 1.0)), luma(pixel + vec2(1.0, 1.0)));
}
