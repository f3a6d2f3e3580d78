// BT.601 chroma (from the unrounded luma) and alpha of the input image: (Cb, Cr, alpha).
// Worked out in bytes (0..255), where the inputs are exact integers, to stay within float32
// rounding of the CPU reference; 128 is the neutral chroma value (128/255 in unit range).
{{PRECISION}}
varying vec2 v_pixel; // pixel coordinates, n + 0.5 at pixel centres (see quad.vert)
{{ROUNDING}}
uniform sampler2D u_image;
uniform vec2 u_imageTexel; // 1 / image texture size

void main() {
  vec4 c = bytesOf(texture2D(u_image, v_pixel * u_imageTexel));
  float y = dot(c.rgb, vec3(0.299, 0.587, 0.114));
  vec2 cbcr = vec2((c.b - y) * 0.564, (c.r - y) * 0.713) + 128.0;
  gl_FragColor = vec4(roundHalfUp(vec4(clamp(cbcr, 0.0, 255.0), 0.0, 0.0)).xy, c.a, 0.0) * (1.0 / 255.0);
}
