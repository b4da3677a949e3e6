# Shared by the recipes: the plugin from the build folder, a work folder, a sample video made here (nothing
# can be downloaded: x264enc + mp4mux from Debian's plugins make it), and waiting for a receiver.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export GST_PLUGIN_PATH="$ROOT/build/meson"
export GST_DEBUG_NO_COLOR=1
WORK=${WORK:-$ROOT/build/recipes}
mkdir -p "$WORK"

# sample_video FILE [FRAMES]: 640x360 H.264 in MP4, a bouncing ball, 30 frames/s
sample_video() {
  [ -s "$1" ] && return 0
  gst-launch-1.0 -q videotestsrc num-buffers="${2:-150}" pattern=ball \
    ! video/x-raw,format=I420,width=640,height=360,framerate=30/1 ! x264enc speed-preset=ultrafast \
    ! video/x-h264,profile=constrained-baseline ! mp4mux ! filesink location="$1"
}

# background processes of a recipe are stopped when it ends, whatever happens
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT

# wait_listening LOG: until the receiver logging to LOG listens
wait_listening() {
  for _ in $(seq 200); do grep -q "listening on" "$1" 2>/dev/null && return 0; sleep 0.05; done
  echo "the receiver did not start: $(cat "$1")" >&2
  return 1
}
