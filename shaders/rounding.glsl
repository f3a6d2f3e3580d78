// Rounding without floor(): llvmpipe runs floor() lane by lane, which made passes several
// times slower. Adding and subtracting 1.5 * 2^23 rounds a float32 (|x| < 2^22) to the nearest
// integer, ties to even. The engine sets u_round = (1.5 * 2^23, 1.5 * 2^23, 1, 255): the
// compiler must not fold constants into the magic (x - 0.5 + M would become x + M, one ulp of
// M being 1), so values go in and out through a multiply by a uniform 1 it cannot see through,
// and the two copies of M keep it from cancelling them.
uniform vec4 u_round;

vec4 roundEven(vec4 x) {
#ifdef GL_FRAGMENT_PRECISION_HIGH
  return ((x * u_round.z + u_round.x) - u_round.y) * u_round.z;
#else
  return floor(x + 0.5); // no float32 here for the magic number (ties go up instead)
#endif
}

// round(x) with ties up, as the CPU reference's floor(x + 0.5).
vec4 roundHalfUp(vec4 x) {
  vec4 r = roundEven(x);
  return r + step(0.5, x - r);
}

// floor(x), exactly, from the nearest integer.
vec4 floorOf(vec4 x) {
  vec4 r = roundEven(x);
  return r - 1.0 + step(r, x);
}

// A texel as its exact bytes: some drivers (llvmpipe) return k/255 up to 1/4096 off.
// u_round.w is 255: one multiply-add and a subtract (its callers only multiply the result).
vec4 bytesOf(vec4 texel) {
#ifdef GL_FRAGMENT_PRECISION_HIGH
  return (texel * u_round.w + u_round.x) - u_round.y;
#else
  return floor(texel * 255.0 + 0.5);
#endif
}
