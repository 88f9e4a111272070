{
  "targets": [
    {
      "target_name": "squid_onednn",
      "sources": ["native/onednn_addon.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O2", "-fexceptions", "-fopenmp", "-ffp-contract=off"],
      "libraries": ["-ldnnl", "-fopenmp"],
      "conditions": [
        ["OS=='linux'", { "ldflags": ["-Wl,--as-needed"] }]
      ]
    }
  ]
}
