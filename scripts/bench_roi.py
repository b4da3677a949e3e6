#!/usr/bin/python3
"""The bench's producer of frames with a region of interest on every one (the inference use case:
a detector's box travels with each frame): frames drawn by videotestsrc (into an appsink) are pushed
again through appsrc ! qtisocketsink, each in a new buffer on the same memory with one
GstVideoRegionOfInterestMeta ("face", a moving box, a "detection" parameter).

usage: bench_roi.py SOCKET N CAPS"""
import sys

import gi
gi.require_version('Gst', '1.0')
gi.require_version('GstVideo', '1.0')
from gi.repository import Gst, GstVideo  # noqa: E402

Gst.init(None)
sock, n, caps = sys.argv[1], int(sys.argv[2]), sys.argv[3]
draw = Gst.parse_launch(f'videotestsrc num-buffers={n} ! {caps} ! appsink name=frames sync=false max-buffers=4')
send = Gst.parse_launch(f'appsrc name=src format=time caps={caps} ! '
                        f'qtisocketsink name=sink socket={sock} sync=false wait-for-connection=true')
frames, src = draw.get_by_name('frames'), send.get_by_name('src')
draw.set_state(Gst.State.PLAYING)
send.set_state(Gst.State.PLAYING)
for count in range(n):
    sample = frames.emit('pull-sample')
    if sample is None:
        break
    drawn = sample.get_buffer()
    buf = Gst.Buffer.new()
    buf.append_memory(drawn.peek_memory(0))
    buf.pts, buf.duration = drawn.pts, drawn.duration
    meta = GstVideo.buffer_add_video_region_of_interest_meta(buf, 'face', 10 + count % 100, 20, 64, 64)
    meta.id = count
    meta.add_param(Gst.Structure.from_string(f'detection, confidence=(double)0.{count % 10}')[0])
    src.emit('push-buffer', buf)
src.emit('end-of-stream')
msg = send.get_bus().timed_pop_filtered(Gst.CLOCK_TIME_NONE, Gst.MessageType.EOS | Gst.MessageType.ERROR)
send.set_state(Gst.State.NULL)
draw.set_state(Gst.State.NULL)
sys.exit(0 if msg.type == Gst.MessageType.EOS else 1)
