// The GLES2 binding: one JS function per GL call, acting on the EGL context that
// is current on the calling thread. After each call glGetError is checked and a
// flag is raised as the JS GLError (lib/errors.js), naming the error and the call.
//
// Kept thin and cheap: arguments are read straight from the N-API values, the
// call name is a string literal, and the error classes sit in a per-environment
// struct handed to every function as its data (no statics, so several worker
// threads can each load the addon).
#include "addon.h"
#include "egl_util.h"

#include <EGL/egl.h>
#include <GLES2/gl2.h>
#include <GLES2/gl2ext.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace drm_gbm_egl {
namespace {

// Per-environment state: the JS error classes, set once by lib/gl.js.
struct GLBindingData {
  Napi::FunctionReference glErrorClass;
  Napi::FunctionReference shaderErrorClass;
};

const char* GLErrorName(GLenum code) {
  switch (code) {
    case GL_INVALID_ENUM: return "GL_INVALID_ENUM";
    case GL_INVALID_VALUE: return "GL_INVALID_VALUE";
    case GL_INVALID_OPERATION: return "GL_INVALID_OPERATION";
    case GL_INVALID_FRAMEBUFFER_OPERATION: return "GL_INVALID_FRAMEBUFFER_OPERATION";
    case GL_OUT_OF_MEMORY: return "GL_OUT_OF_MEMORY";
    default: return "GL_UNKNOWN_ERROR";
  }
}

// Reads the arguments of one call and raises its GL errors. `call` names the JS
// method in messages.
class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* call) : info_(info), env_(info.Env()), call_(call) {}

  Napi::Env Env() const { return env_; }
  size_t Length() const { return info_.Length(); }
  Napi::Value Raw(size_t i) const { return info_[i]; }

  GLint Int(size_t i) const {
    int32_t value;
    if (napi_get_value_int32(env_, info_[i], &value) != napi_ok) ThrowType(i, "a number");
    return value;
  }
  GLuint Uint(size_t i) const {
    uint32_t value;
    if (napi_get_value_uint32(env_, info_[i], &value) != napi_ok) ThrowType(i, "a number");
    return value;
  }
  GLfloat Float(size_t i) const {
    double value;
    if (napi_get_value_double(env_, info_[i], &value) != napi_ok) ThrowType(i, "a number");
    return static_cast<GLfloat>(value);
  }
  GLboolean Bool(size_t i) const {
    bool value;
    if (napi_get_value_bool(env_, info_[i], &value) != napi_ok) {
      napi_value coerced;
      napi_coerce_to_bool(env_, info_[i], &coerced);
      napi_get_value_bool(env_, coerced, &value);
    }
    return value ? GL_TRUE : GL_FALSE;
  }
  // A GL object name; null (or undefined) is 0, "no object".
  GLuint Handle(size_t i) const {
    uint32_t value;
    if (napi_get_value_uint32(env_, info_[i], &value) == napi_ok) return value;
    if (IsNullish(i)) return 0;
    ThrowType(i, "a GL object or null");
  }
  // A uniform location; null is -1, which GL ignores.
  GLint Location(size_t i) const {
    int32_t value;
    if (napi_get_value_int32(env_, info_[i], &value) == napi_ok) return value;
    if (IsNullish(i)) return -1;
    ThrowType(i, "a uniform location or null");
  }
  std::string String(size_t i) const {
    if (!info_[i].IsString()) ThrowType(i, "a string");
    return info_[i].As<Napi::String>().Utf8Value();
  }
  bool IsNullish(size_t i) const { return info_[i].IsNull() || info_[i].IsUndefined(); }

  // The bytes of a typed array, DataView or ArrayBuffer.
  struct Bytes {
    void* data;
    size_t length;
  };
  Bytes View(size_t i) const {
    napi_value value = info_[i];
    bool is = false;
    Bytes bytes{nullptr, 0};
    if (napi_is_typedarray(env_, value, &is) == napi_ok && is) {
      napi_typedarray_type type;
      size_t elements;
      napi_value buffer;
      size_t offset;
      napi_get_typedarray_info(env_, value, &type, &elements, &bytes.data, &buffer, &offset);
      bytes.length = elements * ElementSize(type);
      return bytes;
    }
    if (napi_is_dataview(env_, value, &is) == napi_ok && is) {
      napi_value buffer;
      size_t offset;
      napi_get_dataview_info(env_, value, &bytes.length, &bytes.data, &buffer, &offset);
      return bytes;
    }
    if (napi_is_arraybuffer(env_, value, &is) == napi_ok && is) {
      napi_get_arraybuffer_info(env_, value, &bytes.data, &bytes.length);
      return bytes;
    }
    ThrowType(i, "an ArrayBufferView");
  }

  // A Float32Array is used in place; a plain array of numbers is copied.
  const GLfloat* Floats(size_t i, std::vector<GLfloat>& scratch, GLsizei* count) const {
    napi_value value = info_[i];
    bool is = false;
    if (napi_is_typedarray(env_, value, &is) == napi_ok && is) {
      napi_typedarray_type type;
      size_t elements;
      void* data;
      napi_value buffer;
      size_t offset;
      napi_get_typedarray_info(env_, value, &type, &elements, &data, &buffer, &offset);
      if (type != napi_float32_array) ThrowType(i, "a Float32Array or an array of numbers");
      *count = static_cast<GLsizei>(elements);
      return static_cast<const GLfloat*>(data);
    }
    if (!info_[i].IsArray()) ThrowType(i, "a Float32Array or an array of numbers");
    Napi::Array array = info_[i].As<Napi::Array>();
    scratch.resize(array.Length());
    for (uint32_t k = 0; k < array.Length(); k++) {
      Napi::Value element = array[k];
      double number;
      if (napi_get_value_double(env_, element, &number) != napi_ok) ThrowType(i, "a Float32Array or an array of numbers");
      scratch[k] = static_cast<GLfloat>(number);
    }
    *count = static_cast<GLsizei>(scratch.size());
    return scratch.data();
  }

  // Raises the GL error flags (if any) as GLError; returns undefined.
  Napi::Value Done() const {
    GLenum error = glGetError();
    if (error == GL_NO_ERROR) return env_.Undefined();
    while (glGetError() != GL_NO_ERROR) {
    }  // a context may hold several flags: clear them, report the first
    ThrowGLError(error);
  }
  template <typename T>
  Napi::Value Done(T result) const {
    Done();
    return result;
  }

  [[noreturn]] void ThrowGLError(GLenum error) const {
    auto* data = static_cast<GLBindingData*>(info_.Data());
    if (data == nullptr || data->glErrorClass.IsEmpty()) {
      throw Napi::Error::New(env_, std::string(GLErrorName(error)) + " in " + call_);
    }
    Napi::Object instance = data->glErrorClass.New({Napi::Number::New(env_, error),
                                                    Napi::String::New(env_, GLErrorName(error)),
                                                    Napi::String::New(env_, call_)});
    throw Napi::Error(env_, instance);
  }
  [[noreturn]] void ThrowShaderError(const std::string& message, const std::string& infoLog) const {
    auto* data = static_cast<GLBindingData*>(info_.Data());
    if (data == nullptr || data->shaderErrorClass.IsEmpty()) {
      throw Napi::Error::New(env_, message + ":\n" + infoLog);
    }
    Napi::Object instance = data->shaderErrorClass.New({Napi::String::New(env_, message), Napi::String::New(env_, infoLog)});
    throw Napi::Error(env_, instance);
  }
  [[noreturn]] void Throw(const std::string& message) const {
    throw Napi::Error::New(env_, std::string("gl.") + call_ + ": " + message);
  }
  [[noreturn]] void ThrowType(size_t i, const char* expected) const {
    throw Napi::TypeError::New(env_, std::string("gl.") + call_ + ": argument " + std::to_string(i + 1) + " must be " + expected);
  }

 private:
  static size_t ElementSize(napi_typedarray_type type) {
    switch (type) {
      case napi_int8_array: case napi_uint8_array: case napi_uint8_clamped_array: return 1;
      case napi_int16_array: case napi_uint16_array: return 2;
      case napi_int32_array: case napi_uint32_array: case napi_float32_array: return 4;
      default: return 8;
    }
  }

  const Napi::CallbackInfo& info_;
  Napi::Env env_;
  const char* call_;
};

GLint GetInt(GLenum pname) {
  GLint value = 0;
  glGetIntegerv(pname, &value);
  return value;
}

// Bytes per pixel of a client-side image, 0 when the format/type pair is unknown.
size_t BytesPerPixel(GLenum format, GLenum type) {
  size_t channels;
  switch (format) {
    case GL_ALPHA: case GL_LUMINANCE: case GL_DEPTH_COMPONENT: channels = 1; break;
    case GL_LUMINANCE_ALPHA: channels = 2; break;
    case GL_RGB: channels = 3; break;
    case GL_RGBA: case GL_BGRA_EXT: channels = 4; break;
    default: return 0;
  }
  switch (type) {
    case GL_UNSIGNED_BYTE: return channels;
    case GL_UNSIGNED_SHORT_5_6_5: case GL_UNSIGNED_SHORT_4_4_4_4: case GL_UNSIGNED_SHORT_5_5_5_1: return 2;
    case GL_HALF_FLOAT_OES: case GL_UNSIGNED_SHORT: return channels * 2;
    case GL_FLOAT: case GL_UNSIGNED_INT: return channels * 4;
    default: return 0;
  }
}

// ---- GPU memory held through this binding ---------------------------------------
//
// The bytes of texture images, renderbuffer storage and buffer data created through
// these functions, per context and object, so a long-running process can watch them
// (gpuMemory() below; on llvmpipe they are also part of the process's RSS). Not
// counted: what the window system owns (the headless display's two presentation
// framebuffers made in headless.cc, a KMS display's GBM scanout buffers), mipmaps
// from generateMipmap, and what the driver keeps beside the images.
//
// Process-wide on purpose (every worker thread's contexts together), so guarded by a
// mutex. A record is keyed by its context: a destroyed context's records are dropped
// when gpuMemory() finds eglQueryContext failing on it.
enum class GpuObject { kTexture = 0, kRenderbuffer = 1, kBuffer = 2 };

struct GpuMemoryKey {
  EGLDisplay display;
  EGLContext context;
  int kind;
  GLuint name;
  int part;  // a texture's target and level; 0 otherwise
  bool operator<(const GpuMemoryKey& o) const {
    return std::tie(context, kind, name, part, display) < std::tie(o.context, o.kind, o.name, o.part, o.display);
  }
};

std::mutex gpuMemoryMutex;
std::map<GpuMemoryKey, size_t> gpuMemory;

// Records that the object bound as `binding` in the current context now holds `bytes`.
void RecordGpuBytes(GpuObject kind, GLenum binding, int part, size_t bytes) {
  EGLContext context = eglGetCurrentContext();
  if (context == EGL_NO_CONTEXT) return;
  GLint name = 0;
  glGetIntegerv(binding, &name);
  if (name == 0) return;  // nothing bound: GL raised an error, nothing was allocated
  GpuMemoryKey key{eglGetCurrentDisplay(), context, static_cast<int>(kind), static_cast<GLuint>(name), part};
  std::lock_guard<std::mutex> lock(gpuMemoryMutex);
  if (bytes == 0) gpuMemory.erase(key);
  else gpuMemory[key] = bytes;
}

// Forgets every record of object `name` of `kind` in the current context (deleted).
void ForgetGpuObject(GpuObject kind, GLuint name) {
  EGLContext context = eglGetCurrentContext();
  if (context == EGL_NO_CONTEXT || name == 0) return;
  std::lock_guard<std::mutex> lock(gpuMemoryMutex);
  for (auto it = gpuMemory.begin(); it != gpuMemory.end();) {
    if (it->first.context == context && it->first.kind == static_cast<int>(kind) && it->first.name == name) it = gpuMemory.erase(it);
    else ++it;
  }
}

size_t RenderbufferBytesPerPixel(GLenum internalFormat) {
  switch (internalFormat) {
    case GL_STENCIL_INDEX8: return 1;
    case GL_RGBA4: case GL_RGB5_A1: case GL_RGB565: case GL_DEPTH_COMPONENT16: return 2;
    case GL_RGB8_OES: return 3;
    default: return 4;  // RGBA8, DEPTH24_STENCIL8, DEPTH_COMPONENT24/32
  }
}

// gpuMemory() -> {textureBytes, renderbufferBytes, bufferBytes, contexts}: what the
// live contexts of this process hold through the binding.
Napi::Value GpuMemoryUsage(const Napi::CallbackInfo& info) {
  size_t totals[3] = {0, 0, 0};
  std::set<EGLContext> contexts;
  {
    std::lock_guard<std::mutex> lock(gpuMemoryMutex);
    std::map<EGLContext, bool> alive;
    for (auto it = gpuMemory.begin(); it != gpuMemory.end();) {
      const GpuMemoryKey& key = it->first;
      auto known = alive.find(key.context);
      if (known == alive.end()) {
        EGLint id = 0;
        known = alive.emplace(key.context, eglQueryContext(key.display, key.context, EGL_CONFIG_ID, &id) == EGL_TRUE).first;
      }
      if (!known->second) {
        it = gpuMemory.erase(it);
        continue;
      }
      contexts.insert(key.context);
      totals[key.kind] += it->second;
      ++it;
    }
  }
  eglGetError();  // a failed query above leaves an EGL error on this thread: clear it
  Napi::Object result = Napi::Object::New(info.Env());
  result.Set("textureBytes", Napi::Number::New(info.Env(), static_cast<double>(totals[0])));
  result.Set("renderbufferBytes", Napi::Number::New(info.Env(), static_cast<double>(totals[1])));
  result.Set("bufferBytes", Napi::Number::New(info.Env(), static_cast<double>(totals[2])));
  result.Set("contexts", Napi::Number::New(info.Env(), static_cast<double>(contexts.size())));
  return result;
}

// Bytes GL reads or writes for a width x height image with the given row alignment.
size_t ImageSize(GLsizei width, GLsizei height, size_t bytesPerPixel, GLint alignment) {
  if (width <= 0 || height <= 0) return 0;
  size_t row = static_cast<size_t>(width) * bytesPerPixel;
  size_t stride = (row + alignment - 1) / alignment * alignment;
  return stride * (static_cast<size_t>(height) - 1) + row;
}

// OES_get_program_binary entry points, looked up once per process (they are not
// per context in EGL implementations that matter here; Mesa's are dispatch stubs).
struct ProgramBinaryProcs {
  PFNGLGETPROGRAMBINARYOESPROC get = nullptr;
  PFNGLPROGRAMBINARYOESPROC load = nullptr;
};
const ProgramBinaryProcs& GetProgramBinaryProcs() {
  static ProgramBinaryProcs procs;
  static std::once_flag once;
  std::call_once(once, [] {
    procs.get = reinterpret_cast<PFNGLGETPROGRAMBINARYOESPROC>(eglGetProcAddress("glGetProgramBinaryOES"));
    procs.load = reinterpret_cast<PFNGLPROGRAMBINARYOESPROC>(eglGetProcAddress("glProgramBinaryOES"));
  });
  return procs;
}

bool HasExtension(const char* name) {
  return HasExtensionWord(reinterpret_cast<const char*>(glGetString(GL_EXTENSIONS)), name);
}

// Formats offered by OES_get_program_binary on the current context.
std::vector<GLint> ProgramBinaryFormats() {
  std::vector<GLint> formats;
  const ProgramBinaryProcs& procs = GetProgramBinaryProcs();
  if (procs.get == nullptr || procs.load == nullptr || !HasExtension("GL_OES_get_program_binary")) return formats;
  GLint count = GetInt(GL_NUM_PROGRAM_BINARY_FORMATS_OES);
  if (count <= 0) return formats;
  formats.resize(count);
  glGetIntegerv(GL_PROGRAM_BINARY_FORMATS_OES, formats.data());
  return formats;
}

// ---- state, errors, limits ---------------------------------------------------

Napi::Value GetError(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), glGetError());
}

Napi::Value Finish(const Napi::CallbackInfo& info) {
  Args a(info, "finish");
  glFinish();
  return a.Done();
}

Napi::Value Flush(const Napi::CallbackInfo& info) {
  Args a(info, "flush");
  glFlush();
  return a.Done();
}

Napi::Value StringParameter(const Args& a, GLenum pname) {
  const char* value = reinterpret_cast<const char*>(glGetString(pname));
  a.Done();
  return Napi::String::New(a.Env(), value != nullptr ? value : "");
}

template <typename T>
Napi::Value NumberArray(const Args& a, const T* values, size_t count) {
  Napi::Array array = Napi::Array::New(a.Env(), count);
  for (size_t i = 0; i < count; i++) array.Set(static_cast<uint32_t>(i), Napi::Number::New(a.Env(), values[i]));
  return array;
}

Napi::Value GetParameter(const Napi::CallbackInfo& info) {
  Args a(info, "getParameter");
  GLenum pname = a.Uint(0);
  switch (pname) {
    case GL_VENDOR: case GL_RENDERER: case GL_VERSION: case GL_SHADING_LANGUAGE_VERSION: case GL_EXTENSIONS:
      return StringParameter(a, pname);
    case GL_MAX_VIEWPORT_DIMS: case GL_VIEWPORT: case GL_SCISSOR_BOX: {
      GLint values[4] = {0, 0, 0, 0};
      glGetIntegerv(pname, values);
      a.Done();
      return NumberArray(a, values, pname == GL_MAX_VIEWPORT_DIMS ? 2 : 4);
    }
    case GL_ALIASED_POINT_SIZE_RANGE: case GL_ALIASED_LINE_WIDTH_RANGE: case GL_DEPTH_RANGE:
    case GL_COLOR_CLEAR_VALUE: case GL_BLEND_COLOR: {
      GLfloat values[4] = {0, 0, 0, 0};
      glGetFloatv(pname, values);
      a.Done();
      bool four = pname == GL_COLOR_CLEAR_VALUE || pname == GL_BLEND_COLOR;
      return NumberArray(a, values, four ? 4 : 2);
    }
    case GL_COLOR_WRITEMASK: {
      GLboolean values[4] = {0, 0, 0, 0};
      glGetBooleanv(pname, values);
      a.Done();
      Napi::Array array = Napi::Array::New(a.Env(), 4);
      for (uint32_t i = 0; i < 4; i++) array.Set(i, Napi::Boolean::New(a.Env(), values[i] != 0));
      return array;
    }
    case GL_BLEND: case GL_CULL_FACE: case GL_DEPTH_TEST: case GL_DITHER: case GL_POLYGON_OFFSET_FILL:
    case GL_SAMPLE_ALPHA_TO_COVERAGE: case GL_SAMPLE_COVERAGE: case GL_SCISSOR_TEST: case GL_STENCIL_TEST:
    case GL_DEPTH_WRITEMASK: case GL_SAMPLE_COVERAGE_INVERT: case GL_SHADER_COMPILER: {
      GLboolean value = GL_FALSE;
      glGetBooleanv(pname, &value);
      return a.Done(Napi::Boolean::New(a.Env(), value != 0));
    }
    case GL_LINE_WIDTH: case GL_DEPTH_CLEAR_VALUE: case GL_POLYGON_OFFSET_FACTOR: case GL_POLYGON_OFFSET_UNITS:
    case GL_SAMPLE_COVERAGE_VALUE: {
      GLfloat value = 0;
      glGetFloatv(pname, &value);
      return a.Done(Napi::Number::New(a.Env(), value));
    }
    default: {
      // Limits, bindings, bit depths and enum-valued state are single integers. Room
      // for more, so a multi-valued pname not listed above cannot write past `values`.
      GLint values[16] = {0};
      glGetIntegerv(pname, values);
      return a.Done(Napi::Number::New(a.Env(), values[0]));
    }
  }
}

Napi::Value GetShaderPrecisionFormat(const Napi::CallbackInfo& info) {
  Args a(info, "getShaderPrecisionFormat");
  GLint range[2] = {0, 0};
  GLint precision = 0;
  glGetShaderPrecisionFormat(a.Uint(0), a.Uint(1), range, &precision);
  a.Done();
  Napi::Object result = Napi::Object::New(a.Env());
  result.Set("rangeMin", range[0]);
  result.Set("rangeMax", range[1]);
  result.Set("precision", precision);
  return result;
}

Napi::Value GetSupportedExtensions(const Napi::CallbackInfo& info) {
  Args a(info, "getSupportedExtensions");
  const char* extensions = reinterpret_cast<const char*>(glGetString(GL_EXTENSIONS));
  a.Done();
  Napi::Array array = Napi::Array::New(a.Env());
  uint32_t count = 0;
  for (const char* p = extensions != nullptr ? extensions : ""; *p != '\0';) {
    const char* end = std::strchr(p, ' ');
    size_t length = end != nullptr ? static_cast<size_t>(end - p) : std::strlen(p);
    if (length > 0) array.Set(count++, Napi::String::New(a.Env(), p, length));
    p += length;
    while (*p == ' ') p++;
  }
  return array;
}

Napi::Value IsEnabled(const Napi::CallbackInfo& info) {
  Args a(info, "isEnabled");
  GLboolean enabled = glIsEnabled(a.Uint(0));
  return a.Done(Napi::Boolean::New(a.Env(), enabled != 0));
}

// ---- shaders and programs ----------------------------------------------------

Napi::Value CreateShader(const Napi::CallbackInfo& info) {
  Args a(info, "createShader");
  GLuint shader = glCreateShader(a.Uint(0));
  return a.Done(Napi::Number::New(a.Env(), shader));
}

Napi::Value ShaderSource(const Napi::CallbackInfo& info) {
  Args a(info, "shaderSource");
  GLuint shader = a.Handle(0);
  std::string source = a.String(1);
  const GLchar* text = source.c_str();
  GLint length = static_cast<GLint>(source.size());
  glShaderSource(shader, 1, &text, &length);
  return a.Done();
}

std::string ShaderInfoLog(GLuint shader) {
  GLint length = 0;
  glGetShaderiv(shader, GL_INFO_LOG_LENGTH, &length);
  if (length <= 0) return "";
  std::string log(static_cast<size_t>(length), '\0');
  GLsizei written = 0;
  glGetShaderInfoLog(shader, length, &written, &log[0]);
  log.resize(static_cast<size_t>(written));
  return log;
}

std::string ProgramInfoLog(GLuint program) {
  GLint length = 0;
  glGetProgramiv(program, GL_INFO_LOG_LENGTH, &length);
  if (length <= 0) return "";
  std::string log(static_cast<size_t>(length), '\0');
  GLsizei written = 0;
  glGetProgramInfoLog(program, length, &written, &log[0]);
  log.resize(static_cast<size_t>(written));
  return log;
}

Napi::Value CompileShader(const Napi::CallbackInfo& info) {
  Args a(info, "compileShader");
  GLuint shader = a.Handle(0);
  glCompileShader(shader);
  a.Done();
  GLint compiled = GL_FALSE;
  GLint type = 0;
  glGetShaderiv(shader, GL_COMPILE_STATUS, &compiled);
  glGetShaderiv(shader, GL_SHADER_TYPE, &type);
  a.Done();
  if (compiled == GL_TRUE) return a.Env().Undefined();
  const char* kind = type == GL_VERTEX_SHADER ? "vertex" : type == GL_FRAGMENT_SHADER ? "fragment" : "unknown";
  std::string message = std::string("compileShader: the ") + kind + " shader " + std::to_string(shader) + " does not compile";
  a.ThrowShaderError(message, ShaderInfoLog(shader));
}

Napi::Value GetShaderInfoLog(const Napi::CallbackInfo& info) {
  Args a(info, "getShaderInfoLog");
  std::string log = ShaderInfoLog(a.Handle(0));
  return a.Done(Napi::String::New(a.Env(), log));
}

Napi::Value GetShaderParameter(const Napi::CallbackInfo& info) {
  Args a(info, "getShaderParameter");
  GLenum pname = a.Uint(1);
  GLint value = 0;
  glGetShaderiv(a.Handle(0), pname, &value);
  a.Done();
  if (pname == GL_COMPILE_STATUS || pname == GL_DELETE_STATUS) return Napi::Boolean::New(a.Env(), value != 0);
  return Napi::Number::New(a.Env(), value);
}

Napi::Value DeleteShader(const Napi::CallbackInfo& info) {
  Args a(info, "deleteShader");
  glDeleteShader(a.Handle(0));
  return a.Done();
}

Napi::Value CreateProgram(const Napi::CallbackInfo& info) {
  Args a(info, "createProgram");
  GLuint program = glCreateProgram();
  return a.Done(Napi::Number::New(a.Env(), program));
}

Napi::Value AttachShader(const Napi::CallbackInfo& info) {
  Args a(info, "attachShader");
  glAttachShader(a.Handle(0), a.Handle(1));
  return a.Done();
}

Napi::Value BindAttribLocation(const Napi::CallbackInfo& info) {
  Args a(info, "bindAttribLocation");
  std::string name = a.String(2);
  glBindAttribLocation(a.Handle(0), a.Uint(1), name.c_str());
  return a.Done();
}

Napi::Value LinkProgram(const Napi::CallbackInfo& info) {
  Args a(info, "linkProgram");
  GLuint program = a.Handle(0);
  glLinkProgram(program);
  a.Done();
  GLint linked = GL_FALSE;
  glGetProgramiv(program, GL_LINK_STATUS, &linked);
  a.Done();
  if (linked == GL_TRUE) return a.Env().Undefined();
  a.ThrowShaderError("linkProgram: program " + std::to_string(program) + " does not link", ProgramInfoLog(program));
}

Napi::Value GetProgramInfoLog(const Napi::CallbackInfo& info) {
  Args a(info, "getProgramInfoLog");
  std::string log = ProgramInfoLog(a.Handle(0));
  return a.Done(Napi::String::New(a.Env(), log));
}

Napi::Value GetProgramParameter(const Napi::CallbackInfo& info) {
  Args a(info, "getProgramParameter");
  GLenum pname = a.Uint(1);
  GLint value = 0;
  glGetProgramiv(a.Handle(0), pname, &value);
  a.Done();
  if (pname == GL_LINK_STATUS || pname == GL_DELETE_STATUS || pname == GL_VALIDATE_STATUS) {
    return Napi::Boolean::New(a.Env(), value != 0);
  }
  return Napi::Number::New(a.Env(), value);
}

Napi::Value UseProgram(const Napi::CallbackInfo& info) {
  Args a(info, "useProgram");
  glUseProgram(a.Handle(0));
  return a.Done();
}

Napi::Value DeleteProgram(const Napi::CallbackInfo& info) {
  Args a(info, "deleteProgram");
  glDeleteProgram(a.Handle(0));
  return a.Done();
}

Napi::Value GetAttribLocation(const Napi::CallbackInfo& info) {
  Args a(info, "getAttribLocation");
  std::string name = a.String(1);
  GLint location = glGetAttribLocation(a.Handle(0), name.c_str());
  return a.Done(Napi::Number::New(a.Env(), location));
}

Napi::Value GetUniformLocation(const Napi::CallbackInfo& info) {
  Args a(info, "getUniformLocation");
  std::string name = a.String(1);
  GLint location = glGetUniformLocation(a.Handle(0), name.c_str());
  a.Done();
  if (location < 0) return a.Env().Null();
  return Napi::Number::New(a.Env(), location);
}

// ---- program binaries (OES_get_program_binary) -------------------------------

Napi::Value GetProgramBinaryFormats(const Napi::CallbackInfo& info) {
  Args a(info, "getProgramBinaryFormats");
  std::vector<GLint> formats = ProgramBinaryFormats();
  a.Done();
  return NumberArray(a, formats.data(), formats.size());
}

Napi::Value GetProgramBinary(const Napi::CallbackInfo& info) {
  Args a(info, "getProgramBinary");
  GLuint program = a.Handle(0);
  if (ProgramBinaryFormats().empty()) return a.Done(a.Env().Null());
  GLint length = 0;
  glGetProgramiv(program, GL_PROGRAM_BINARY_LENGTH_OES, &length);
  a.Done();
  if (length <= 0) return a.Env().Null();
  Napi::Buffer<uint8_t> binary = Napi::Buffer<uint8_t>::New(a.Env(), static_cast<size_t>(length));
  GLsizei written = 0;
  GLenum format = 0;
  GetProgramBinaryProcs().get(program, length, &written, &format, binary.Data());
  a.Done();
  Napi::Object result = Napi::Object::New(a.Env());
  result.Set("format", Napi::Number::New(a.Env(), format));
  result.Set("binary", written == length ? binary : Napi::Buffer<uint8_t>::Copy(a.Env(), binary.Data(), written));
  return result;
}

Napi::Value ProgramBinary(const Napi::CallbackInfo& info) {
  Args a(info, "programBinary");
  GLuint program = a.Handle(0);
  GLenum format = a.Uint(1);
  Args::Bytes binary = a.View(2);
  const ProgramBinaryProcs& procs = GetProgramBinaryProcs();
  if (procs.load == nullptr || ProgramBinaryFormats().empty()) return a.Done(Napi::Boolean::New(a.Env(), false));
  procs.load(program, format, binary.data, static_cast<GLint>(binary.length));
  GLenum error = glGetError();
  // A format the driver does not know is a rejection, like a stale binary.
  if (error == GL_INVALID_ENUM) return a.Done(Napi::Boolean::New(a.Env(), false));
  if (error != GL_NO_ERROR) a.ThrowGLError(error);
  GLint linked = GL_FALSE;
  glGetProgramiv(program, GL_LINK_STATUS, &linked);
  return a.Done(Napi::Boolean::New(a.Env(), linked == GL_TRUE));
}

// ---- uniforms ----------------------------------------------------------------

Napi::Value Uniform1i(const Napi::CallbackInfo& info) {
  Args a(info, "uniform1i");
  glUniform1i(a.Location(0), a.Int(1));
  return a.Done();
}

Napi::Value Uniform2i(const Napi::CallbackInfo& info) {
  Args a(info, "uniform2i");
  glUniform2i(a.Location(0), a.Int(1), a.Int(2));
  return a.Done();
}

Napi::Value Uniform1f(const Napi::CallbackInfo& info) {
  Args a(info, "uniform1f");
  glUniform1f(a.Location(0), a.Float(1));
  return a.Done();
}

Napi::Value Uniform2f(const Napi::CallbackInfo& info) {
  Args a(info, "uniform2f");
  glUniform2f(a.Location(0), a.Float(1), a.Float(2));
  return a.Done();
}

Napi::Value Uniform3f(const Napi::CallbackInfo& info) {
  Args a(info, "uniform3f");
  glUniform3f(a.Location(0), a.Float(1), a.Float(2), a.Float(3));
  return a.Done();
}

Napi::Value Uniform4f(const Napi::CallbackInfo& info) {
  Args a(info, "uniform4f");
  glUniform4f(a.Location(0), a.Float(1), a.Float(2), a.Float(3), a.Float(4));
  return a.Done();
}

// uniform{1,2,3,4}fv and uniformMatrix{2,3,4}fv: `components` floats per element.
template <int components>
Napi::Value UniformVector(const Napi::CallbackInfo& info, const char* call) {
  Args a(info, call);
  GLint location = a.Location(0);
  std::vector<GLfloat> scratch;
  GLsizei count = 0;
  const GLfloat* values = a.Floats(1, scratch, &count);
  if (count == 0 || count % components != 0) {
    a.Throw("the array length (" + std::to_string(count) + ") must be a non-zero multiple of " + std::to_string(components));
  }
  GLsizei elements = count / components;
  switch (components) {
    case 1: glUniform1fv(location, elements, values); break;
    case 2: glUniform2fv(location, elements, values); break;
    case 3: glUniform3fv(location, elements, values); break;
    default: glUniform4fv(location, elements, values); break;
  }
  return a.Done();
}
Napi::Value Uniform1fv(const Napi::CallbackInfo& info) { return UniformVector<1>(info, "uniform1fv"); }
Napi::Value Uniform2fv(const Napi::CallbackInfo& info) { return UniformVector<2>(info, "uniform2fv"); }
Napi::Value Uniform3fv(const Napi::CallbackInfo& info) { return UniformVector<3>(info, "uniform3fv"); }
Napi::Value Uniform4fv(const Napi::CallbackInfo& info) { return UniformVector<4>(info, "uniform4fv"); }

template <int size>
Napi::Value UniformMatrix(const Napi::CallbackInfo& info, const char* call) {
  Args a(info, call);
  GLint location = a.Location(0);
  GLboolean transpose = a.Bool(1);
  std::vector<GLfloat> scratch;
  GLsizei count = 0;
  const GLfloat* values = a.Floats(2, scratch, &count);
  const int components = size * size;
  if (count == 0 || count % components != 0) {
    a.Throw("the array length (" + std::to_string(count) + ") must be a non-zero multiple of " + std::to_string(components));
  }
  GLsizei elements = count / components;
  switch (size) {
    case 2: glUniformMatrix2fv(location, elements, transpose, values); break;
    case 3: glUniformMatrix3fv(location, elements, transpose, values); break;
    default: glUniformMatrix4fv(location, elements, transpose, values); break;
  }
  return a.Done();
}
Napi::Value UniformMatrix2fv(const Napi::CallbackInfo& info) { return UniformMatrix<2>(info, "uniformMatrix2fv"); }
Napi::Value UniformMatrix3fv(const Napi::CallbackInfo& info) { return UniformMatrix<3>(info, "uniformMatrix3fv"); }
Napi::Value UniformMatrix4fv(const Napi::CallbackInfo& info) { return UniformMatrix<4>(info, "uniformMatrix4fv"); }

// ---- textures ----------------------------------------------------------------

Napi::Value CreateTexture(const Napi::CallbackInfo& info) {
  Args a(info, "createTexture");
  GLuint texture = 0;
  glGenTextures(1, &texture);
  return a.Done(Napi::Number::New(a.Env(), texture));
}

Napi::Value BindTexture(const Napi::CallbackInfo& info) {
  Args a(info, "bindTexture");
  glBindTexture(a.Uint(0), a.Handle(1));
  return a.Done();
}

Napi::Value ActiveTexture(const Napi::CallbackInfo& info) {
  Args a(info, "activeTexture");
  glActiveTexture(a.Uint(0));
  return a.Done();
}

Napi::Value TexParameteri(const Napi::CallbackInfo& info) {
  Args a(info, "texParameteri");
  glTexParameteri(a.Uint(0), a.Uint(1), a.Int(2));
  return a.Done();
}

Napi::Value PixelStorei(const Napi::CallbackInfo& info) {
  Args a(info, "pixelStorei");
  glPixelStorei(a.Uint(0), a.Int(1));
  return a.Done();
}

// Checks that `pixels` holds the whole image GL is going to read, so a short
// buffer is an exception and never a read past its end.
const void* CheckedPixels(const Args& a, size_t index, GLsizei width, GLsizei height, GLenum format, GLenum type,
                          GLenum alignmentName) {
  Args::Bytes pixels = a.View(index);
  size_t bytesPerPixel = BytesPerPixel(format, type);
  if (bytesPerPixel == 0) {
    // Unknown pair: let GL raise the error; it reads nothing then.
    return pixels.data;
  }
  size_t needed = ImageSize(width, height, bytesPerPixel, GetInt(alignmentName));
  if (pixels.length < needed) {
    a.Throw("the pixel data is " + std::to_string(pixels.length) + " bytes, " + std::to_string(width) + "x" +
            std::to_string(height) + " pixels need " + std::to_string(needed));
  }
  return pixels.data;
}

Napi::Value TexImage2D(const Napi::CallbackInfo& info) {
  Args a(info, "texImage2D");
  GLenum target = a.Uint(0);
  GLint level = a.Int(1);
  GLint internalFormat = a.Int(2);
  GLsizei width = a.Int(3);
  GLsizei height = a.Int(4);
  GLint border = a.Int(5);
  GLenum format = a.Uint(6);
  GLenum type = a.Uint(7);
  const void* pixels = nullptr;
  if (a.Length() > 8 && !a.IsNullish(8)) {
    pixels = CheckedPixels(a, 8, width, height, format, type, GL_UNPACK_ALIGNMENT);
  }
  glTexImage2D(target, level, internalFormat, width, height, border, format, type, pixels);
  Napi::Value done = a.Done();
  GLenum binding = target == GL_TEXTURE_2D ? GL_TEXTURE_BINDING_2D : GL_TEXTURE_BINDING_CUBE_MAP;
  size_t bytes = static_cast<size_t>(width) * static_cast<size_t>(height) * BytesPerPixel(format, type);
  RecordGpuBytes(GpuObject::kTexture, binding, static_cast<int>(target) * 64 + level, bytes);
  return done;
}

Napi::Value TexSubImage2D(const Napi::CallbackInfo& info) {
  Args a(info, "texSubImage2D");
  GLenum target = a.Uint(0);
  GLint level = a.Int(1);
  GLint x = a.Int(2);
  GLint y = a.Int(3);
  GLsizei width = a.Int(4);
  GLsizei height = a.Int(5);
  GLenum format = a.Uint(6);
  GLenum type = a.Uint(7);
  const void* pixels = CheckedPixels(a, 8, width, height, format, type, GL_UNPACK_ALIGNMENT);
  glTexSubImage2D(target, level, x, y, width, height, format, type, pixels);
  return a.Done();
}

Napi::Value CopyTexSubImage2D(const Napi::CallbackInfo& info) {
  Args a(info, "copyTexSubImage2D");
  glCopyTexSubImage2D(a.Uint(0), a.Int(1), a.Int(2), a.Int(3), a.Int(4), a.Int(5), a.Int(6), a.Int(7));
  return a.Done();
}

Napi::Value GenerateMipmap(const Napi::CallbackInfo& info) {
  Args a(info, "generateMipmap");
  glGenerateMipmap(a.Uint(0));
  return a.Done();
}

Napi::Value DeleteTexture(const Napi::CallbackInfo& info) {
  Args a(info, "deleteTexture");
  GLuint texture = a.Handle(0);
  glDeleteTextures(1, &texture);
  ForgetGpuObject(GpuObject::kTexture, texture);
  return a.Done();
}

// ---- framebuffers and renderbuffers -------------------------------------------

Napi::Value CreateFramebuffer(const Napi::CallbackInfo& info) {
  Args a(info, "createFramebuffer");
  GLuint framebuffer = 0;
  glGenFramebuffers(1, &framebuffer);
  return a.Done(Napi::Number::New(a.Env(), framebuffer));
}

Napi::Value BindFramebuffer(const Napi::CallbackInfo& info) {
  Args a(info, "bindFramebuffer");
  glBindFramebuffer(a.Uint(0), a.Handle(1));
  return a.Done();
}

Napi::Value FramebufferTexture2D(const Napi::CallbackInfo& info) {
  Args a(info, "framebufferTexture2D");
  glFramebufferTexture2D(a.Uint(0), a.Uint(1), a.Uint(2), a.Handle(3), a.Int(4));
  return a.Done();
}

Napi::Value FramebufferRenderbuffer(const Napi::CallbackInfo& info) {
  Args a(info, "framebufferRenderbuffer");
  glFramebufferRenderbuffer(a.Uint(0), a.Uint(1), a.Uint(2), a.Handle(3));
  return a.Done();
}

Napi::Value CheckFramebufferStatus(const Napi::CallbackInfo& info) {
  Args a(info, "checkFramebufferStatus");
  GLenum status = glCheckFramebufferStatus(a.Uint(0));
  return a.Done(Napi::Number::New(a.Env(), status));
}

Napi::Value DeleteFramebuffer(const Napi::CallbackInfo& info) {
  Args a(info, "deleteFramebuffer");
  GLuint framebuffer = a.Handle(0);
  glDeleteFramebuffers(1, &framebuffer);
  return a.Done();
}

Napi::Value CreateRenderbuffer(const Napi::CallbackInfo& info) {
  Args a(info, "createRenderbuffer");
  GLuint renderbuffer = 0;
  glGenRenderbuffers(1, &renderbuffer);
  return a.Done(Napi::Number::New(a.Env(), renderbuffer));
}

Napi::Value BindRenderbuffer(const Napi::CallbackInfo& info) {
  Args a(info, "bindRenderbuffer");
  glBindRenderbuffer(a.Uint(0), a.Handle(1));
  return a.Done();
}

Napi::Value RenderbufferStorage(const Napi::CallbackInfo& info) {
  Args a(info, "renderbufferStorage");
  GLenum internalFormat = a.Uint(1);
  GLsizei width = a.Int(2);
  GLsizei height = a.Int(3);
  glRenderbufferStorage(a.Uint(0), internalFormat, width, height);
  Napi::Value done = a.Done();
  RecordGpuBytes(GpuObject::kRenderbuffer, GL_RENDERBUFFER_BINDING, 0,
                 static_cast<size_t>(width) * static_cast<size_t>(height) * RenderbufferBytesPerPixel(internalFormat));
  return done;
}

Napi::Value DeleteRenderbuffer(const Napi::CallbackInfo& info) {
  Args a(info, "deleteRenderbuffer");
  GLuint renderbuffer = a.Handle(0);
  glDeleteRenderbuffers(1, &renderbuffer);
  ForgetGpuObject(GpuObject::kRenderbuffer, renderbuffer);
  return a.Done();
}

// ---- buffers and vertex attributes --------------------------------------------

Napi::Value CreateBuffer(const Napi::CallbackInfo& info) {
  Args a(info, "createBuffer");
  GLuint buffer = 0;
  glGenBuffers(1, &buffer);
  return a.Done(Napi::Number::New(a.Env(), buffer));
}

Napi::Value BindBuffer(const Napi::CallbackInfo& info) {
  Args a(info, "bindBuffer");
  glBindBuffer(a.Uint(0), a.Handle(1));
  return a.Done();
}

Napi::Value BufferData(const Napi::CallbackInfo& info) {
  Args a(info, "bufferData");
  GLenum target = a.Uint(0);
  GLenum usage = a.Uint(2);
  size_t bytes;
  if (a.Raw(1).IsNumber()) {
    GLint size = a.Int(1);
    if (size < 0) a.Throw("the size must not be negative");
    glBufferData(target, size, nullptr, usage);
    bytes = static_cast<size_t>(size);
  } else {
    Args::Bytes data = a.View(1);
    glBufferData(target, static_cast<GLsizeiptr>(data.length), data.data, usage);
    bytes = data.length;
  }
  Napi::Value done = a.Done();
  GLenum binding = target == GL_ELEMENT_ARRAY_BUFFER ? GL_ELEMENT_ARRAY_BUFFER_BINDING : GL_ARRAY_BUFFER_BINDING;
  RecordGpuBytes(GpuObject::kBuffer, binding, 0, bytes);
  return done;
}

Napi::Value BufferSubData(const Napi::CallbackInfo& info) {
  Args a(info, "bufferSubData");
  GLenum target = a.Uint(0);
  GLint offset = a.Int(1);
  Args::Bytes data = a.View(2);
  glBufferSubData(target, offset, static_cast<GLsizeiptr>(data.length), data.data);
  return a.Done();
}

Napi::Value DeleteBuffer(const Napi::CallbackInfo& info) {
  Args a(info, "deleteBuffer");
  GLuint buffer = a.Handle(0);
  glDeleteBuffers(1, &buffer);
  ForgetGpuObject(GpuObject::kBuffer, buffer);
  return a.Done();
}

Napi::Value EnableVertexAttribArray(const Napi::CallbackInfo& info) {
  Args a(info, "enableVertexAttribArray");
  glEnableVertexAttribArray(a.Uint(0));
  return a.Done();
}

Napi::Value DisableVertexAttribArray(const Napi::CallbackInfo& info) {
  Args a(info, "disableVertexAttribArray");
  glDisableVertexAttribArray(a.Uint(0));
  return a.Done();
}

Napi::Value VertexAttribPointer(const Napi::CallbackInfo& info) {
  Args a(info, "vertexAttribPointer");
  GLuint index = a.Uint(0);
  GLint size = a.Int(1);
  GLenum type = a.Uint(2);
  GLboolean normalized = a.Bool(3);
  GLsizei stride = a.Int(4);
  GLint offset = a.Int(5);
  // Without a bound ARRAY_BUFFER the offset would be a client memory address.
  if (GetInt(GL_ARRAY_BUFFER_BINDING) == 0) a.Throw("no ARRAY_BUFFER is bound (bind a buffer with vertex data first)");
  if (offset < 0) a.Throw("the offset must not be negative");
  glVertexAttribPointer(index, size, type, normalized, stride, reinterpret_cast<const void*>(static_cast<uintptr_t>(offset)));
  return a.Done();
}

Napi::Value VertexAttrib4f(const Napi::CallbackInfo& info) {
  Args a(info, "vertexAttrib4f");
  glVertexAttrib4f(a.Uint(0), a.Float(1), a.Float(2), a.Float(3), a.Float(4));
  return a.Done();
}

// An enabled attribute array without a buffer would make GL read client memory
// at address 0..offset: refuse the draw instead of crashing the process.
void CheckAttributeArrays(const Args& a) {
  GLint count = GetInt(GL_MAX_VERTEX_ATTRIBS);
  for (GLint i = 0; i < count; i++) {
    GLint enabled = 0;
    glGetVertexAttribiv(i, GL_VERTEX_ATTRIB_ARRAY_ENABLED, &enabled);
    if (enabled == 0) continue;
    GLint buffer = 0;
    glGetVertexAttribiv(i, GL_VERTEX_ATTRIB_ARRAY_BUFFER_BINDING, &buffer);
    if (buffer == 0) {
      a.Throw("vertex attribute " + std::to_string(i) + " is enabled but has no buffer (call vertexAttribPointer with an ARRAY_BUFFER bound)");
    }
  }
}

// ---- drawing -----------------------------------------------------------------

Napi::Value DrawArrays(const Napi::CallbackInfo& info) {
  Args a(info, "drawArrays");
  GLenum mode = a.Uint(0);
  GLint first = a.Int(1);
  GLsizei count = a.Int(2);
  CheckAttributeArrays(a);
  glDrawArrays(mode, first, count);
  return a.Done();
}

Napi::Value DrawElements(const Napi::CallbackInfo& info) {
  Args a(info, "drawElements");
  GLenum mode = a.Uint(0);
  GLsizei count = a.Int(1);
  GLenum type = a.Uint(2);
  GLint offset = a.Int(3);
  if (GetInt(GL_ELEMENT_ARRAY_BUFFER_BINDING) == 0) a.Throw("no ELEMENT_ARRAY_BUFFER is bound");
  if (offset < 0) a.Throw("the offset must not be negative");
  CheckAttributeArrays(a);
  glDrawElements(mode, count, type, reinterpret_cast<const void*>(static_cast<uintptr_t>(offset)));
  return a.Done();
}

// EXT_draw_buffers: glDrawBuffersEXT, looked up once per process like the program
// binary entry points (a dispatch stub in Mesa, valid for every context).
PFNGLDRAWBUFFERSEXTPROC GetDrawBuffersProc() {
  static PFNGLDRAWBUFFERSEXTPROC proc = nullptr;
  static std::once_flag once;
  std::call_once(once, [] { proc = reinterpret_cast<PFNGLDRAWBUFFERSEXTPROC>(eglGetProcAddress("glDrawBuffersEXT")); });
  return proc;
}

// drawBuffers(buffers): which fragment output (gl_FragData[i]) goes to which colour
// attachment of the bound framebuffer (COLOR_ATTACHMENTi_EXT or NONE).
Napi::Value DrawBuffers(const Napi::CallbackInfo& info) {
  Args a(info, "drawBuffers");
  if (a.Length() < 1 || !a.Raw(0).IsArray()) a.ThrowType(0, "an array of COLOR_ATTACHMENTi_EXT / NONE");
  PFNGLDRAWBUFFERSEXTPROC proc = GetDrawBuffersProc();
  if (proc == nullptr || !HasExtension("GL_EXT_draw_buffers")) {
    a.Throw("this GL has no GL_EXT_draw_buffers (multiple render targets; VideoCore IV / vc4 lacks it): "
            "check getSupportedExtensions() and draw one target per pass instead");
  }
  Napi::Array array = a.Raw(0).As<Napi::Array>();
  std::vector<GLenum> buffers(array.Length());
  for (uint32_t i = 0; i < array.Length(); i++) {
    uint32_t value;
    if (napi_get_value_uint32(a.Env(), array.Get(i), &value) != napi_ok) a.ThrowType(0, "an array of COLOR_ATTACHMENTi_EXT / NONE");
    buffers[i] = value;
  }
  proc(static_cast<GLsizei>(buffers.size()), buffers.data());
  return a.Done();
}

Napi::Value Viewport(const Napi::CallbackInfo& info) {
  Args a(info, "viewport");
  glViewport(a.Int(0), a.Int(1), a.Int(2), a.Int(3));
  return a.Done();
}

Napi::Value Scissor(const Napi::CallbackInfo& info) {
  Args a(info, "scissor");
  glScissor(a.Int(0), a.Int(1), a.Int(2), a.Int(3));
  return a.Done();
}

Napi::Value Enable(const Napi::CallbackInfo& info) {
  Args a(info, "enable");
  glEnable(a.Uint(0));
  return a.Done();
}

Napi::Value Disable(const Napi::CallbackInfo& info) {
  Args a(info, "disable");
  glDisable(a.Uint(0));
  return a.Done();
}

Napi::Value BlendFunc(const Napi::CallbackInfo& info) {
  Args a(info, "blendFunc");
  glBlendFunc(a.Uint(0), a.Uint(1));
  return a.Done();
}

Napi::Value BlendFuncSeparate(const Napi::CallbackInfo& info) {
  Args a(info, "blendFuncSeparate");
  glBlendFuncSeparate(a.Uint(0), a.Uint(1), a.Uint(2), a.Uint(3));
  return a.Done();
}

Napi::Value BlendEquation(const Napi::CallbackInfo& info) {
  Args a(info, "blendEquation");
  glBlendEquation(a.Uint(0));
  return a.Done();
}

Napi::Value BlendEquationSeparate(const Napi::CallbackInfo& info) {
  Args a(info, "blendEquationSeparate");
  glBlendEquationSeparate(a.Uint(0), a.Uint(1));
  return a.Done();
}

Napi::Value BlendColor(const Napi::CallbackInfo& info) {
  Args a(info, "blendColor");
  glBlendColor(a.Float(0), a.Float(1), a.Float(2), a.Float(3));
  return a.Done();
}

Napi::Value ColorMask(const Napi::CallbackInfo& info) {
  Args a(info, "colorMask");
  glColorMask(a.Bool(0), a.Bool(1), a.Bool(2), a.Bool(3));
  return a.Done();
}

Napi::Value DepthFunc(const Napi::CallbackInfo& info) {
  Args a(info, "depthFunc");
  glDepthFunc(a.Uint(0));
  return a.Done();
}

Napi::Value DepthMask(const Napi::CallbackInfo& info) {
  Args a(info, "depthMask");
  glDepthMask(a.Bool(0));
  return a.Done();
}

Napi::Value ClearDepth(const Napi::CallbackInfo& info) {
  Args a(info, "clearDepth");
  glClearDepthf(a.Float(0));
  return a.Done();
}

Napi::Value CullFace(const Napi::CallbackInfo& info) {
  Args a(info, "cullFace");
  glCullFace(a.Uint(0));
  return a.Done();
}

Napi::Value FrontFace(const Napi::CallbackInfo& info) {
  Args a(info, "frontFace");
  glFrontFace(a.Uint(0));
  return a.Done();
}

Napi::Value StencilFunc(const Napi::CallbackInfo& info) {
  Args a(info, "stencilFunc");
  glStencilFunc(a.Uint(0), a.Int(1), a.Uint(2));
  return a.Done();
}

Napi::Value StencilFuncSeparate(const Napi::CallbackInfo& info) {
  Args a(info, "stencilFuncSeparate");
  glStencilFuncSeparate(a.Uint(0), a.Uint(1), a.Int(2), a.Uint(3));
  return a.Done();
}

Napi::Value StencilOp(const Napi::CallbackInfo& info) {
  Args a(info, "stencilOp");
  glStencilOp(a.Uint(0), a.Uint(1), a.Uint(2));
  return a.Done();
}

Napi::Value StencilOpSeparate(const Napi::CallbackInfo& info) {
  Args a(info, "stencilOpSeparate");
  glStencilOpSeparate(a.Uint(0), a.Uint(1), a.Uint(2), a.Uint(3));
  return a.Done();
}

Napi::Value StencilMask(const Napi::CallbackInfo& info) {
  Args a(info, "stencilMask");
  glStencilMask(a.Uint(0));
  return a.Done();
}

Napi::Value StencilMaskSeparate(const Napi::CallbackInfo& info) {
  Args a(info, "stencilMaskSeparate");
  glStencilMaskSeparate(a.Uint(0), a.Uint(1));
  return a.Done();
}

Napi::Value ClearStencil(const Napi::CallbackInfo& info) {
  Args a(info, "clearStencil");
  glClearStencil(a.Int(0));
  return a.Done();
}

Napi::Value ClearColor(const Napi::CallbackInfo& info) {
  Args a(info, "clearColor");
  glClearColor(a.Float(0), a.Float(1), a.Float(2), a.Float(3));
  return a.Done();
}

Napi::Value Clear(const Napi::CallbackInfo& info) {
  Args a(info, "clear");
  glClear(a.Uint(0));
  return a.Done();
}

// readPixels(x, y, width, height, format, type, out?): fills `out` (checked to be
// large enough) or a new Buffer, and returns it.
Napi::Value ReadPixels(const Napi::CallbackInfo& info) {
  Args a(info, "readPixels");
  GLint x = a.Int(0);
  GLint y = a.Int(1);
  GLsizei width = a.Int(2);
  GLsizei height = a.Int(3);
  GLenum format = a.Uint(4);
  GLenum type = a.Uint(5);
  size_t bytesPerPixel = BytesPerPixel(format, type);
  if (bytesPerPixel == 0) a.Throw("unsupported format/type pair (use RGBA and UNSIGNED_BYTE)");
  if (width < 0 || height < 0) a.Throw("width and height must not be negative");
  size_t needed = ImageSize(width, height, bytesPerPixel, GetInt(GL_PACK_ALIGNMENT));
  Napi::Value result;
  void* target;
  if (a.Length() > 6 && !a.IsNullish(6)) {
    Args::Bytes out = a.View(6);
    if (out.length < needed) {
      a.Throw("the output array is " + std::to_string(out.length) + " bytes, " + std::to_string(width) + "x" +
              std::to_string(height) + " pixels need " + std::to_string(needed));
    }
    target = out.data;
    result = a.Raw(6);
  } else {
    Napi::Buffer<uint8_t> buffer = Napi::Buffer<uint8_t>::New(a.Env(), needed);
    target = buffer.Data();
    result = buffer;
  }
  if (needed > 0) glReadPixels(x, y, width, height, format, type, target);
  return a.Done(result);
}

Napi::Value SetErrorClasses(const Napi::CallbackInfo& info) {
  auto* data = static_cast<GLBindingData*>(info.Data());
  if (info.Length() < 2 || !info[0].IsFunction() || !info[1].IsFunction()) {
    throw Napi::TypeError::New(info.Env(), "setErrorClasses(GLError, GLShaderError): two classes expected");
  }
  data->glErrorClass = Napi::Persistent(info[0].As<Napi::Function>());
  data->shaderErrorClass = Napi::Persistent(info[1].As<Napi::Function>());
  return info.Env().Undefined();
}

struct Entry {
  const char* name;
  Napi::Value (*function)(const Napi::CallbackInfo&);
};

const Entry kFunctions[] = {
    {"setErrorClasses", SetErrorClasses},
    {"getError", GetError},
    {"getParameter", GetParameter},
    {"getShaderPrecisionFormat", GetShaderPrecisionFormat},
    {"getSupportedExtensions", GetSupportedExtensions},
    {"isEnabled", IsEnabled},
    {"finish", Finish},
    {"flush", Flush},
    {"createShader", CreateShader},
    {"shaderSource", ShaderSource},
    {"compileShader", CompileShader},
    {"getShaderInfoLog", GetShaderInfoLog},
    {"getShaderParameter", GetShaderParameter},
    {"deleteShader", DeleteShader},
    {"createProgram", CreateProgram},
    {"attachShader", AttachShader},
    {"bindAttribLocation", BindAttribLocation},
    {"linkProgram", LinkProgram},
    {"getProgramInfoLog", GetProgramInfoLog},
    {"getProgramParameter", GetProgramParameter},
    {"useProgram", UseProgram},
    {"deleteProgram", DeleteProgram},
    {"getAttribLocation", GetAttribLocation},
    {"getUniformLocation", GetUniformLocation},
    {"getProgramBinaryFormats", GetProgramBinaryFormats},
    {"getProgramBinary", GetProgramBinary},
    {"programBinary", ProgramBinary},
    {"uniform1i", Uniform1i},
    {"uniform2i", Uniform2i},
    {"uniform1f", Uniform1f},
    {"uniform2f", Uniform2f},
    {"uniform3f", Uniform3f},
    {"uniform4f", Uniform4f},
    {"uniform1fv", Uniform1fv},
    {"uniform2fv", Uniform2fv},
    {"uniform3fv", Uniform3fv},
    {"uniform4fv", Uniform4fv},
    {"uniformMatrix2fv", UniformMatrix2fv},
    {"uniformMatrix3fv", UniformMatrix3fv},
    {"uniformMatrix4fv", UniformMatrix4fv},
    {"createTexture", CreateTexture},
    {"bindTexture", BindTexture},
    {"activeTexture", ActiveTexture},
    {"texParameteri", TexParameteri},
    {"pixelStorei", PixelStorei},
    {"texImage2D", TexImage2D},
    {"texSubImage2D", TexSubImage2D},
    {"copyTexSubImage2D", CopyTexSubImage2D},
    {"generateMipmap", GenerateMipmap},
    {"deleteTexture", DeleteTexture},
    {"createFramebuffer", CreateFramebuffer},
    {"bindFramebuffer", BindFramebuffer},
    {"framebufferTexture2D", FramebufferTexture2D},
    {"framebufferRenderbuffer", FramebufferRenderbuffer},
    {"checkFramebufferStatus", CheckFramebufferStatus},
    {"deleteFramebuffer", DeleteFramebuffer},
    {"createRenderbuffer", CreateRenderbuffer},
    {"bindRenderbuffer", BindRenderbuffer},
    {"renderbufferStorage", RenderbufferStorage},
    {"deleteRenderbuffer", DeleteRenderbuffer},
    {"createBuffer", CreateBuffer},
    {"bindBuffer", BindBuffer},
    {"bufferData", BufferData},
    {"bufferSubData", BufferSubData},
    {"deleteBuffer", DeleteBuffer},
    {"enableVertexAttribArray", EnableVertexAttribArray},
    {"disableVertexAttribArray", DisableVertexAttribArray},
    {"vertexAttribPointer", VertexAttribPointer},
    {"vertexAttrib4f", VertexAttrib4f},
    {"drawArrays", DrawArrays},
    {"drawElements", DrawElements},
    {"drawBuffers", DrawBuffers},
    {"viewport", Viewport},
    {"scissor", Scissor},
    {"enable", Enable},
    {"disable", Disable},
    {"blendFunc", BlendFunc},
    {"blendFuncSeparate", BlendFuncSeparate},
    {"blendEquation", BlendEquation},
    {"blendEquationSeparate", BlendEquationSeparate},
    {"blendColor", BlendColor},
    {"colorMask", ColorMask},
    {"depthFunc", DepthFunc},
    {"depthMask", DepthMask},
    {"clearDepth", ClearDepth},
    {"cullFace", CullFace},
    {"frontFace", FrontFace},
    {"stencilFunc", StencilFunc},
    {"stencilFuncSeparate", StencilFuncSeparate},
    {"stencilOp", StencilOp},
    {"stencilOpSeparate", StencilOpSeparate},
    {"stencilMask", StencilMask},
    {"stencilMaskSeparate", StencilMaskSeparate},
    {"clearStencil", ClearStencil},
    {"clearColor", ClearColor},
    {"clear", Clear},
    {"readPixels", ReadPixels},
};

}  // namespace

void InitGL(Napi::Env env, Napi::Object exports) {
  auto* data = new GLBindingData();
  env.AddCleanupHook([data]() { delete data; });
  Napi::Object gl = Napi::Object::New(env);
  for (const Entry& entry : kFunctions) {
    gl.Set(entry.name, Napi::Function::New(env, entry.function, entry.name, data));
  }
  exports.Set("gl", gl);
  exports.Set("gpuMemory", Napi::Function::New(env, GpuMemoryUsage, "gpuMemory"));
}

}  // namespace drm_gbm_egl
