#!/usr/bin/env bash
# Installs the GStreamer plugin so that gst-launch-1.0, gst-inspect-1.0 and GObject-introspection
# programs find qtisocketsink and qtisocketsrc without GST_PLUGIN_PATH, from any folder, with no need
# of this source tree afterwards. Runs scripts/setup.sh first (idempotent), so one command does it all.
#
#   bash scripts/install.sh [--system | --user | --plugin-dir DIR] [--uninstall]
#
#   --system          GStreamer's own plugin folder (pkg-config gstreamer-1.0 pluginsdir); the default as root
#   --user            ${XDG_DATA_HOME:-~/.local/share}/gstreamer-1.0/plugins; the default otherwise
#   --plugin-dir DIR  any folder (then point GST_PLUGIN_PATH at it)
#   --uninstall       remove what an install to that place put there
#
# What goes where (PLUGINS = the plugin folder):
#   PLUGINS/libgstqtisocketts.so          the host shim: the only file GStreamer scans
#   PLUGINS/../qtisocket-ts/              everything it loads, found relative to the shim:
#       libqtisocket-host.host, libnode.so.N (the distribution's, private), qtisocket_native.node,
#       dist/lib/ (the compiled TypeScript), node_modules/ (node-gtk built for the embedded Node and
#       its runtime dependencies), MANIFEST (what was installed, from which commit)
# An install over an older one replaces it whole (staged beside it, then swapped in).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=$ROOT/build/meson
log() { printf '[install] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

where=$([ "$(id -u)" -eq 0 ] && echo system || echo user)
plugin_dir=
uninstall=false
while (($#)); do
  case $1 in
    --system) where=system ;;
    --user) where=user ;;
    --plugin-dir) where=dir; plugin_dir=${2:?--plugin-dir needs a folder}; shift ;;
    --uninstall) uninstall=true ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
  shift
done

if ! $uninstall; then
  bash scripts/setup.sh
fi
case $where in
  system)
    plugin_dir=$(pkg-config --variable=pluginsdir gstreamer-1.0 2>/dev/null) \
      || die "cannot ask pkg-config for GStreamer's plugin folder (is libgstreamer1.0-dev installed? run scripts/setup.sh)" ;;
  user) plugin_dir=${XDG_DATA_HOME:-$HOME/.local/share}/gstreamer-1.0/plugins ;;
esac
mkdir -p "$plugin_dir"
plugin_dir=$(cd "$plugin_dir" && pwd -P)
support=$(dirname "$plugin_dir")/qtisocket-ts
plugin=$plugin_dir/libgstqtisocketts.so

remove_support() { # <folder>: only a folder an install of ours made
  local d=$1
  [ -e "$d" ] || return 0
  [ -f "$d/MANIFEST" ] || die "$d exists but is not an install of qtisocket-ts (no MANIFEST): not touching it"
  rm -rf "$d"
}

if $uninstall; then
  [ -e "$plugin" ] || [ -e "$support" ] || { log "nothing installed in $plugin_dir"; exit 0; }
  remove_support "$support"
  rm -f "$plugin"
  log "removed $plugin and $support"
  exit 0
fi

# --- stage the support folder beside its final place, then swap it in -------------------------------
# which libnode and Node ABI the build embeds: what scripts/setup.sh found (build/libnode/info)
. "$ROOT/build/libnode/info" 2>/dev/null || die "build/libnode/info is missing: scripts/setup.sh did not finish"
libnode_so=$(basename "$LIBNODE_LIB")
for f in libgstqtisocketts.so libqtisocket-host.host qtisocket_native.node "$libnode_so"; do
  [ -e "$BUILD/$f" ] || die "$BUILD/$f is missing: scripts/setup.sh did not build it"
done
stage=$support.new.$$
old=$support.old.$$
trap 'rm -rf "$stage" "$old"' EXIT
rm -rf "$stage"
mkdir -p "$stage/dist"
cp "$BUILD/libqtisocket-host.host" "$BUILD/qtisocket_native.node" "$stage/"
cp -L "$BUILD/$libnode_so" "$stage/$libnode_so"
# installed binaries carry no debug information (nor, with it, the build folder's paths)
strip --strip-debug "$stage/libqtisocket-host.host" "$stage/qtisocket_native.node"
cp -r dist/lib "$stage/dist/lib"
node -e 'const p = require("./package.json"); console.log(JSON.stringify({ name: p.name, version: p.version,
  private: true, main: "dist/lib/index.js", dependencies: p.dependencies }, null, 2))' > "$stage/package.json"
# node-gtk and what it requires at run time (npm's production tree), without its sources and build folder
npm ls --omit=dev --all --parseable 2>/dev/null | tail -n +2 | while read -r dir; do
  rel=${dir#"$ROOT"/}
  mkdir -p "$stage/$(dirname "$rel")"
  cp -r "$dir" "$stage/$rel"
done
[ -d "$stage/node_modules/node-gtk/lib" ] || die "node-gtk is not in npm's production tree: run scripts/setup.sh"
rm -rf "$stage/node_modules/node-gtk/build" "$stage/node_modules/node-gtk/src"
# the binding for the embedded Node is required; the system Node's rides along if built
binding=node_modules/node-gtk/lib/binding/node-v$LIBNODE_ABI-$(node -p 'process.platform + "-" + process.arch')/node_gtk.node
[ -e "$stage/$binding" ] || die "node-gtk for the embedded Node (ABI $LIBNODE_ABI) is not built ($binding): run scripts/setup.sh"
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
{
  echo "# qtisocket-ts $(node -p 'require("./package.json").version') ($commit), installed $(date -u +%FT%TZ)"
  echo "$plugin"
  (cd "$stage" && find . -type f | sed "s|^\.|$support|" | sort)
} > "$stage/MANIFEST"

if [ -e "$support" ]; then
  [ -f "$support/MANIFEST" ] || die "$support exists but is not an install of qtisocket-ts (no MANIFEST): not touching it"
  mv "$support" "$old"
fi
mv "$stage" "$support"
cp "$BUILD/libgstqtisocketts.so" "$plugin.new.$$"
strip --strip-debug "$plugin.new.$$"
mv -f "$plugin.new.$$" "$plugin"
rm -rf "$old"
trap - EXIT
log "installed $plugin and $support ($(du -sh "$support" | cut -f1))"
log "check: gst-inspect-1.0 qtisocketsink   remove: bash scripts/install.sh --uninstall$([ "$where" = dir ] && echo " --plugin-dir $plugin_dir" || echo " --$where")"
