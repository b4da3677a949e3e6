#!/usr/bin/env bash
# Recipe (b): frames decoded in one process go to a second process that runs an analysis step, draws its
# boxes as an overlay and shows the result (scripts/recipes/analyze.py; headless it writes PNG files,
# with DISPLAY set and --display it opens a window).
#   process 2: scripts/recipes/analyze.py SOCKET OUTDIR      (qtisocketsrc ! ... ! appsink, analysis, appsrc ! ...)
#   process 1: filesrc location=video.mp4 ! decodebin ! videoconvert ! qtisocketsink socket=S
source "$(dirname "$0")/common.sh"
SOCK=$WORK/analyze.sock
OUT=$WORK/analyzed
sample_video "$WORK/video.mp4"
rm -rf "$OUT" && mkdir -p "$OUT"

GST_DEBUG=qtisocketsrc:4 /usr/bin/python3 "$ROOT/scripts/recipes/analyze.py" "$SOCK" "$OUT" "$@" \
  > "$WORK/analyze-receiver.log" 2>&1 &
receiver=$!
PIDS+=("$receiver")
wait_listening "$WORK/analyze-receiver.log"

GST_DEBUG=qtisocketsink:4 gst-launch-1.0 filesrc location="$WORK/video.mp4" ! decodebin ! videoconvert \
  ! qtisocketsink socket="$SOCK" > "$WORK/analyze-sender.log" 2>&1
wait "$receiver"

grep -E '^frame [0-9]+ ' "$WORK/analyze-receiver.log" | sed -n '1p;75p;$p'
echo "sender: $(grep -o 'qtisocketsink-stats, [^;]*' "$WORK/analyze-sender.log" | tail -1)"
echo "$(ls "$OUT" | wc -l) frames with their boxes in $OUT"
