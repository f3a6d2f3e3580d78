// node-drm-gbm-egl: DRM/KMS displays, headless EGL, a WebGL-1-shaped GLES2 binding, sd_notify.
export { GLError, GLShaderError, DisplayError } from './lib/errors.js';
export { openHeadless } from './lib/headless.js';
export { listCards, openDisplay } from './lib/kms.js';
export { sdNotify } from './lib/notify.js';
export { gpuMemory } from './lib/gpu-memory.js';
