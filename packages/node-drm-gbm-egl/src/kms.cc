#include "addon.h"

namespace drm_gbm_egl {

void InitKms(Napi::Env env, Napi::Object exports) {}

}  // namespace drm_gbm_egl
