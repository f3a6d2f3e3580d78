// The headless display: EGL on Mesa's surfaceless platform (no window system, no
// DRM master), a GLES2 context made current on the calling thread, and two
// offscreen framebuffers. The back one is the display's default framebuffer;
// present() swaps them, so the front one holds the last presented frame.
#include "addon.h"
#include "egl_util.h"

#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GLES2/gl2.h>
#include <GLES2/gl2ext.h>

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace drm_gbm_egl {
namespace {

const char* kPackageAdvice =
    "Install Mesa's EGL and drivers (Debian/Raspberry Pi OS: sudo apt-get install libegl-mesa0 libgl1-mesa-dri).";

// A failure to open, raised to JS as an Error with a `code` (lib/headless.js turns it into DisplayError).
struct OpenError {
  std::string code;
  std::string message;
};

// The surfaceless EGLDisplay is one per process and eglTerminate ends it for every
// thread, so the displays of all worker threads share it through a count.
std::mutex surfacelessMutex;
EGLDisplay surfacelessDisplay = EGL_NO_DISPLAY;
int surfacelessUsers = 0;

EGLDisplay AcquireSurfacelessDisplay() {
  std::lock_guard<std::mutex> lock(surfacelessMutex);
  if (surfacelessUsers > 0) {
    surfacelessUsers++;
    return surfacelessDisplay;
  }
  const char* clientExtensions = eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
  if (clientExtensions == nullptr || !HasExtensionWord(clientExtensions, "EGL_EXT_platform_base")) {
    throw OpenError{"egl", std::string("no usable EGL implementation: EGL_EXT_platform_base is missing, so Mesa's EGL "
                                       "(libegl-mesa0) is not installed or libEGL is too old. ") + kPackageAdvice};
  }
  if (!HasExtensionWord(clientExtensions, "EGL_MESA_platform_surfaceless")) {
    throw OpenError{"egl", std::string("EGL has no surfaceless platform (EGL_MESA_platform_surfaceless is missing; "
                                       "client extensions: ") + clientExtensions + "). " + kPackageAdvice};
  }
  auto getPlatformDisplay =
      reinterpret_cast<PFNEGLGETPLATFORMDISPLAYEXTPROC>(eglGetProcAddress("eglGetPlatformDisplayEXT"));
  if (getPlatformDisplay == nullptr) {
    throw OpenError{"egl", std::string("eglGetPlatformDisplayEXT is not available. ") + kPackageAdvice};
  }
  EGLDisplay display = getPlatformDisplay(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, nullptr);
  if (display == EGL_NO_DISPLAY) {
    throw OpenError{"egl", std::string("eglGetPlatformDisplayEXT(EGL_PLATFORM_SURFACELESS_MESA) failed: ") +
                               EglErrorName(eglGetError()) + ". " + kPackageAdvice};
  }
  EGLint major = 0, minor = 0;
  if (!eglInitialize(display, &major, &minor)) {
    throw OpenError{"egl", std::string("eglInitialize on the surfaceless platform failed (") + EglErrorName(eglGetError()) +
                               "): no Mesa GL driver could be loaded (not even llvmpipe, from libgl1-mesa-dri). " +
                               kPackageAdvice};
  }
  surfacelessDisplay = display;
  surfacelessUsers = 1;
  return display;
}

void ReleaseSurfacelessDisplay() {
  std::lock_guard<std::mutex> lock(surfacelessMutex);
  if (surfacelessUsers <= 0) return;
  if (--surfacelessUsers == 0) {
    eglTerminate(surfacelessDisplay);
    surfacelessDisplay = EGL_NO_DISPLAY;
  }
}

std::string GLString(GLenum name) {
  const char* value = reinterpret_cast<const char*>(glGetString(name));
  return value != nullptr ? value : "";
}

// Restores the EGL binding of the calling thread when it goes out of scope.
class SavedCurrent {
 public:
  SavedCurrent()
      : display_(eglGetCurrentDisplay()),
        draw_(eglGetCurrentSurface(EGL_DRAW)),
        read_(eglGetCurrentSurface(EGL_READ)),
        context_(eglGetCurrentContext()) {}
  EGLContext context() const { return context_; }
  void Restore() const {
    if (context_ != EGL_NO_CONTEXT) eglMakeCurrent(display_, draw_, read_, context_);
  }

 private:
  EGLDisplay display_;
  EGLSurface draw_;
  EGLSurface read_;
  EGLContext context_;
};

class HeadlessDisplay : public Napi::ObjectWrap<HeadlessDisplay> {
 public:
  static Napi::Function DefineClass(Napi::Env env) {
    return ObjectWrap<HeadlessDisplay>::DefineClass(
        env, "HeadlessDisplay",
        {
            InstanceMethod<&HeadlessDisplay::DefaultFramebuffer>("defaultFramebuffer"),
            InstanceMethod<&HeadlessDisplay::Info>("info"),
            InstanceMethod<&HeadlessDisplay::Present>("present"),
            InstanceMethod<&HeadlessDisplay::ReadPixels>("readPixels"),
            InstanceMethod<&HeadlessDisplay::Close>("close"),
        });
  }

  // new HeadlessDisplay(width, height): opens EGL and leaves the context current.
  explicit HeadlessDisplay(const Napi::CallbackInfo& info) : ObjectWrap<HeadlessDisplay>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
      throw Napi::TypeError::New(env, "HeadlessDisplay(width, height): two numbers expected");
    }
    width_ = info[0].As<Napi::Number>().Int32Value();
    height_ = info[1].As<Napi::Number>().Int32Value();
    try {
      if (width_ <= 0 || height_ <= 0) {
        throw OpenError{"bad-size", "openHeadless: width and height must be positive integers, got " +
                                        std::to_string(width_) + "x" + std::to_string(height_)};
      }
      Open();
    } catch (const OpenError& error) {
      Release();
      Napi::Error jsError = Napi::Error::New(env, error.message);
      jsError.Set("code", Napi::String::New(env, error.code));
      throw jsError;
    }
  }

  ~HeadlessDisplay() override { Release(); }

 private:
  void Open() {
    display_ = AcquireSurfacelessDisplay();
    holdsDisplay_ = true;
    const char* displayExtensions = eglQueryString(display_, EGL_EXTENSIONS);
    if (!HasExtensionWord(displayExtensions, "EGL_KHR_surfaceless_context")) {
      throw OpenError{"egl", std::string("the EGL driver cannot make a context current without a surface "
                                         "(EGL_KHR_surfaceless_context is missing). ") + kPackageAdvice};
    }
    const char* version = eglQueryString(display_, EGL_VERSION);
    eglVersion_ = version != nullptr ? version : "";

    if (!eglBindAPI(EGL_OPENGL_ES_API)) {
      throw OpenError{"egl", std::string("eglBindAPI(EGL_OPENGL_ES_API) failed: ") + EglErrorName(eglGetError())};
    }
    // The context never gets a surface, but eglChooseConfig looks for window
    // configs unless told otherwise; surfaceless offers pbuffer ones.
    const EGLint configAttributes[] = {EGL_SURFACE_TYPE, EGL_PBUFFER_BIT, EGL_RENDERABLE_TYPE, EGL_OPENGL_ES2_BIT,
                                       EGL_RED_SIZE, 8, EGL_GREEN_SIZE, 8, EGL_BLUE_SIZE, 8, EGL_ALPHA_SIZE, 8, EGL_NONE};
    EGLConfig config = nullptr;
    EGLint configCount = 0;
    if (!eglChooseConfig(display_, configAttributes, &config, 1, &configCount) || configCount < 1) {
      throw OpenError{"egl", std::string("no EGL config can render OpenGL ES 2 on the surfaceless platform (") +
                                 EglErrorName(eglGetError()) + "). " + kPackageAdvice};
    }
    const EGLint contextAttributes[] = {EGL_CONTEXT_CLIENT_VERSION, 2, EGL_NONE};
    context_ = eglCreateContext(display_, config, EGL_NO_CONTEXT, contextAttributes);
    if (context_ == EGL_NO_CONTEXT) {
      throw OpenError{"egl", std::string("eglCreateContext (OpenGL ES 2) failed: ") + EglErrorName(eglGetError())};
    }
    if (!eglMakeCurrent(display_, EGL_NO_SURFACE, EGL_NO_SURFACE, context_)) {
      throw OpenError{"egl", std::string("eglMakeCurrent failed: ") + EglErrorName(eglGetError())};
    }
    glRenderer_ = GLString(GL_RENDERER);
    glVersion_ = GLString(GL_VERSION);
    glVendor_ = GLString(GL_VENDOR);
    CreateFramebuffers();
  }

  void CreateFramebuffers() {
    GLint maxSize = 0;
    glGetIntegerv(GL_MAX_RENDERBUFFER_SIZE, &maxSize);
    if (width_ > maxSize || height_ > maxSize) {
      throw OpenError{"bad-size", "openHeadless: " + std::to_string(width_) + "x" + std::to_string(height_) +
                                      " is larger than this GPU's renderbuffers (" + std::to_string(maxSize) + ")"};
    }
    const char* extensions = reinterpret_cast<const char*>(glGetString(GL_EXTENSIONS));
    if (!HasExtensionWord(extensions, "GL_OES_rgb8_rgba8")) {
      throw OpenError{"gl", "openHeadless: the GL driver has no RGBA8 renderbuffers (GL_OES_rgb8_rgba8). " +
                                std::string(kPackageAdvice)};
    }
    bool packedDepthStencil = HasExtensionWord(extensions, "GL_OES_packed_depth_stencil");

    // Depth and stencil are shared by both framebuffers: after a present their
    // contents are undefined anyway, as after eglSwapBuffers.
    glGenRenderbuffers(2, depthStencil_);
    glBindRenderbuffer(GL_RENDERBUFFER, depthStencil_[0]);
    glRenderbufferStorage(GL_RENDERBUFFER, packedDepthStencil ? GL_DEPTH24_STENCIL8_OES : GL_DEPTH_COMPONENT16, width_,
                          height_);
    if (!packedDepthStencil) {
      glBindRenderbuffer(GL_RENDERBUFFER, depthStencil_[1]);
      glRenderbufferStorage(GL_RENDERBUFFER, GL_STENCIL_INDEX8, width_, height_);
    }
    GLuint stencil = packedDepthStencil ? depthStencil_[0] : depthStencil_[1];

    glGenRenderbuffers(2, colors_);
    glGenFramebuffers(2, framebuffers_);
    for (int i = 0; i < 2; i++) {
      glBindRenderbuffer(GL_RENDERBUFFER, colors_[i]);
      glRenderbufferStorage(GL_RENDERBUFFER, GL_RGBA8_OES, width_, height_);
      glBindFramebuffer(GL_FRAMEBUFFER, framebuffers_[i]);
      glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, colors_[i]);
      glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_DEPTH_ATTACHMENT, GL_RENDERBUFFER, depthStencil_[0]);
      glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_STENCIL_ATTACHMENT, GL_RENDERBUFFER, stencil);
      GLenum status = glCheckFramebufferStatus(GL_FRAMEBUFFER);
      if (status != GL_FRAMEBUFFER_COMPLETE) {
        throw OpenError{"gl", "openHeadless: the offscreen framebuffer is incomplete (status 0x" + Hex(status) + ")"};
      }
      // A fresh display shows opaque black, like a screen.
      glClearColor(0, 0, 0, 1);
      glClearStencil(0);
      glClear(GL_COLOR_BUFFER_BIT | GL_DEPTH_BUFFER_BIT | GL_STENCIL_BUFFER_BIT);
    }
    glClearColor(0, 0, 0, 0);
    glBindRenderbuffer(GL_RENDERBUFFER, 0);
    glBindFramebuffer(GL_FRAMEBUFFER, framebuffers_[back_]);
    // Without a surface the context's initial viewport and scissor box are empty.
    glViewport(0, 0, width_, height_);
    glScissor(0, 0, width_, height_);
    GLenum error = glGetError();
    if (error != GL_NO_ERROR) {
      throw OpenError{"gl", "openHeadless: creating the offscreen framebuffers failed (GL error 0x" + Hex(error) + ")"};
    }
  }

  static std::string Hex(unsigned value) {
    char text[16];
    std::snprintf(text, sizeof text, "%x", value);
    return text;
  }

  void EnsureOpen(Napi::Env env, const char* call) const {
    if (context_ == EGL_NO_CONTEXT) {
      throw Napi::Error::New(env, std::string("display.") + call + "(): the headless display is closed");
    }
  }

  void MakeCurrent(Napi::Env env) const {
    if (eglGetCurrentContext() == context_) return;
    if (!eglMakeCurrent(display_, EGL_NO_SURFACE, EGL_NO_SURFACE, context_)) {
      throw Napi::Error::New(env, std::string("headless display: eglMakeCurrent failed: ") + EglErrorName(eglGetError()) +
                                      " (is the display in use on another thread?)");
    }
  }

  Napi::Value DefaultFramebuffer(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), framebuffers_[back_]);
  }

  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object result = Napi::Object::New(env);
    result.Set("glRenderer", glRenderer_);
    result.Set("glVersion", glVersion_);
    result.Set("glVendor", glVendor_);
    result.Set("eglVersion", eglVersion_);
    return result;
  }

  // Waits for the frame to be rendered and makes it the front one. If the
  // default framebuffer was bound, the new back one is bound in its place.
  Napi::Value Present(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    EnsureOpen(env, "present");
    MakeCurrent(env);
    glFinish();
    GLint bound = 0;
    glGetIntegerv(GL_FRAMEBUFFER_BINDING, &bound);
    GLuint presented = framebuffers_[back_];
    back_ = 1 - back_;
    if (static_cast<GLuint>(bound) == presented) glBindFramebuffer(GL_FRAMEBUFFER, framebuffers_[back_]);
    return env.Undefined();
  }

  // RGBA bytes of the front framebuffer, top row first. GL state is left as it was.
  Napi::Value ReadPixels(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    EnsureOpen(env, "readPixels");
    MakeCurrent(env);
    GLint bound = 0, packAlignment = 4;
    glGetIntegerv(GL_FRAMEBUFFER_BINDING, &bound);
    glGetIntegerv(GL_PACK_ALIGNMENT, &packAlignment);
    glBindFramebuffer(GL_FRAMEBUFFER, framebuffers_[1 - back_]);
    glPixelStorei(GL_PACK_ALIGNMENT, 4);
    size_t rowBytes = static_cast<size_t>(width_) * 4;
    Napi::Buffer<uint8_t> pixels = Napi::Buffer<uint8_t>::New(env, rowBytes * height_);
    glReadPixels(0, 0, width_, height_, GL_RGBA, GL_UNSIGNED_BYTE, pixels.Data());
    glPixelStorei(GL_PACK_ALIGNMENT, packAlignment);
    glBindFramebuffer(GL_FRAMEBUFFER, bound);
    // GL's row 0 is the bottom one; a picture's is the top one.
    for (int top = 0, bottom = height_ - 1; top < bottom; top++, bottom--) {
      std::swap_ranges(pixels.Data() + top * rowBytes, pixels.Data() + (top + 1) * rowBytes,
                       pixels.Data() + bottom * rowBytes);
    }
    return pixels;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Release();
    return info.Env().Undefined();
  }

  // Frees the GL objects, the context and this display's hold on the EGLDisplay.
  // Safe to call twice, and on a half-opened display.
  void Release() {
    if (context_ != EGL_NO_CONTEXT) {
      SavedCurrent previous;
      EGLContext ours = context_;
      if (eglMakeCurrent(display_, EGL_NO_SURFACE, EGL_NO_SURFACE, context_)) {
        glDeleteFramebuffers(2, framebuffers_);
        glDeleteRenderbuffers(2, colors_);
        glDeleteRenderbuffers(2, depthStencil_);
        eglMakeCurrent(display_, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
      }
      eglDestroyContext(display_, context_);
      context_ = EGL_NO_CONTEXT;
      if (previous.context() != ours) previous.Restore();
    }
    if (holdsDisplay_) {
      holdsDisplay_ = false;
      ReleaseSurfacelessDisplay();
    }
  }

  int width_ = 0;
  int height_ = 0;
  EGLDisplay display_ = EGL_NO_DISPLAY;
  bool holdsDisplay_ = false;
  EGLContext context_ = EGL_NO_CONTEXT;
  GLuint framebuffers_[2] = {0, 0};
  GLuint colors_[2] = {0, 0};
  GLuint depthStencil_[2] = {0, 0};  // [0] depth (+ stencil when packed), [1] separate stencil
  int back_ = 0;
  std::string glRenderer_, glVersion_, glVendor_, eglVersion_;
};

}  // namespace

void InitHeadless(Napi::Env env, Napi::Object exports) {
  exports.Set("HeadlessDisplay", HeadlessDisplay::DefineClass(env));
}

}  // namespace drm_gbm_egl
