// The KMS display: a screen driven through DRM/KMS, with GBM buffers rendered by a
// GLES2 context on EGL's GBM platform (the kmscube flow). present() swaps, puts the
// new buffer on the CRTC (a modeset for the first frame, page flips after) and
// resolves when the flip event arrives; the DRM fd is watched by a libuv poll on the
// loop of the thread that opened the display, so nothing blocks the JS thread.
// close() puts back the CRTC state found at open time.
//
// Nothing reachable from close(), the finalizer, the environment's clean-up hook or libuv's
// poll callback throws: they run while the thread may be going away (a worker terminated,
// process.exit), where N-API calls fail and a C++ exception out of a C callback or a destructor
// is std::terminate. Their failures are returned (close()'s `error`) or dropped.
#include "addon.h"
#include "egl_util.h"
#include "kms_cards.h"

#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GLES2/gl2.h>
#include <drm_fourcc.h>
#include <fcntl.h>
#include <gbm.h>
#include <poll.h>
#include <unistd.h>
#include <uv.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace drm_gbm_egl {

// Errors carry a machine-readable `kmsCode` (and `errno` when the kernel said why);
// lib/kms.js turns them into DisplayError with advice for the user.
[[noreturn]] static void ThrowKms(Napi::Env env, const char* code, const std::string& message, int error = 0) {
  std::string text = error != 0 ? message + ": " + std::strerror(error) : message;
  Napi::Error exception = Napi::Error::New(env, text);
  exception.Set("kmsCode", code);
  if (error != 0) exception.Set("errno", Napi::Number::New(env, error));
  throw exception;
}

static bool IsPermissionError(int error) { return error == EACCES || error == EPERM; }
// How the kernel refuses a modeset to a client that is not (or no longer) the DRM master.
static bool IsNotMasterError(int error) { return error == EACCES || error == EPERM || error == EBUSY; }

// The name of the EGL error flag of the last failed EGL call.
static std::string EglErrorName() { return EglErrorName(eglGetError()); }

// A DRM framebuffer made for a GBM buffer, kept on the buffer (GBM reuses its buffers)
// and removed when GBM destroys the buffer.
struct BufferFramebuffer {
  int fd;
  uint32_t id;
};

static void DestroyBufferFramebuffer(gbm_bo* bo, void* data) {
  auto* framebuffer = static_cast<BufferFramebuffer*>(data);
  drmModeRmFB(framebuffer->fd, framebuffer->id);
  delete framebuffer;
}

class KmsDisplay : public Napi::ObjectWrap<KmsDisplay> {
 public:
  static Napi::Function DefineClass(Napi::Env env) {
    return ObjectWrap<KmsDisplay>::DefineClass(env, "KmsDisplay", {
      InstanceMethod<&KmsDisplay::Present>("present"),
      InstanceMethod<&KmsDisplay::Close>("close"),
      InstanceMethod<&KmsDisplay::Describe>("describe"),
      InstanceMethod<&KmsDisplay::ConnectorState>("connectorState"),
      InstanceMethod<&KmsDisplay::Suspend>("suspend"),
      InstanceMethod<&KmsDisplay::SetMode>("setMode"),
      InstanceMethod<&KmsDisplay::BufferAge>("bufferAge"),
    });
  }

  // new KmsDisplay(cardPath, connectorId, modeName)
  explicit KmsDisplay(const Napi::CallbackInfo& info) : ObjectWrap<KmsDisplay>(info), env_(info.Env()) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsString()) {
      throw Napi::TypeError::New(env, "KmsDisplay(cardPath, connectorId, modeName)");
    }
    path_ = info[0].As<Napi::String>().Utf8Value();
    connectorId_ = info[1].As<Napi::Number>().Uint32Value();
    std::string modeName = info[2].As<Napi::String>().Utf8Value();
    try {
      OpenCard(env);
      ChooseConnectorModeAndCrtc(env, modeName);
      CreateGbmAndEgl(env);
      WatchDrmEvents(env);
    } catch (...) {
      Release(false);
      throw;
    }
    napi_add_env_cleanup_hook(env_, &KmsDisplay::OnEnvCleanup, this);
    cleanupHookAdded_ = true;
  }

  ~KmsDisplay() override {
    try {
      Release(false);
    } catch (...) {
      // A destructor must not throw; Release does not, this is the last guard.
    }
  }

 private:
  void OpenCard(Napi::Env env) {
    fd_ = open(path_.c_str(), O_RDWR | O_CLOEXEC);
    if (fd_ < 0) {
      int error = errno;
      ThrowKms(env, IsPermissionError(error) ? "permission" : "open-failed", "cannot open " + path_, error);
    }
    if (drmVersion* version = drmGetVersion(fd_)) {
      driver_.assign(version->name, version->name_len);
      drmFreeVersion(version);
    }
    // The first process to open a card becomes its DRM master; if another one
    // (a desktop session, another instance) holds it, we cannot set modes.
    if (!drmIsMaster(fd_) && drmSetMaster(fd_) != 0) {
      ThrowKms(env, "drm-master-busy", "cannot become DRM master of " + path_, errno);
    }
  }

  void ChooseConnectorModeAndCrtc(Napi::Env env, const std::string& modeName) {
    drmModeRes* resources = drmModeGetResources(fd_);
    if (resources == nullptr) ThrowKms(env, "no-kms-card", path_ + " has no KMS resources", errno);
    std::unique_ptr<drmModeRes, decltype(&drmModeFreeResources)> resourcesOwner(resources, drmModeFreeResources);
    drmModeConnector* connector = drmModeGetConnector(fd_, connectorId_);
    if (connector == nullptr) {
      ThrowKms(env, "no-connected-connector", "connector " + std::to_string(connectorId_) + " not found on " + path_);
    }
    std::unique_ptr<drmModeConnector, decltype(&drmModeFreeConnector)> connectorOwner(connector, drmModeFreeConnector);
    connectorName_ = ConnectorName(*connector);
    if (connector->connection != DRM_MODE_CONNECTED) {
      ThrowKms(env, "no-connected-connector", connectorName_ + " on " + path_ + " is not connected");
    }

    const drmModeModeInfo* chosen = nullptr;
    for (int i = 0; i < connector->count_modes; i++) {
      const drmModeModeInfo& mode = connector->modes[i];
      if (ModeName(mode) != modeName) continue;
      if (chosen == nullptr || (mode.type & DRM_MODE_TYPE_PREFERRED)) chosen = &mode;
    }
    if (chosen == nullptr) ThrowKms(env, "mode-not-available", connectorName_ + " has no mode " + modeName);
    mode_ = *chosen;

    crtcId_ = CurrentCrtcOf(fd_, *connector);
    if (crtcId_ == 0) crtcId_ = CompatibleCrtc(*resources, *connector);
    if (crtcId_ == 0) ThrowKms(env, "no-crtc", "no CRTC can drive " + connectorName_ + " on " + path_);

    savedCrtc_ = drmModeGetCrtc(fd_, crtcId_);
    // The connectors that show the saved CRTC now, so close() can put them all back.
    for (int i = 0; i < resources->count_connectors; i++) {
      drmModeConnector* other = drmModeGetConnectorCurrent(fd_, resources->connectors[i]);  // no re-probe
      if (other == nullptr) continue;
      if (CurrentCrtcOf(fd_, *other) == crtcId_) savedConnectors_.push_back(other->connector_id);
      drmModeFreeConnector(other);
    }
  }

  // A CRTC that one of the connector's encoders can use (when none is active yet).
  uint32_t CompatibleCrtc(const drmModeRes& resources, const drmModeConnector& connector) {
    for (int e = 0; e < connector.count_encoders; e++) {
      drmModeEncoder* encoder = drmModeGetEncoder(fd_, connector.encoders[e]);
      if (encoder == nullptr) continue;
      uint32_t possible = encoder->possible_crtcs;
      drmModeFreeEncoder(encoder);
      for (int c = 0; c < resources.count_crtcs; c++) {
        if (possible & (1u << c)) return resources.crtcs[c];
      }
    }
    return 0;
  }

  void CreateGbmAndEgl(Napi::Env env) {
    gbm_ = gbm_create_device(fd_);
    if (gbm_ == nullptr) ThrowKms(env, "gbm", "gbm_create_device failed for " + path_, errno);
    surface_ = gbm_surface_create(gbm_, mode_.hdisplay, mode_.vdisplay, GBM_FORMAT_XRGB8888,
                                  GBM_BO_USE_SCANOUT | GBM_BO_USE_RENDERING);
    if (surface_ == nullptr) ThrowKms(env, "gbm", "gbm_surface_create failed", errno);

    eglDisplay_ = eglGetPlatformDisplay(EGL_PLATFORM_GBM_KHR, gbm_, nullptr);
    if (eglDisplay_ == EGL_NO_DISPLAY) ThrowKms(env, "egl", "eglGetPlatformDisplay(GBM) failed: " + EglErrorName());
    EGLint major = 0, minor = 0;
    if (!eglInitialize(eglDisplay_, &major, &minor)) ThrowKms(env, "egl", "eglInitialize failed: " + EglErrorName());
    eglInitialized_ = true;
    eglVersion_ = eglQueryString(eglDisplay_, EGL_VERSION);
    const char* extensions = eglQueryString(eglDisplay_, EGL_EXTENSIONS);
    hasBufferAge_ = extensions != nullptr && std::strstr(extensions, "EGL_EXT_buffer_age") != nullptr;
    if (!eglBindAPI(EGL_OPENGL_ES_API)) ThrowKms(env, "egl", "eglBindAPI(GLES) failed: " + EglErrorName());

    config_ = ChooseXrgbConfig(env);
    const EGLint contextAttributes[] = {EGL_CONTEXT_CLIENT_VERSION, 2, EGL_NONE};
    context_ = eglCreateContext(eglDisplay_, config_, EGL_NO_CONTEXT, contextAttributes);
    if (context_ == EGL_NO_CONTEXT) ThrowKms(env, "egl", "eglCreateContext(GLES2) failed: " + EglErrorName());
    CreateWindowSurface(env);
    ReadGlFacts();
  }

  // The EGL window surface over the GBM surface, made current with the context.
  void CreateWindowSurface(Napi::Env env) {
    eglSurface_ = eglCreatePlatformWindowSurface(eglDisplay_, config_, surface_, nullptr);
    // An EGL 1.4 display may only have the older entry point (same surface on Mesa).
    if (eglSurface_ == EGL_NO_SURFACE) {
      eglSurface_ = eglCreateWindowSurface(eglDisplay_, config_, reinterpret_cast<EGLNativeWindowType>(surface_), nullptr);
    }
    if (eglSurface_ == EGL_NO_SURFACE) ThrowKms(env, "egl", "eglCreatePlatformWindowSurface failed: " + EglErrorName());
    if (!eglMakeCurrent(eglDisplay_, eglSurface_, eglSurface_, context_)) {
      ThrowKms(env, "egl", "eglMakeCurrent failed: " + EglErrorName());
    }
  }

  void ReadGlFacts() {
    auto glString = [](GLenum name) {
      const GLubyte* value = glGetString(name);
      return value != nullptr ? std::string(reinterpret_cast<const char*>(value)) : std::string();
    };
    glRenderer_ = glString(GL_RENDERER);
    glVersion_ = glString(GL_VERSION);
    glVendor_ = glString(GL_VENDOR);
  }

  // A window config whose native visual is XRGB8888 (what the GBM surface holds);
  // one with a stencil buffer when there is one, for stencil-masked drawing.
  EGLConfig ChooseXrgbConfig(Napi::Env env) {
    const EGLint wanted[] = {EGL_SURFACE_TYPE, EGL_WINDOW_BIT, EGL_RED_SIZE, 8, EGL_GREEN_SIZE, 8, EGL_BLUE_SIZE, 8,
                             EGL_RENDERABLE_TYPE, EGL_OPENGL_ES2_BIT, EGL_NONE};
    EGLint count = 0;
    if (!eglChooseConfig(eglDisplay_, wanted, nullptr, 0, &count) || count == 0) {
      ThrowKms(env, "egl", "no EGL config can render GLES2 into a window: " + EglErrorName());
    }
    std::vector<EGLConfig> configs(count);
    eglChooseConfig(eglDisplay_, wanted, configs.data(), count, &count);
    EGLConfig best = nullptr;
    for (EGLConfig config : configs) {
      EGLint visual = 0, stencil = 0;
      eglGetConfigAttrib(eglDisplay_, config, EGL_NATIVE_VISUAL_ID, &visual);
      eglGetConfigAttrib(eglDisplay_, config, EGL_STENCIL_SIZE, &stencil);
      if (visual != GBM_FORMAT_XRGB8888) continue;
      if (best == nullptr) best = config;
      if (stencil >= 8) return config;
    }
    if (best == nullptr) ThrowKms(env, "egl", "no EGL config has the native visual XRGB8888");
    return best;
  }

  void WatchDrmEvents(Napi::Env env) {
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) ThrowKms(env, "uv", "no libuv loop on this thread");
    poll_ = new uv_poll_t;
    if (int error = uv_poll_init(loop, poll_, fd_); error != 0) {
      delete poll_;
      poll_ = nullptr;
      ThrowKms(env, "uv", std::string("uv_poll_init on the DRM fd failed: ") + uv_strerror(error));
    }
    poll_->data = this;
    asyncContext_ = std::make_unique<Napi::AsyncContext>(env, "node-drm-gbm-egl:page-flip");
  }

  static void OnEnvCleanup(void* self) noexcept {
    auto* display = static_cast<KmsDisplay*>(self);
    display->cleanupHookAdded_ = false;  // Node removes it after calling it
    try {
      display->Release(false);
    } catch (...) {
      // Called by Node as the environment ends: nothing may escape.
    }
  }

  uint32_t FramebufferOf(Napi::Env env, gbm_bo* bo) {
    if (auto* existing = static_cast<BufferFramebuffer*>(gbm_bo_get_user_data(bo))) return existing->id;
    uint32_t handles[4] = {}, strides[4] = {}, offsets[4] = {};
    uint64_t modifiers[4] = {};
    uint64_t modifier = gbm_bo_get_modifier(bo);
    int planes = gbm_bo_get_plane_count(bo);
    for (int i = 0; i < planes && i < 4; i++) {
      handles[i] = gbm_bo_get_handle_for_plane(bo, i).u32;
      strides[i] = gbm_bo_get_stride_for_plane(bo, i);
      offsets[i] = gbm_bo_get_offset(bo, i);
      modifiers[i] = modifier;
    }
    uint32_t width = gbm_bo_get_width(bo), height = gbm_bo_get_height(bo), format = gbm_bo_get_format(bo);
    uint32_t id = 0;
    int result = -1;
    if (modifier != DRM_FORMAT_MOD_INVALID) {
      result = drmModeAddFB2WithModifiers(fd_, width, height, format, handles, strides, offsets, modifiers, &id,
                                          DRM_MODE_FB_MODIFIERS);
    }
    // Drivers without modifier support take the plain call (the buffer is linear then).
    if (result != 0) result = drmModeAddFB2(fd_, width, height, format, handles, strides, offsets, &id, 0);
    if (result != 0) ThrowKms(env, "framebuffer", "drmModeAddFB2 failed", errno);
    gbm_bo_set_user_data(bo, new BufferFramebuffer{fd_, id}, DestroyBufferFramebuffer);
    return id;
  }

  Napi::Value Present(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_) ThrowKms(env, "closed", "present() after close()");
    if (flipPending_) {
      ThrowKms(env, "present-pending", "present() while the previous frame still waits for its page flip: await it first");
    }
    if (eglGetCurrentContext() != context_ && !eglMakeCurrent(eglDisplay_, eglSurface_, eglSurface_, context_)) {
      ThrowKms(env, "egl", "eglMakeCurrent failed: " + EglErrorName());
    }
    if (!eglSwapBuffers(eglDisplay_, eglSurface_)) ThrowKms(env, "egl", "eglSwapBuffers failed: " + EglErrorName());
    gbm_bo* bo = gbm_surface_lock_front_buffer(surface_);
    if (bo == nullptr) ThrowKms(env, "gbm", "gbm_surface_lock_front_buffer failed");
    uint32_t framebuffer = 0;
    try {
      framebuffer = FramebufferOf(env, bo);
    } catch (...) {
      gbm_surface_release_buffer(surface_, bo);
      throw;
    }

    Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
    if (!modeSet_) {
      // First frame: a full modeset, which returns once the buffer is on screen.
      if (drmModeSetCrtc(fd_, crtcId_, framebuffer, 0, 0, &connectorId_, 1, &mode_) != 0) {
        int error = errno;
        gbm_surface_release_buffer(surface_, bo);
        ThrowKms(env, IsNotMasterError(error) ? "drm-master-busy" : "modeset",
                 "drmModeSetCrtc(" + connectorName_ + ", " + ModeName(mode_) + ") failed", error);
      }
      modeSet_ = true;
      everModeSet_ = true;
      shownBo_ = bo;
      deferred.Resolve(env.Undefined());
      return deferred.Promise();
    }
    if (drmModePageFlip(fd_, crtcId_, framebuffer, DRM_MODE_PAGE_FLIP_EVENT, this) != 0) {
      int error = errno;
      gbm_surface_release_buffer(surface_, bo);
      ThrowKms(env, IsPermissionError(error) ? "drm-master-busy" : "page-flip", "drmModePageFlip failed", error);
    }
    pendingBo_ = bo;
    flipPending_ = true;
    pendingPresent_ = std::make_unique<Napi::Promise::Deferred>(deferred);
    Ref();  // the display must outlive the flip even when JS drops it
    uv_poll_start(poll_, UV_READABLE, &KmsDisplay::OnDrmReadable);
    return deferred.Promise();
  }

  // libuv's callback (C): an exception escaping it would be std::terminate.
  static void OnDrmReadable(uv_poll_t* handle, int status, int events) noexcept {
    auto* display = static_cast<KmsDisplay*>(handle->data);
    if (display == nullptr) return;
    try {
      display->DispatchDrmEvents();
    } catch (...) {
      // SettlePendingPresent does not throw; this is the last guard.
    }
  }

  void DispatchDrmEvents() {
    drmEventContext events{};
    events.version = 2;
    events.page_flip_handler = &KmsDisplay::OnPageFlip;
    drmHandleEvent(fd_, &events);
  }

  static void OnPageFlip(int fd, unsigned int frame, unsigned int seconds, unsigned int microseconds, void* data) {
    static_cast<KmsDisplay*>(data)->FlipDone();
  }

  // The new buffer is on screen: the one shown before can be drawn into again.
  void FlipDone() {
    if (!flipPending_) return;
    if (shownBo_ != nullptr) gbm_surface_release_buffer(surface_, shownBo_);
    shownBo_ = pendingBo_;
    pendingBo_ = nullptr;
    flipPending_ = false;
    uv_poll_stop(poll_);
    SettlePendingPresent(nullptr);
  }

  // Resolves (error == nullptr) or rejects present()'s promise, inside a callback
  // scope so that the promise's reactions run right after, as for any libuv event.
  // Never throws: it runs from libuv's poll callback and from close()/Release, where the
  // thread's JavaScript may be going away (N-API calls then fail, and node-addon-api throws).
  void SettlePendingPresent(const char* error) noexcept {
    if (!pendingPresent_) return;
    std::unique_ptr<Napi::Promise::Deferred> deferred = std::move(pendingPresent_);
    try {
      Napi::Env env(env_);
      Napi::HandleScope scope(env);
      Napi::CallbackScope callbackScope(env, *asyncContext_);
      if (error == nullptr) {
        deferred->Resolve(env.Undefined());
      } else {
        Napi::Error exception = Napi::Error::New(env, error);
        exception.Set("kmsCode", "closed");
        deferred->Reject(exception.Value());
      }
    } catch (...) {
      // JavaScript cannot run any more: the promise goes with its environment.
    }
    try {
      Unref();  // present()'s Ref()
    } catch (...) {
    }
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string restoreError = Release(true);
    Napi::Object result = Napi::Object::New(env);
    result.Set("restored", restoreError.empty());
    if (!restoreError.empty()) result.Set("error", restoreError);
    return result;
  }

  // Waits (at most a second) for a flip still in flight, so its buffer is not
  // freed while the hardware may still scan it out.
  void DrainPendingFlip() {
    for (int attempt = 0; flipPending_ && attempt < 10; attempt++) {
      pollfd watched{fd_, POLLIN, 0};
      if (poll(&watched, 1, 100) > 0) DispatchDrmEvents();
    }
  }

  // Puts back what the CRTC showed at open time; returns why that failed, or "". Also after
  // suspend() (the screen went away, the CRTC is off): what it showed must be there when the
  // screen comes back after we are gone. Never throws.
  std::string RestoreCrtc() noexcept {
    if (!everModeSet_ || savedCrtc_ == nullptr) return "";
    int result;
    if (savedCrtc_->mode_valid && savedCrtc_->buffer_id != 0) {
      std::vector<uint32_t> connectors = savedConnectors_;
      if (connectors.empty()) connectors.push_back(connectorId_);
      result = drmModeSetCrtc(fd_, savedCrtc_->crtc_id, savedCrtc_->buffer_id, savedCrtc_->x, savedCrtc_->y,
                              connectors.data(), connectors.size(), &savedCrtc_->mode);
    } else {
      result = drmModeSetCrtc(fd_, savedCrtc_->crtc_id, 0, 0, 0, nullptr, 0, nullptr);  // it was off
    }
    if (result != 0) return std::string("restoring CRTC ") + std::to_string(crtcId_) + " failed: " + std::strerror(errno);
    return "";
  }

  // Frees everything, once. `fromJs` says whether JavaScript may be called (not from
  // a finalizer or an environment cleanup hook).
  std::string Release(bool fromJs) {
    if (released_) return "";
    released_ = true;
    closed_ = true;
    if (cleanupHookAdded_) {
      napi_remove_env_cleanup_hook(env_, &KmsDisplay::OnEnvCleanup, this);
      cleanupHookAdded_ = false;
    }
    // Without JavaScript (finalizer, thread exit) a pending promise is just dropped.
    if (!fromJs) pendingPresent_.reset();
    if (flipPending_ && fd_ >= 0) DrainPendingFlip();
    if (flipPending_ && fromJs) SettlePendingPresent("the display was closed before the frame reached the screen");
    std::string restoreError = fd_ >= 0 ? RestoreCrtc() : "";
    if (poll_ != nullptr) {
      poll_->data = nullptr;
      uv_poll_stop(poll_);
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); });
      poll_ = nullptr;
    }
    // Locked buffers go back to the surface before EGL destroys the surface's buffers
    // (which removes their framebuffers, now that none is on screen).
    if (surface_ != nullptr) {
      if (pendingBo_ != nullptr) gbm_surface_release_buffer(surface_, pendingBo_);
      if (shownBo_ != nullptr) gbm_surface_release_buffer(surface_, shownBo_);
    }
    pendingBo_ = shownBo_ = nullptr;
    if (eglDisplay_ != EGL_NO_DISPLAY) {
      if (eglGetCurrentContext() == context_) eglMakeCurrent(eglDisplay_, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
      if (eglSurface_ != EGL_NO_SURFACE) eglDestroySurface(eglDisplay_, eglSurface_);
      if (context_ != EGL_NO_CONTEXT) eglDestroyContext(eglDisplay_, context_);
      if (eglInitialized_) eglTerminate(eglDisplay_);
    }
    eglSurface_ = EGL_NO_SURFACE;
    context_ = EGL_NO_CONTEXT;
    eglDisplay_ = EGL_NO_DISPLAY;
    if (surface_ != nullptr) gbm_surface_destroy(surface_);
    if (gbm_ != nullptr) gbm_device_destroy(gbm_);
    surface_ = nullptr;
    gbm_ = nullptr;
    if (savedCrtc_ != nullptr) drmModeFreeCrtc(savedCrtc_);
    savedCrtc_ = nullptr;
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
    return restoreError;
  }

  // connectorState(probe): { connected, modes: [DescribeMode...] }. Without probe, as the kernel
  // knows it now (cheap enough to poll): HDMI's hot-plug interrupt or the kernel's own connector
  // poll keep the status current, but not the mode list, which only a probe reads again (the
  // EDID): a screen that came back may be another one, so its modes are probed.
  Napi::Value ConnectorState(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_) ThrowKms(env, "closed", "connectorState() after close()");
    bool probe = info.Length() > 0 && info[0].ToBoolean().Value();
    drmModeConnector* connector = probe ? drmModeGetConnector(fd_, connectorId_) : drmModeGetConnectorCurrent(fd_, connectorId_);
    Napi::Object result = Napi::Object::New(env);
    Napi::Array modes = Napi::Array::New(env);
    result.Set("connected", connector != nullptr && connector->connection == DRM_MODE_CONNECTED);
    if (connector != nullptr) {
      for (int i = 0; i < connector->count_modes; i++) {
        modes.Set(modes.Length(), DescribeMode(env, connector->modes[i]));
      }
      drmModeFreeConnector(connector);
    }
    result.Set("modes", modes);
    return result;
  }

  // The screen went away: the CRTC stops scanning out (so the buffers are free again), and the
  // next present() sets the mode again. Returns "" or why the kernel refused.
  Napi::Value Suspend(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_) ThrowKms(env, "closed", "suspend() after close()");
    if (flipPending_) DrainPendingFlip();
    std::string error;
    if (modeSet_ && drmModeSetCrtc(fd_, crtcId_, 0, 0, 0, nullptr, 0, nullptr) != 0) {
      error = std::string("turning CRTC ") + std::to_string(crtcId_) + " off failed: " + std::strerror(errno);
    }
    modeSet_ = false;
    if (shownBo_ != nullptr) gbm_surface_release_buffer(surface_, shownBo_);
    shownBo_ = nullptr;
    return Napi::String::New(env, error);
  }

  // setMode(name): the next present() sets this mode of the connector's list (the screen came
  // back, maybe another one). A new size gets new GBM and EGL surfaces; the GL context and
  // everything in it (textures, programs) stay. Call it while suspended.
  Napi::Value SetMode(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "setMode(modeName)");
    if (closed_) ThrowKms(env, "closed", "setMode() after close()");
    if (modeSet_) ThrowKms(env, "mode-in-use", "setMode() while the mode is on screen: suspend() first");
    std::string modeName = info[0].As<Napi::String>().Utf8Value();
    drmModeConnector* connector = drmModeGetConnectorCurrent(fd_, connectorId_);
    if (connector == nullptr) ThrowKms(env, "no-connected-connector", connectorName_ + " is gone", errno);
    std::unique_ptr<drmModeConnector, decltype(&drmModeFreeConnector)> connectorOwner(connector, drmModeFreeConnector);
    const drmModeModeInfo* chosen = nullptr;
    for (int i = 0; i < connector->count_modes; i++) {
      const drmModeModeInfo& mode = connector->modes[i];
      if (ModeName(mode) != modeName) continue;
      if (chosen == nullptr || (mode.type & DRM_MODE_TYPE_PREFERRED)) chosen = &mode;
    }
    if (chosen == nullptr) ThrowKms(env, "mode-not-available", connectorName_ + " has no mode " + modeName);
    bool resized = chosen->hdisplay != mode_.hdisplay || chosen->vdisplay != mode_.vdisplay;
    mode_ = *chosen;
    if (resized) {
      eglMakeCurrent(eglDisplay_, EGL_NO_SURFACE, EGL_NO_SURFACE, context_);
      eglDestroySurface(eglDisplay_, eglSurface_);
      eglSurface_ = EGL_NO_SURFACE;
      gbm_surface_destroy(surface_);  // its buffers' framebuffers go with them
      surface_ = gbm_surface_create(gbm_, mode_.hdisplay, mode_.vdisplay, GBM_FORMAT_XRGB8888,
                                    GBM_BO_USE_SCANOUT | GBM_BO_USE_RENDERING);
      if (surface_ == nullptr) ThrowKms(env, "gbm", "gbm_surface_create failed", errno);
      CreateWindowSurface(env);
    }
    return info.This();
  }

  // How many frames ago the back buffer (the one drawn next) was last presented: 1 = the
  // previous frame, 0 = unknown content (EGL_EXT_buffer_age; 0 where the driver lacks it).
  Napi::Value BufferAge(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    EGLint age = 0;
    if (!closed_ && hasBufferAge_) {
      if (eglGetCurrentContext() != context_) eglMakeCurrent(eglDisplay_, eglSurface_, eglSurface_, context_);
      if (!eglQuerySurface(eglDisplay_, eglSurface_, EGL_BUFFER_AGE_EXT, &age)) age = 0;
    }
    return Napi::Number::New(env, age);
  }

  Napi::Value Describe(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object result = Napi::Object::New(env);
    result.Set("card", path_);
    result.Set("driver", driver_);
    result.Set("connector", connectorName_);
    result.Set("connectorId", connectorId_);
    result.Set("crtcId", crtcId_);
    result.Set("mode", ModeName(mode_));
    result.Set("width", mode_.hdisplay);
    result.Set("height", mode_.vdisplay);
    result.Set("refreshHz", ModeRefreshHz(mode_));
    result.Set("glRenderer", glRenderer_);
    result.Set("glVersion", glVersion_);
    result.Set("glVendor", glVendor_);
    result.Set("eglVersion", eglVersion_);
    return result;
  }

  napi_env env_;
  std::string path_, driver_, connectorName_;
  std::string glRenderer_, glVersion_, glVendor_, eglVersion_;
  int fd_ = -1;
  uint32_t connectorId_ = 0;
  uint32_t crtcId_ = 0;
  drmModeModeInfo mode_{};
  drmModeCrtc* savedCrtc_ = nullptr;
  std::vector<uint32_t> savedConnectors_;
  gbm_device* gbm_ = nullptr;
  gbm_surface* surface_ = nullptr;
  EGLDisplay eglDisplay_ = EGL_NO_DISPLAY;
  EGLContext context_ = EGL_NO_CONTEXT;
  EGLSurface eglSurface_ = EGL_NO_SURFACE;
  EGLConfig config_ = nullptr;
  bool eglInitialized_ = false;
  bool hasBufferAge_ = false;
  gbm_bo* shownBo_ = nullptr;    // on screen now
  gbm_bo* pendingBo_ = nullptr;  // queued by a page flip
  bool modeSet_ = false;
  bool everModeSet_ = false;  // the CRTC was changed by us at least once: close() restores it
  bool flipPending_ = false;
  bool closed_ = false;
  bool released_ = false;
  bool cleanupHookAdded_ = false;
  uv_poll_t* poll_ = nullptr;
  std::unique_ptr<Napi::Promise::Deferred> pendingPresent_;
  std::unique_ptr<Napi::AsyncContext> asyncContext_;
};

void InitKms(Napi::Env env, Napi::Object exports) {
  InitKmsCards(env, exports);
  exports.Set("KmsDisplay", KmsDisplay::DefineClass(env));
}

}  // namespace drm_gbm_egl
