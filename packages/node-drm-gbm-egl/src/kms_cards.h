// DRM/KMS probing shared by listCards() and the KMS display: which primary nodes
// exist, what a connector is called, and how a mode is named.
#pragma once
#include "addon.h"
#include <xf86drmMode.h>

#include <string>
#include <vector>

namespace drm_gbm_egl {

// Every /dev/dri/card* primary node, in numeric order (card0, card1, ..., card10).
std::vector<std::string> ListPrimaryNodes();

// "HDMI-A-1", "Virtual-1", ...: the connector type name and its per-type index,
// the names the kernel and every compositor use.
std::string ConnectorName(const drmModeConnector& connector);

// Vertical refresh in Hz, rounded to 2 decimals (59.94, 60, 50).
double ModeRefreshHz(const drmModeModeInfo& mode);

// "1920x1080@60", "1920x1080@59.94", "1920x1080i@50" (interlaced).
std::string ModeName(const drmModeModeInfo& mode);

// { width, height, refreshHz, preferred, interlaced, name }: a mode as listCards() reports it.
Napi::Object DescribeMode(Napi::Env env, const drmModeModeInfo& mode);

// The CRTC a connector is shown on right now (through its current encoder), 0 when none.
uint32_t CurrentCrtcOf(int fd, const drmModeConnector& connector);

}  // namespace drm_gbm_egl

namespace drm_gbm_egl {
// Registers kmsListCards on the addon's exports (called by InitKms).
void InitKmsCards(Napi::Env env, Napi::Object exports);
}  // namespace drm_gbm_egl
