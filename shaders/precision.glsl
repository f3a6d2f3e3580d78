// highp where the fragment stage has it (texel addressing of large textures needs it);
// mediump otherwise, and the engine then keeps tiles small.
#ifdef GL_FRAGMENT_PRECISION_HIGH
precision highp float;
#else
precision mediump float;
#endif
