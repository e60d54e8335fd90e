{
  "targets": [
    {
      "target_name": "netc_onednn",
      "sources": ["src/addon.cc", "src/conv.cc", "src/eltwise.cc", "src/small-conv.cc", "src/winograd.cc", "src/huge-pages.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-O3", "-fopenmp", "-fno-math-errno", "-fno-trapping-math"],
      "libraries": ["-ldnnl", "-fopenmp"]
    }
  ]
}
