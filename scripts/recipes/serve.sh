#!/usr/bin/env bash
# Recipe (c): one camera process serves every consumer that comes: a recorder (H.264 to an MP4), a live
# viewer that comes and goes, and an inference stage that takes 5 frames/s. The camera's pipeline never
# changes: its qtisocketsink listens (mode=listen), each consumer connects (qtisocketsrc mode=connect).
# slow-receiver=skip (the default when listening): the inference stage, slower than the camera, misses
# frames while it holds max-in-flight of them; the recorder (may-skip=false: the camera waits for it
# rather than skip it, should it fall behind a moment) and the viewer lose nothing.
#   camera:    videotestsrc is-live=true ! video/x-raw,format=NV12 ! qtisocketsink socket=S mode=listen
#   recorder:  qtisocketsrc socket=S mode=connect may-skip=false ! videoconvert ! queue ! x264enc ! mp4mux ! filesink   (-e)
#   viewer:    qtisocketsrc socket=S mode=connect ! videoconvert ! autovideosink   (here: fakesink, twice)
#   inference: qtisocketsrc socket=S mode=connect ! <a model taking 200 ms a frame> ! fakesink
source "$(dirname "$0")/common.sh"
SOCK=$WORK/camera.sock
rm -f "$WORK/recorded.mp4"
FRAMES=${FRAMES:-240}

# the camera: 8 s at 30 frames/s; it waits for its first consumer (the recorder)
GST_DEBUG=qtisocketsink:4 gst-launch-1.0 videotestsrc is-live=true num-buffers="$FRAMES" pattern=ball \
  ! video/x-raw,format=NV12,width=640,height=360,framerate=30/1 \
  ! qtisocketsink socket="$SOCK" mode=listen wait-for-connection=true > "$WORK/camera.log" 2>&1 &
camera=$!
PIDS+=("$camera")
wait_listening "$WORK/camera.log"

# wait_joined N: until the camera serves its Nth consumer
wait_joined() {
  for _ in $(seq 200); do grep -q "receiver $1 .* joined" "$WORK/camera.log" && return 0; sleep 0.05; done
  echo "consumer $1 did not join: $(cat "$WORK/camera.log")" >&2
  return 1
}

GST_DEBUG=qtisocketsrc:4 gst-launch-1.0 -e qtisocketsrc socket="$SOCK" mode=connect may-skip=false ! videoconvert ! queue \
  ! x264enc speed-preset=ultrafast ! mp4mux ! filesink location="$WORK/recorded.mp4" > "$WORK/recorder.log" 2>&1 &
recorder=$!
PIDS+=("$recorder")
wait_joined 1

sleep 1
GST_DEBUG=qtisocketsrc:4 gst-launch-1.0 qtisocketsrc socket="$SOCK" mode=connect ! identity sleep-time=200000 \
  ! fakesink > "$WORK/inference.log" 2>&1 &
inference=$!
PIDS+=("$inference")
wait_joined 2

# the viewer: opened for 2 s, closed (killed, as a window closed hard), opened again until the end
for round in 1 2; do
  gst-launch-1.0 qtisocketsrc socket="$SOCK" mode=connect ! videoconvert ! fakesink > "$WORK/viewer-$round.log" 2>&1 &
  viewer=$!
  PIDS+=("$viewer")
  wait_joined $((round + 2))
  if [ "$round" = 1 ]; then sleep 2; kill -9 "$viewer"; wait "$viewer" 2>/dev/null || true; sleep 0.5; fi
done

wait "$camera" "$recorder" "$inference" "$viewer"
echo "camera: $(grep -o 'qtisocketsink-stats, [^;]*' "$WORK/camera.log" | tail -1)"
grep -o 'receiver [0-9]* ([^)]*) left: .*' "$WORK/camera.log" | sed 's/^/  /'
echo "recorder: $(grep -o 'qtisocketsrc-stats, [^;]*' "$WORK/recorder.log" | tail -1)"
echo "inference: $(grep -o 'qtisocketsrc-stats, [^;]*' "$WORK/inference.log" | tail -1)"
echo "wrote $WORK/recorded.mp4:"
gst-discoverer-1.0 "$WORK/recorded.mp4" | grep -E "Duration|Width|Height" | sed 's/^ */  /'
