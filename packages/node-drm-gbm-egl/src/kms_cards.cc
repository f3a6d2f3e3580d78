// listCards(): describes every DRM primary node. A card that cannot be opened or
// read gets an `error` string instead of failing the whole list.
#include "addon.h"
#include "kms_cards.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <xf86drm.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace drm_gbm_egl {

std::vector<std::string> ListPrimaryNodes() {
  std::vector<std::pair<long, std::string>> nodes;
  DIR* dir = opendir("/dev/dri");
  if (dir == nullptr) return {};
  while (dirent* entry = readdir(dir)) {
    const char* name = entry->d_name;
    if (std::strncmp(name, "card", 4) != 0) continue;
    char* end = nullptr;
    long number = std::strtol(name + 4, &end, 10);
    if (end == name + 4 || *end != '\0') continue;
    nodes.emplace_back(number, std::string("/dev/dri/") + name);
  }
  closedir(dir);
  std::sort(nodes.begin(), nodes.end());
  std::vector<std::string> paths;
  for (auto& node : nodes) paths.push_back(node.second);
  return paths;
}

std::string ConnectorName(const drmModeConnector& connector) {
  const char* typeName = drmModeGetConnectorTypeName(connector.connector_type);
  return std::string(typeName != nullptr ? typeName : "Unknown") + "-" +
         std::to_string(connector.connector_type_id);
}

double ModeRefreshHz(const drmModeModeInfo& mode) {
  if (mode.htotal == 0 || mode.vtotal == 0) return mode.vrefresh;
  double hz = mode.clock * 1000.0 / (double(mode.htotal) * double(mode.vtotal));
  if (mode.flags & DRM_MODE_FLAG_INTERLACE) hz *= 2;
  if (mode.flags & DRM_MODE_FLAG_DBLSCAN) hz /= 2;
  if (mode.vscan > 1) hz /= mode.vscan;
  return std::round(hz * 100) / 100;
}

std::string ModeName(const drmModeModeInfo& mode) {
  char hz[32];
  std::snprintf(hz, sizeof hz, "%.2f", ModeRefreshHz(mode));
  std::string refresh(hz);
  // 60.00 -> 60, 59.90 -> 59.9
  while (refresh.back() == '0') refresh.pop_back();
  if (refresh.back() == '.') refresh.pop_back();
  return std::to_string(mode.hdisplay) + "x" + std::to_string(mode.vdisplay) +
         ((mode.flags & DRM_MODE_FLAG_INTERLACE) ? "i" : "") + "@" + refresh;
}

uint32_t CurrentCrtcOf(int fd, const drmModeConnector& connector) {
  if (connector.encoder_id == 0) return 0;
  drmModeEncoder* encoder = drmModeGetEncoder(fd, connector.encoder_id);
  if (encoder == nullptr) return 0;
  uint32_t crtcId = encoder->crtc_id;
  drmModeFreeEncoder(encoder);
  return crtcId;
}

Napi::Object DescribeMode(Napi::Env env, const drmModeModeInfo& mode) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("width", mode.hdisplay);
  result.Set("height", mode.vdisplay);
  result.Set("refreshHz", ModeRefreshHz(mode));
  result.Set("preferred", (mode.type & DRM_MODE_TYPE_PREFERRED) != 0);
  result.Set("interlaced", (mode.flags & DRM_MODE_FLAG_INTERLACE) != 0);
  result.Set("name", ModeName(mode));
  return result;
}

// What the connector shows now: its CRTC, the framebuffer scanned out, the mode.
static Napi::Value DescribeCurrentCrtc(Napi::Env env, int fd, const drmModeConnector& connector) {
  uint32_t crtcId = CurrentCrtcOf(fd, connector);
  if (crtcId == 0) return env.Null();
  drmModeCrtc* crtc = drmModeGetCrtc(fd, crtcId);
  if (crtc == nullptr) return env.Null();
  Napi::Object result = Napi::Object::New(env);
  result.Set("id", crtc->crtc_id);
  result.Set("fbId", crtc->buffer_id);
  result.Set("mode", crtc->mode_valid ? Napi::Value(Napi::String::New(env, ModeName(crtc->mode))) : env.Null());
  drmModeFreeCrtc(crtc);
  return result;
}

static Napi::Object DescribeConnector(Napi::Env env, int fd, const drmModeConnector& connector) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("id", connector.connector_id);
  result.Set("name", ConnectorName(connector));
  result.Set("connected", connector.connection == DRM_MODE_CONNECTED);
  Napi::Array modes = Napi::Array::New(env, connector.count_modes);
  for (int i = 0; i < connector.count_modes; i++) modes.Set(i, DescribeMode(env, connector.modes[i]));
  result.Set("modes", modes);
  result.Set("crtc", DescribeCurrentCrtc(env, fd, connector));
  return result;
}

static Napi::Object DescribeCard(Napi::Env env, const std::string& path) {
  Napi::Object card = Napi::Object::New(env);
  card.Set("path", path);
  card.Set("driver", "");
  card.Set("canModeset", false);
  Napi::Array connectors = Napi::Array::New(env);
  card.Set("connectors", connectors);

  int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    int openError = errno;
    card.Set("error", std::string("cannot open: ") + std::strerror(openError));
    card.Set("errno", Napi::Number::New(env, openError));
    return card;
  }
  if (drmVersion* version = drmGetVersion(fd)) {
    card.Set("driver", std::string(version->name, version->name_len));
    drmFreeVersion(version);
  } else {
    card.Set("error", std::string("not a DRM device: ") + std::strerror(errno));
    close(fd);
    return card;
  }
  drmModeRes* resources = drmModeGetResources(fd);
  if (resources == nullptr) {
    // Render-only devices (v3d on a Pi 4/5) have no KMS resources: not an error.
    close(fd);
    return card;
  }
  card.Set("canModeset", resources->count_crtcs > 0 && resources->count_connectors > 0);
  for (int i = 0; i < resources->count_connectors; i++) {
    drmModeConnector* connector = drmModeGetConnector(fd, resources->connectors[i]);
    if (connector == nullptr) continue;
    connectors.Set(connectors.Length(), DescribeConnector(env, fd, *connector));
    drmModeFreeConnector(connector);
  }
  drmModeFreeResources(resources);
  close(fd);
  return card;
}

static Napi::Value ListCards(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<std::string> paths = ListPrimaryNodes();
  Napi::Array cards = Napi::Array::New(env, paths.size());
  for (size_t i = 0; i < paths.size(); i++) cards.Set(i, DescribeCard(env, paths[i]));
  return cards;
}

void InitKmsCards(Napi::Env env, Napi::Object exports) {
  exports.Set("kmsListCards", Napi::Function::New(env, ListCards, "kmsListCards"));
}

}  // namespace drm_gbm_egl
