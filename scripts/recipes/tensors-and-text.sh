#!/usr/bin/env bash
# Recipes: tensors, then text metadata (subtitles), between two processes.
#   tensors: scripts/recipes/tensors.py sender|receiver (appsrc ! qtisocketsink / qtisocketsrc ! appsink)
#   text:    filesrc location=subtitles.srt ! subparse ! qtisocketsink socket=S
#            qtisocketsrc socket=S ! identity silent=false ! filesink location=received.txt   (-v: each pts)
source "$(dirname "$0")/common.sh"

echo "== tensors"
SOCK=$WORK/tensors.sock
/usr/bin/python3 "$ROOT/scripts/recipes/tensors.py" receiver "$SOCK" > "$WORK/tensors-receiver.log" 2>&1 &
PIDS+=($!)
receiver=$!
for _ in $(seq 200); do [ -S "$SOCK" ] && break; sleep 0.05; done
/usr/bin/python3 "$ROOT/scripts/recipes/tensors.py" sender "$SOCK" 5
wait "$receiver"
grep '^tensors' "$WORK/tensors-receiver.log"

echo "== text"
SOCK=$WORK/text.sock
cat > "$WORK/subtitles.srt" <<'SRT'
1
00:00:00,500 --> 00:00:01,500
A ball enters from the left.

2
00:00:02,000 --> 00:00:03,000
It bounces, and the receiver knows when.
SRT
rm -f "$WORK/received.txt"
GST_DEBUG=qtisocketsrc:4 gst-launch-1.0 -v qtisocketsrc socket="$SOCK" ! identity silent=false \
  ! filesink location="$WORK/received.txt" > "$WORK/text-receiver.log" 2>&1 &
receiver=$!
PIDS+=("$receiver")
wait_listening "$WORK/text-receiver.log"
gst-launch-1.0 -q filesrc location="$WORK/subtitles.srt" ! subparse ! qtisocketsink socket="$SOCK" sync=false
wait "$receiver"
grep -o 'chain   \*\*\*\*\*\*\* (identity0:sink) ([0-9]* bytes, dts: [^,]*, pts: [^,]*, duration: [^,]*' \
  "$WORK/text-receiver.log" | sed 's/.*(\([0-9]* bytes\), dts: [^,]*, \(pts: [^,]*\), \(duration: .*\)/  \1, \2, \3/'
echo "  text: $(tr '\n' '|' < "$WORK/received.txt")"
