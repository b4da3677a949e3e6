#!/usr/bin/env bash
# One idempotent set-up for a fresh Debian 12 machine (run as root), shared by the demo, the tests and CI.
# A second run with everything in place only checks stamps and takes seconds.
#
#  1. Debian packages (GStreamer 1.22 + GI typelibs + build tools)
#  2. Debian's libnode108 (Node 18, shared) unpacked into build/libnode (it cannot be apt-get installed
#     next to nodesource's Node), plus the five JS files it loads from the hard-coded /usr/share/nodejs
#  3. npm ci (scripts off), node-gtk patched (patches/) and built twice: for this Node (ABI 115) and for
#     the embedded Node 18 (ABI 108)
#  4. meson build of the host shim plugin and the N-API helper into build/
#  5. the TypeScript build into dist/
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=$ROOT/build
LIBNODE=$BUILD/libnode
log() { printf '[setup] %s\n' "$*" >&2; }

# --- 1. Debian packages --------------------------------------------------------------------------------
APT_PACKAGES=(
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-x gstreamer1.0-plugins-base-apps libgstreamer1.0-dev
  libgstreamer-plugins-base1.0-dev gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0 gir1.2-glib-2.0
  libgirepository1.0-dev libcairo2-dev meson ninja-build pkg-config g++ make python3 python3-gi time git
  ca-certificates libc-ares2 libuv1-dev libbrotli1 libnghttp2-14 libicu72 libssl3
)
# no Node.js on the machine: Debian's own (Node 18), with npm
command -v node >/dev/null 2>&1 || APT_PACKAGES+=(nodejs npm)
mkdir -p "$BUILD"
apt_updated=false
apt_update() {
  $apt_updated && return 0
  if ! apt-get update -qq >"$BUILD/apt-update.log" 2>&1; then
    tail -5 "$BUILD/apt-update.log" >&2
    log "apt-get update failed (see $BUILD/apt-update.log)"
    exit 1
  fi
  apt_updated=true
}
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt_update
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$BUILD/apt.log" 2>&1; then
    # say which package failed and why: one at a time (what installs stays installed for the next run)
    failed=()
    for p in "${missing[@]}"; do
      if ! apt-get install -y -qq --no-install-recommends "$p" >"$BUILD/apt-$p.log" 2>&1; then
        failed+=("$p")
        log "cannot install the Debian package '$p':"
        grep -E '^(E:|W:| )' "$BUILD/apt-$p.log" | tail -6 >&2 || tail -6 "$BUILD/apt-$p.log" >&2
      fi
    done
    log "setup stopped: ${#failed[@]} Debian package(s) could not be installed: ${failed[*]:-(none alone: see $BUILD/apt.log)}"
    log "fix that (apt sources, network, disk) and run this again: it resumes where it stopped"
    exit 1
  fi
fi
# every element the demo, the recipes and the tests name must exist now (scripts/elements.txt)
present=$(GST_PLUGIN_PATH= gst-inspect-1.0 2>/dev/null | sed -nE 's/^[^ :]+: +([^ :]+): .*/\1/p' | sort -u)
absent=0
while read -r element package; do
  [[ -z $element || $element == \#* ]] && continue
  if ! grep -qx "$element" <<<"$present"; then
    log "GStreamer element '$element' is missing: it comes with the Debian package '$package'"
    absent=$((absent + 1))
  fi
done < scripts/elements.txt
((absent == 0)) || { log "setup stopped: $absent GStreamer element(s) missing (apt-get install the packages named above)"; exit 1; }

# --- 2. libnode108 in a private prefix ----------------------------------------------------------------
NODE_DEBS=(libnode108 libnode-dev node-acorn node-cjs-module-lexer node-undici)
if [ ! -e "$LIBNODE/usr/lib/x86_64-linux-gnu/libnode.so.108" ] || [ ! -e "$LIBNODE/usr/include/node/node.h" ]; then
  log "unpacking ${NODE_DEBS[*]} into $LIBNODE"
  mkdir -p "$BUILD/debs" "$LIBNODE"
  # apt-get download drops privileges to _apt: give it a folder it may write
  chmod 777 "$BUILD/debs"
  (cd "$BUILD/debs" && apt-get download "${NODE_DEBS[@]}" >/dev/null 2>&1 || { apt-get update -qq && apt-get download "${NODE_DEBS[@]}" >/dev/null; })
  for deb in "$BUILD"/debs/*.deb; do dpkg-deb -x "$deb" "$LIBNODE"; done
  ln -sf libnode.so.108 "$LIBNODE/usr/lib/x86_64-linux-gnu/libnode.so"
fi
# Debian's libnode reads these from a compiled-in path when it makes its first context (no override in 18)
for d in acorn acorn-walk cjs-module-lexer undici; do
  if [ ! -e "/usr/share/nodejs/$d/package.json" ]; then
    log "installing /usr/share/nodejs/$d (from Debian's node-* packages)"
    mkdir -p /usr/share/nodejs
    cp -a "$LIBNODE/usr/share/nodejs/$d" /usr/share/nodejs/
  fi
done

# --- 3. npm packages and node-gtk for both ABIs -------------------------------------------------------
lock_sum=$( (cat package-lock.json; node -v) | sha1sum | cut -c1-40)
if [ "$(cat node_modules/.qtisocket-lock 2>/dev/null)" != "$lock_sum" ]; then
  log "npm ci"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > node_modules/.qtisocket-lock
fi
patch_sum=$(cat patches/*.patch | sha1sum | cut -c1-40)
if [ "$(cat node_modules/.qtisocket-patches 2>/dev/null)" != "$patch_sum" ]; then
  log "applying patches/ with patch-package"
  node_modules/.bin/patch-package --error-on-fail >/dev/null
  rm -rf node_modules/node-gtk/lib/binding node_modules/node-gtk/build
  echo "$patch_sum" > node_modules/.qtisocket-patches
fi
NODE_ABI=$(node -p process.versions.modules)
build_node_gtk() { # <abi> [node-pre-gyp args...]
  local abi=$1; shift
  [ -e "node_modules/node-gtk/lib/binding/node-v$abi-linux-x64/node_gtk.node" ] && return 0
  log "building node-gtk for ABI $abi (about a minute)"
  local buildlog=$BUILD/node-gtk-$abi.log
  mkdir -p "$BUILD"
  if ! (cd node_modules/node-gtk && ../.bin/node-pre-gyp rebuild --loglevel=error "$@") >"$buildlog" 2>&1; then
    tail -40 "$buildlog" >&2
    log "building node-gtk for ABI $abi failed: see $buildlog"
    return 1
  fi
}
# ~/.npmrc may set nodedir=/usr, which would silently override --nodedir: set it explicitly each time.
# The embedded Node's build first: with Debian's Node 18 as the system Node it is the same ABI (108)
npm_config_nodedir=$LIBNODE/usr build_node_gtk 108 --target=18.20.4 --nodedir="$LIBNODE/usr"
npm_config_nodedir=/usr build_node_gtk "$NODE_ABI"

# --- 4. native build ------------------------------------------------------------------------------------
if [ "$(cat "$BUILD/meson/.libnode-prefix" 2>/dev/null)" != "$LIBNODE/usr" ]; then
  rm -rf "$BUILD/meson"
fi
if [ ! -e "$BUILD/meson/build.ninja" ]; then
  log "meson setup"
  meson setup "$BUILD/meson" "$ROOT" -Dlibnode_prefix="$LIBNODE/usr" --buildtype=debugoptimized >"$BUILD/meson-setup.log" 2>&1 \
    || { cat "$BUILD/meson-setup.log" >&2; exit 1; }
  echo "$LIBNODE/usr" > "$BUILD/meson/.libnode-prefix"
fi
if ! ninja -C "$BUILD/meson" >"$BUILD/ninja.log" 2>&1; then
  grep -E 'error|FAILED' "$BUILD/ninja.log" | head -20 >&2
  log "the native build failed: see $BUILD/ninja.log"
  exit 1
fi

# --- 5. TypeScript ----------------------------------------------------------------------------------------
node_modules/.bin/tsc -p "$ROOT" || { log "the TypeScript build failed (above)"; exit 1; }
log "ready: GST_PLUGIN_PATH=$BUILD/meson"
