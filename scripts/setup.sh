#!/usr/bin/env bash
# One idempotent set-up for a fresh Debian 12 or 13 machine, any architecture (run as root), shared by the
# demo, the tests and CI. A second run with everything in place only checks stamps and takes seconds.
#
#  1. Debian packages (GStreamer, GI typelibs, build tools); Debian's Node.js if the machine has none
#  2. the distribution's shared libnode (the libnode<ABI> that libnode-dev depends on: Debian 12
#     libnode108 / Node 18, Debian 13 libnode115 / Node 20) unpacked into build/libnode (it cannot be
#     apt-get installed next to a Node that is not Debian's), plus the JS files it loads from the
#     hard-coded /usr/share/nodejs
#  3. npm ci (scripts off), node-gtk patched (patches/) and built for each Node ABI in use: the embedded
#     libnode's and, if it differs, the system Node's
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
  ca-certificates
)
# no Node.js on the machine: Debian's own (Node 18 on Debian 12, 20 on Debian 13), with npm
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
while read -r element package optional; do
  [[ -z $element || $element == \#* || $optional == optional* ]] && continue
  if ! grep -qx "$element" <<<"$present"; then
    log "GStreamer element '$element' is missing: it comes with the Debian package '$package'"
    absent=$((absent + 1))
  fi
done < scripts/elements.txt
((absent == 0)) || { log "setup stopped: $absent GStreamer element(s) missing (apt-get install the packages named above)"; exit 1; }

# --- 2. the distribution's shared libnode, in a private prefix --------------------------------------
# Which libnode is this system's: the one its libnode-dev depends on (Debian 12: libnode108, Node 18;
# Debian 13: libnode115, Node 20). Its shared-library dependencies are installed with apt; libnode,
# libnode-dev and the node-* JavaScript packages it loads are unpacked into build/libnode (apt cannot
# install them beside a Node.js that is not Debian's, e.g. nodesource's). Everything after this reads
# build/libnode/info (the package, its library file, headers, Node version and ABI), never a fixed one.
libnode_info() { # prints the info file's lines for the prefix $1 (the library and headers found in it)
  local prefix=$1 lib inc ver abi
  lib=$(find "$prefix/usr/lib" -name 'libnode.so.*' -type f 2>/dev/null | head -1)
  inc=$(dirname "$(find "$prefix/usr/include" -path '*/node/node_version.h' 2>/dev/null | head -1)")
  [ -n "$lib" ] && [ -e "$inc/node.h" ] || return 1
  # the header's own answer, through the preprocessor (NODE_MODULE_VERSION sits in an #if)
  local major minor patch
  read -r major minor patch abi < <(printf '#include <node_version.h>\nNODE_MAJOR_VERSION NODE_MINOR_VERSION NODE_PATCH_VERSION NODE_MODULE_VERSION\n' \
    | cc -E -P -I"$inc" -x c - 2>/dev/null | tail -1)
  ver=$major.$minor.$patch
  [[ $ver =~ ^[0-9]+\.[0-9]+\.[0-9]+$ && $abi =~ ^[0-9]+$ ]] || return 1
  printf 'LIBNODE_LIB=%s\nLIBNODE_INCLUDE=%s\nLIBNODE_VERSION=%s\nLIBNODE_ABI=%s\n' \
    "${lib/#$prefix/$LIBNODE}" "${inc/#$prefix/$LIBNODE}" "$ver" "$abi"
}
# node_packages <package>: the node-* packages it depends on, and theirs, each once
node_packages() {
  local todo=("$1") seen=" " p d
  while ((${#todo[@]})); do
    p=${todo[0]}; todo=("${todo[@]:1}")
    for d in $(apt-cache depends --important "$p" 2>/dev/null | sed -nE 's/^ *(Pre)?Depends: (node-[a-z0-9.+-]+)$/\2/p'); do
      [[ $seen == *" $d "* ]] || { seen+="$d "; todo+=("$d"); }
    done
  done
  echo $seen
}
if [ ! -s "$LIBNODE/info" ]; then
  dev_deps=$(apt-cache depends --important libnode-dev 2>/dev/null || true)
  [ -n "$dev_deps" ] || { apt_update; dev_deps=$(apt-cache depends --important libnode-dev 2>/dev/null || true); }
  LIBNODE_PKG=$(sed -nE 's/^ *Depends: (libnode[0-9]+)$/\1/p' <<<"$dev_deps" | head -1)
  if [ -z "$LIBNODE_PKG" ]; then
    . /etc/os-release 2>/dev/null || true
    log "this system's apt offers no shared libnode: looked for the package 'libnode-dev' and the libnode<ABI> it depends on"
    log "found instead: $(apt-cache policy libnode-dev 2>/dev/null | sed -n 's/^ *Candidate: /libnode-dev candidate /p' | head -1)$(apt-cache pkgnames libnode 2>/dev/null | sort | tr '\n' ' ' | sed 's/^/ packages: /')"
    log "on ${PRETTY_NAME:-this system} ($(dpkg --print-architecture 2>/dev/null)); qtisocket-ts needs Debian's libnode-dev with its shared libnode: Debian 12 (libnode108, Node 18) or Debian 13 (libnode115, Node 20)"
    exit 1
  fi
  # the libraries libnode and its headers need, installed as usual; the node-* JavaScript packages unpacked
  lib_deps=$( (apt-cache depends --important "$LIBNODE_PKG"; echo "$dev_deps") \
    | sed -nE 's/^ *(Pre)?Depends: ([a-z0-9][a-z0-9.+-]*)$/\2/p' | { grep -vE "^(node-|libnode|libc6$|libgcc-s1$|libstdc\+\+6$)" || true; } | sort -u)
  missing=()
  for p in $lib_deps; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "apt-get install ${missing[*]} (what $LIBNODE_PKG needs)"
    apt_update
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$BUILD/apt-libnode.log" 2>&1 \
      || { tail -8 "$BUILD/apt-libnode.log" >&2; log "setup stopped: cannot install what $LIBNODE_PKG needs: ${missing[*]}"; exit 1; }
  fi
  NODE_DEBS=("$LIBNODE_PKG" libnode-dev $(node_packages "$LIBNODE_PKG"))
  log "unpacking ${NODE_DEBS[*]} into $LIBNODE"
  rm -rf "$LIBNODE.part" "$BUILD/debs"
  mkdir -p "$BUILD/debs" "$LIBNODE.part"
  # apt-get download drops privileges to _apt: give it a folder it may write
  chmod 777 "$BUILD/debs"
  if ! (cd "$BUILD/debs" && apt-get download "${NODE_DEBS[@]}" >/dev/null 2>&1); then
    apt_update
    (cd "$BUILD/debs" && apt-get download "${NODE_DEBS[@]}" >"$BUILD/apt-download.log" 2>&1) \
      || { tail -5 "$BUILD/apt-download.log" >&2; log "setup stopped: cannot download ${NODE_DEBS[*]}"; rm -rf "$LIBNODE.part"; exit 1; }
  fi
  for deb in "$BUILD"/debs/*.deb; do
    [ -e "$deb" ] || continue
    dpkg-deb -x "$deb" "$LIBNODE.part" || { log "setup stopped: cannot unpack $deb"; rm -rf "$LIBNODE.part"; exit 1; }
  done
  info=$(libnode_info "$LIBNODE.part") \
    || { log "setup stopped: $LIBNODE_PKG and libnode-dev unpacked, but no libnode.so.* with node.h and node_version.h in them"; rm -rf "$LIBNODE.part"; exit 1; }
  rm -rf "$LIBNODE" "$BUILD/debs"
  mv "$LIBNODE.part" "$LIBNODE"
  # written last: a run stopped before this line starts this step again from nothing
  printf 'LIBNODE_PKG=%s\n%s\n' "$LIBNODE_PKG" "$info" >"$LIBNODE/info"
fi
. "$LIBNODE/info"
log "libnode: $LIBNODE_PKG (Node $LIBNODE_VERSION, ABI $LIBNODE_ABI)"
# Debian's libnode reads the externalized builtins (acorn, cjs-module-lexer, undici...) from a
# compiled-in /usr/share/nodejs when it makes its first context: put the ones it lacks there
absent=()
for d in "$LIBNODE"/usr/share/nodejs/*/; do
  d=$(basename "$d")
  [ -e "/usr/share/nodejs/$d" ] || absent+=("$d")
done
if ((${#absent[@]})); then
  log "installing into /usr/share/nodejs (from Debian's node-* packages): ${absent[*]}"
  mkdir -p /usr/share/nodejs
  for d in "${absent[@]}"; do cp -a "$LIBNODE/usr/share/nodejs/$d" /usr/share/nodejs/; done
fi

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
# node-pre-gyp's binding folder: node-v<abi>-<platform>-<arch> of the Node that loads it (the same
# machine's: the embedded Node runs on the architecture of the system's)
BINDING_SUFFIX=$(node -p 'process.platform + "-" + process.arch')
build_node_gtk() { # <abi> [node-pre-gyp args...]
  local abi=$1; shift
  [ -e "node_modules/node-gtk/lib/binding/node-v$abi-$BINDING_SUFFIX/node_gtk.node" ] && return 0
  log "building node-gtk for ABI $abi (about a minute; several under emulation)"
  local buildlog=$BUILD/node-gtk-$abi.log
  mkdir -p "$BUILD"
  if ! (cd node_modules/node-gtk && ../.bin/node-pre-gyp rebuild --loglevel=error "$@") >"$buildlog" 2>&1; then
    tail -40 "$buildlog" >&2
    log "building node-gtk for ABI $abi failed: see $buildlog"
    rm -rf "node_modules/node-gtk/lib/binding/node-v$abi-$BINDING_SUFFIX"
    return 1
  fi
}
# ~/.npmrc may set nodedir=/usr, which would silently override --nodedir: set it explicitly each time.
# The embedded Node's build first, against libnode's own headers: when the system's Node is Debian's,
# it is the same ABI and this one build serves both.
npm_config_nodedir=$LIBNODE/usr build_node_gtk "$LIBNODE_ABI" --target="$LIBNODE_VERSION" --nodedir="$LIBNODE/usr"
if [ "$NODE_ABI" != "$LIBNODE_ABI" ]; then
  # another Node (e.g. nodesource's): its own headers, beside its binary
  node_prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
  [ -e "$node_prefix/include/node/node.h" ] \
    || { log "setup stopped: the system's Node $(node -v) (ABI $NODE_ABI) has no headers in $node_prefix/include/node to build node-gtk against"; exit 1; }
  npm_config_nodedir=$node_prefix build_node_gtk "$NODE_ABI" --nodedir="$node_prefix"
fi

# --- 4. native build ------------------------------------------------------------------------------------
meson_args=(-Dlibnode="$LIBNODE_LIB" -Dlibnode_include="$LIBNODE_INCLUDE")
if [ "$(cat "$BUILD/meson/.libnode-args" 2>/dev/null)" != "${meson_args[*]}" ]; then
  rm -rf "$BUILD/meson"
fi
if [ ! -e "$BUILD/meson/build.ninja" ]; then
  log "meson setup"
  meson setup "$BUILD/meson" "$ROOT" "${meson_args[@]}" --buildtype=debugoptimized >"$BUILD/meson-setup.log" 2>&1 \
    || { cat "$BUILD/meson-setup.log" >&2; rm -rf "$BUILD/meson"; exit 1; }
  echo "${meson_args[*]}" > "$BUILD/meson/.libnode-args"
fi
if ! ninja -C "$BUILD/meson" >"$BUILD/ninja.log" 2>&1; then
  grep -E 'error|FAILED' "$BUILD/ninja.log" | head -20 >&2
  log "the native build failed: see $BUILD/ninja.log"
  exit 1
fi

# --- 5. TypeScript ----------------------------------------------------------------------------------------
node_modules/.bin/tsc -p "$ROOT" || { log "the TypeScript build failed (above)"; exit 1; }
log "ready: GST_PLUGIN_PATH=$BUILD/meson"
