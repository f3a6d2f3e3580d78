{
  "targets": [
    {
      "target_name": "drm_gbm_egl",
      "sources": [
        "src/addon.cc",
        "src/gl.cc",
        "src/headless.cc",
        "src/kms.cc",
        "src/kms_cards.cc",
        "src/notify.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(pkg-config --cflags-only-I libdrm gbm egl glesv2 | sed 's/-I//g')"
      ],
      "libraries": ["<!@(pkg-config --libs libdrm gbm egl glesv2)"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_cc!": ["-fno-exceptions"]
    }
  ]
}
