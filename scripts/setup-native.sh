#!/usr/bin/env bash
# Installs oneDNN (Debian's libdnnl-dev) when missing and builds netc's native addon
# (native/ -> native/build/Release/netc_onednn.node). Always exits 0: without the addon netc
# says so once and runs on the plain tfjs CPU backend.
set -u
cd "$(dirname "$0")/.."

note() { echo "setup-native: $*"; }
give_up() {
  note "$1"
  note "netc will fall back to the plain tfjs CPU backend (pure JavaScript, much slower)."
  exit 0
}
as_root_install() { # packages...
  if [ "$(id -u)" -ne 0 ]; then give_up "missing $*; install as root: apt-get install -y $*"; fi
  command -v apt-get >/dev/null || give_up "missing $* and no apt-get to install it"
  note "installing $*"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@") >/dev/null ||
    give_up "apt-get install $* failed"
}

if ! dpkg -s libdnnl-dev >/dev/null 2>&1 && [ ! -f /usr/include/oneapi/dnnl/dnnl.hpp ]; then
  as_root_install libdnnl-dev
fi
missing=()
for tool in g++ make python3; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  packages=()
  for tool in "${missing[@]}"; do [ "$tool" = python3 ] && packages+=(python3) || packages+=(build-essential); done
  as_root_install $(printf '%s\n' "${packages[@]}" | sort -u)
fi

# Debian's nodejs ships its headers in /usr/include/node: use them rather than downloading.
gyp_args=()
if [ -f /usr/include/node/node_api.h ] && [ "$(command -v node)" = /usr/bin/node ]; then gyp_args+=(--nodedir=/usr); fi

log=$(mktemp "${TMPDIR:-/tmp}/netc-native-build.XXXXXX")
note "building the oneDNN addon (log: $log)"
if ! npm run --silent build:native -- "${gyp_args[@]}" >"$log" 2>&1; then
  tail -n 20 "$log" | sed 's/^/  /'
  give_up "building native/ failed (full log: $log)"
fi
if ! loaded=$(node -e "const i = require('./native/build/Release/netc_onednn.node').info(); console.log('oneDNN ' + i.version + ', ' + i.threads + ' threads')" 2>&1); then
  give_up "the addon was built but does not load: $loaded"
fi
rm -f "$log"
note "ok: native/build/Release/netc_onednn.node ($loaded)"
