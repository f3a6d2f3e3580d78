// Shared declarations of the addon's parts. Each part registers its functions on
// the exports object; no part keeps JavaScript values in static storage, so the
// addon can be loaded in several worker threads at once (context-aware).
#pragma once
// A JS-called function that fails while its thread's JavaScript is being torn down (a worker
// being terminated, process.exit) cannot throw into JavaScript any more: without this,
// node-addon-api throws a second C++ exception out of the N-API callback, which is
// std::terminate ("terminate called after throwing an instance of 'Napi::Error'"). With it,
// the exception is dropped with its environment. Every file includes napi.h through here.
#define NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS
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
