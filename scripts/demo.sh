#!/usr/bin/env bash
# The two-process demo: one gst-launch-1.0 draws 1280x720 frames into shared memory and sends them with
# qtisocketsink; another receives them with qtisocketsrc (zero-copy) and encodes them into an MP4 file.
set -euo pipefail
cd "$(dirname "$0")/.."
# on any failure: say what failed, show the end of the log that says why, exit non-zero
fail() { # <what> [log]
  echo "== demo FAILED: $1" >&2
  if [ -n "${2:-}" ] && [ -s "$2" ]; then
    echo "== last lines of $2:" >&2
    tail -n 25 "$2" >&2
  fi
  exit 1
}
# DEMO_INSTALLED=1: the same two pipelines from the installed plugin (scripts/install.sh), no setup
if [ -z "${DEMO_INSTALLED:-}" ]; then
  bash scripts/setup.sh || fail "setup (scripts/setup.sh) failed: its messages are above"
  export GST_PLUGIN_PATH=$PWD/build/meson
fi
FRAMES=${FRAMES:-300}
OUT=${DEMO_OUT:-$PWD/build/demo}
mkdir -p "$OUT"
SOCK=$OUT/demo.sock
FILE=$OUT/received.mp4
rm -f "$FILE"

echo "== receiver: qtisocketsrc socket=$SOCK ! videoconvert ! x264enc ! mp4mux ! filesink location=$FILE"
GST_DEBUG=qtisocketsrc:4 GST_DEBUG_NO_COLOR=1 gst-launch-1.0 -e -v \
  qtisocketsrc socket="$SOCK" ! tee name=t ! queue ! videoconvert ! x264enc speed-preset=ultrafast tune=zerolatency \
  ! mp4mux ! filesink location="$FILE" \
  t. ! queue ! fpsdisplaysink video-sink=fakesink text-overlay=false fps-update-interval=1000 \
  > "$OUT/receiver.log" 2>&1 &
receiver=$!
trap 'kill $receiver ${sender:-} 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  grep -q "listening on" "$OUT/receiver.log" 2>/dev/null && break
  kill -0 $receiver 2>/dev/null || break
  sleep 0.1
done
grep -q "listening on" "$OUT/receiver.log" 2>/dev/null || fail "the receiver did not start listening" "$OUT/receiver.log"

echo "== sender:   videotestsrc num-buffers=$FRAMES ! video/x-raw,format=I420,width=1280,height=720,framerate=30/1 ! timeoverlay ! qtisocketsink socket=$SOCK"
GST_DEBUG=qtisocketsink:4 GST_DEBUG_NO_COLOR=1 gst-launch-1.0 \
  videotestsrc num-buffers="$FRAMES" pattern=ball ! video/x-raw,format=I420,width=1280,height=720,framerate=30/1 \
  ! timeoverlay ! qtisocketsink socket="$SOCK" > "$OUT/sender.log" 2>&1 &
sender=$!
# progress, from the receiver's frame meter, once a second while the frames flow
while kill -0 "$sender" 2>/dev/null; do
  sleep 1
  line=$(grep -o 'rendered: [0-9]*, dropped: [0-9]*, current: [0-9.]*, average: [0-9.]*' "$OUT/receiver.log" | tail -1 || true)
  [ -z "$line" ] || echo "   received $(echo "$line" | sed -E 's/rendered: ([0-9]+), dropped: [0-9]+, current: ([0-9.]+), average: ([0-9.]+)/\1 frames, \2 frames\/s now, \3 on average/')"
done
wait "$sender" || fail "the sender (process 1) exited with status $?" "$OUT/sender.log"
wait "$receiver" || fail "the receiver (process 2) exited with status $?" "$OUT/receiver.log"
trap - EXIT

stats=$(grep -o 'qtisocketsink-stats, [^;]*' "$OUT/sender.log" | tail -1) || true
echo "== sender stats: $stats"
[ -s "$FILE" ] || fail "no $FILE was written" "$OUT/receiver.log"
frames=$(gst-launch-1.0 -v filesrc location="$FILE" ! qtdemux ! fakesink silent=false 2>/dev/null | grep -c 'chain') || true
[ "$frames" -eq "$FRAMES" ] || fail "$FILE holds $frames frames, not $FRAMES" "$OUT/receiver.log"
copied=$(sed -nE 's/.*copied=\(guint64\)([0-9]+).*/\1/p' <<<"$stats")
[ "${copied:-x}" = 0 ] || fail "the sender copied $copied buffers: not zero-copy" "$OUT/sender.log"
echo "== wrote $FILE: $frames frames ($(du -h "$FILE" | cut -f1)), logs in $OUT"
gst-discoverer-1.0 "$FILE" 2>/dev/null | grep -E "Duration|video\(|Width|Height" || true
