#include "addon.h"

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  drm_gbm_egl::InitGL(env, exports);
  drm_gbm_egl::InitHeadless(env, exports);
  drm_gbm_egl::InitKms(env, exports);
  drm_gbm_egl::InitNotify(env, exports);
  return exports;
}

NODE_API_MODULE(drm_gbm_egl, InitAddon)
