// Rounding without floor(): llvmpipe runs floor() lane by lane, which made passes several
// times slower; adding and subtracting 1.5 * 2^23 rounds a float32 (|x| < 2^22) to the nearest
// integer, ties to even. The engine sets both u_round values to 1.5 * 2^23: two uniforms, so
// the compiler cannot cancel them out.
uniform vec2 u_round;

vec4 roundEven(vec4 x) {
  return (x + u_round.x) - u_round.y;
}

// round(x) with ties up, as the CPU reference's floor(x + 0.5).
vec4 roundHalfUp(vec4 x) {
  vec4 r = roundEven(x);
  return r + step(0.5, x - r);
}

// A texel as its exact bytes: some drivers (llvmpipe) return k/255 up to 1/4096 off.
vec4 bytesOf(vec4 texel) {
  return roundEven(texel * 255.0);
}

// floor(x), exactly, from the nearest integer.
vec4 floorOf(vec4 x) {
  vec4 r = roundEven(x);
  return r - 1.0 + step(r, x);
}
