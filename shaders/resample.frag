// One axis of the resample to an exact size (SEMANTICS.md): Catmull-Rom (a = -0.5), stretched
// by the scale when shrinking, taps clamped to the image edge, weights normalised, 8-bit result.
// Works in tiles: u_outOrigin is the first output pixel this pass writes, u_inOrigin the first
// input pixel its texture holds. The generator sets the axis (x or y) and the tap count
// bound for this scale.
{{PRECISION}}
varying vec2 v_pixel; // pixel coordinates, n + 0.5 at pixel centres (see quad.vert)
{{ROUNDING}}
uniform sampler2D u_image;
uniform vec2 u_texel;      // 1 / input texture size
uniform vec2 u_outOrigin;  // output pixel of this pass's (0, 0), in the whole image
uniform vec2 u_inOrigin;   // image pixel of the input texture's (0, 0)
uniform float u_inSize;    // input image size along the axis (pixels)
uniform float u_scale;     // input size / output size along the axis
uniform float u_support;   // 2, or 2 * scale when shrinking
uniform float u_stretch;   // 1, or scale when shrinking

float catmullRom(float x) {
  float a = abs(x);
  if (a < 1.0) return (1.5 * a - 2.5) * a * a + 1.0;
  if (a < 2.0) return ((-0.5 * a + 2.5) * a - 4.0) * a + 2.0;
  return 0.0;
}

void main() {
  vec2 outPixel = floorOf(vec4(v_pixel, 0.0, 0.0)).xy + u_outOrigin;   // in the whole output image
  float centre = (outPixel.{{AXIS}} + 0.5) * u_scale - 0.5;
  vec4 ends = floorOf(vec4(centre - u_support, centre + u_support, 0.0, 0.0));
  float first = ends.x + 1.0;
  float last = ends.y;
  vec2 at = outPixel - u_inOrigin;                          // the other axis is not scaled
  vec4 sum = vec4(0.0);
  float total = 0.0;
  for (int k = 0; k < {{MAX_TAPS}}; k++) {
    float i = first + float(k);
    if (i > last) break;
    float weight = catmullRom((i - centre) / u_stretch);
    at.{{AXIS}} = clamp(i, 0.0, u_inSize - 1.0) - u_inOrigin.{{AXIS}};
    sum += weight * bytesOf(texture2D(u_image, (at + 0.5) * u_texel));
    total += weight;
  }
  gl_FragColor = roundHalfUp(clamp(sum / total, 0.0, 255.0)) * (1.0 / 255.0);
}
