// sd_notify without libsystemd: one datagram to the socket named by $NOTIFY_SOCKET.
// A name starting with '@' is in the abstract namespace (leading NUL byte).
#include "addon.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace drm_gbm_egl {

static Napi::Value SdNotify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    throw Napi::TypeError::New(env, "sdNotify(state): state must be a string");
  }
  std::string state = info[0].As<Napi::String>().Utf8Value();
  const char* socketName = std::getenv("NOTIFY_SOCKET");
  if (socketName == nullptr || socketName[0] == '\0') return Napi::Boolean::New(env, false);

  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  size_t nameLength = std::strlen(socketName);
  if (nameLength >= sizeof(address.sun_path)) {
    throw Napi::Error::New(env, std::string("sdNotify: NOTIFY_SOCKET is too long: ") + socketName);
  }
  if (socketName[0] != '/' && socketName[0] != '@') {
    throw Napi::Error::New(env, std::string("sdNotify: NOTIFY_SOCKET must be a path or an @abstract name, got ") + socketName);
  }
  std::memcpy(address.sun_path, socketName, nameLength);
  if (socketName[0] == '@') address.sun_path[0] = '\0';
  socklen_t addressLength = offsetof(sockaddr_un, sun_path) + nameLength + (socketName[0] == '@' ? 0 : 1);

  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw Napi::Error::New(env, std::string("sdNotify: socket() failed: ") + std::strerror(errno));
  ssize_t sent = sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                        reinterpret_cast<sockaddr*>(&address), addressLength);
  int sendError = errno;
  close(fd);
  if (sent < 0) {
    throw Napi::Error::New(env, std::string("sdNotify: sending to ") + socketName + " failed: " + std::strerror(sendError));
  }
  return Napi::Boolean::New(env, true);
}

void InitNotify(Napi::Env env, Napi::Object exports) {
  exports.Set("sdNotify", Napi::Function::New(env, SdNotify, "sdNotify"));
}

}  // namespace drm_gbm_egl
