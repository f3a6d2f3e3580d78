// Shared declarations of the addon's parts. Each part registers its functions on
// the exports object; no part keeps JavaScript values in static storage, so the
// addon can be loaded in several worker threads at once (context-aware).
#pragma once
#include <napi.h>

namespace drm_gbm_egl {

// gl.cc: the GLES2 binding. Every function acts on the EGL context that is
// current on the calling thread.
void InitGL(Napi::Env env, Napi::Object exports);
// headless.cc: EGL on Mesa's surfaceless platform, rendering into an FBO.
void InitHeadless(Napi::Env env, Napi::Object exports);
// kms.cc: DRM/KMS probing, GBM + EGL (GBM platform), page flips.
void InitKms(Napi::Env env, Napi::Object exports);
// notify.cc: sd_notify without libsystemd.
void InitNotify(Napi::Env env, Napi::Object exports);

}  // namespace drm_gbm_egl
