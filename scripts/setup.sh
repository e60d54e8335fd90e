#!/usr/bin/env bash
# One command for a fresh machine: system packages (when root and missing), npm packages,
# the TypeScript build and the native oneDNN addon. Safe to run twice.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: headless-gl's build (its gyp files run `python`, so python-is-python3)
# and Xvfb (WebGL backend), oneDNN (fast CPU backend), Graphviz (DOT), ffmpeg (netc synth
# --video decodes with it), PyTorch (the export's train.py, torchrun, and the parity checks),
# Python's onnx/numpy/skimage (independent checks in tests), chromium (the playground page's
# browser tests, through playwright-core), GNU time (the tests bound hostile input's time and
# peak memory with /usr/bin/time; minimal Debian lacks it).
APT_PACKAGES=(
  build-essential pkg-config python3 python-is-python3 libxi-dev libglu1-mesa-dev libglew-dev libx11-dev libxext-dev
  xvfb xauth libgl1-mesa-dri libdnnl-dev graphviz ffmpeg python3-torch python3-onnx python3-numpy python3-skimage python3-pil
  chromium fonts-liberation time
)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
  else
    echo "setup: missing Debian packages (run as root to install): ${missing[*]}" >&2
  fi
fi

# npm packages. onnxruntime-node ships its CPU binaries; its install script only fetches
# optional GPU parts, which this machine cannot reach.
export ONNXRUNTIME_NODE_INSTALL=skip
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  echo "setup: node_modules is up to date"
fi
# headless-gl must have built its native module (it needs the packages above).
if [ ! -f node_modules/gl/build/Release/webgl.node ]; then
  echo "setup: building headless-gl"
  npm rebuild gl
fi

npm run build
if [ -f scripts/setup-native.sh ]; then bash scripts/setup-native.sh; fi
echo "setup: done"
