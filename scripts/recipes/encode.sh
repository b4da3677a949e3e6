#!/usr/bin/env bash
# Recipe (a): frames decoded in one process (a capture or decoder stage) are encoded and muxed to a file
# in a second process. The sender decodes video.mp4; the receiver encodes H.264 and writes an MP4.
#   process 2: qtisocketsrc socket=S ! queue ! videoconvert ! x264enc ! mp4mux ! filesink location=out.mp4   (-e)
#   process 1: filesrc location=video.mp4 ! decodebin ! videoconvert ! video/x-raw,format=NV12 ! qtisocketsink socket=S
source "$(dirname "$0")/common.sh"
SOCK=$WORK/encode.sock
sample_video "$WORK/video.mp4"
rm -f "$WORK/encoded.mp4"

GST_DEBUG=qtisocketsrc:4 gst-launch-1.0 -e qtisocketsrc socket="$SOCK" ! queue ! videoconvert \
  ! x264enc speed-preset=ultrafast ! mp4mux ! filesink location="$WORK/encoded.mp4" > "$WORK/encode-receiver.log" 2>&1 &
receiver=$!
PIDS+=("$receiver")
wait_listening "$WORK/encode-receiver.log"

GST_DEBUG=qtisocketsink:4 gst-launch-1.0 filesrc location="$WORK/video.mp4" ! decodebin ! videoconvert \
  ! video/x-raw,format=NV12 ! qtisocketsink socket="$SOCK" sync=false > "$WORK/encode-sender.log" 2>&1
wait "$receiver"

echo "sender: $(grep -o 'qtisocketsink-stats, [^;]*' "$WORK/encode-sender.log" | tail -1)"
echo "receiver: $(grep -o 'qtisocketsrc-stats, [^;]*' "$WORK/encode-receiver.log" | tail -1)"
echo "wrote $WORK/encoded.mp4:"
gst-discoverer-1.0 "$WORK/encoded.mp4" | grep -E "Duration|Width|Height|video #|codec" | sed 's/^ */  /'
