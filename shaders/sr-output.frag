// The last pass of an x2 step, at the high resolution: depth-to-space of the last layer
// (channel = dy * 2 + dx), the residual base from the packed luma, chroma and alpha
// upsampled bilinearly, recombined to RGB (BT.601); the generator picks the colour or the luma-only ending.
{{PRECISION}}
varying vec2 v_pixel; // pixel coordinates, n + 0.5 at pixel centres (see quad.vert)
{{ROUNDING}}
uniform sampler2D u_last;    // last layer's 4 channels, low resolution (tile size)
uniform sampler2D u_packed;  // packed luma with a margin of {{MARGIN}} pixels
uniform sampler2D u_chroma;  // Cb, Cr, alpha, low resolution (tile size)
uniform vec2 u_texel;        // 1 / tile size
uniform vec2 u_packedTexel;  // 1 / packed texture size
{{DECLARATIONS}}uniform vec2 u_core;         // where the written part of the tile starts (low-res pixels)

// Everything is worked out in bytes: the residual's sums are then exact and a tie rounds up
// as in the CPU reference; colour too, so results stay within float32 rounding of it.
vec4 bytes(sampler2D t, vec2 uv) {
  return bytesOf(texture2D(t, uv));
}

vec4 packedAt(vec2 pixel) {
  return bytes(u_packed, (pixel + {{MARGIN}}.0 + 0.5) * u_packedTexel);
}

// Outer product of 2-tap weights in the packed layout (x: (0,0), y: (1,0), z: (0,1), w: (1,1)).
vec4 blockWeights(vec2 wx, vec2 wy) {
  return vec4(wx.x * wy.x, wx.y * wy.x, wx.x * wy.y, wx.y * wy.y);
}

void main() {
  vec2 hr = floorOf(vec4(v_pixel, 0.0, 0.0)).xy;    // pixel index (exact)
  vec2 half_ = floorOf(vec4(hr * 0.5, 0.0, 0.0)).xy;
  vec2 d = hr - 2.0 * half_;          // sub-pixel: 0 or 1 per axis
  vec2 lr = u_core + half_;           // the low-res pixel in the tile
  float v = dot(bytes(u_last, (lr + 0.5) * u_texel),
                vec4((1.0 - d.x) * (1.0 - d.y), d.x * (1.0 - d.y), (1.0 - d.x) * d.y, d.x * d.y));
  float base = 0.0;
{{BASE}}
  float yo = roundHalfUp(vec4(clamp({{LUMA}}, 0.0, 255.0))).x; // output luma, a byte

  // Bilinear x2 (align_corners=False): taps (i-1, i) weighted (1/4, 3/4) for even outputs,
  // (i, i+1) weighted (3/4, 1/4) for odd ones; tile edges clamp.
  vec2 first = lr - 1.0 + d;
  vec2 w = mix(vec2(0.75), vec2(0.25), d);
  vec4 c00 = bytes(u_chroma, (first + 0.5) * u_texel);
  vec4 c10 = bytes(u_chroma, (first + vec2(1.5, 0.5)) * u_texel);
  vec4 c01 = bytes(u_chroma, (first + vec2(0.5, 1.5)) * u_texel);
  vec4 c11 = bytes(u_chroma, (first + 1.5) * u_texel);
  vec4 c = mix(mix(c00, c10, w.x), mix(c01, c11, w.x), w.y); // bytes: exact (quarters)
{{OUTPUT}}
}
