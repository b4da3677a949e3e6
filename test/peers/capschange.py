#!/usr/bin/python3
"""Sends frames from Python, changing resolution and format mid-stream (GRAY8 64x48, GRAY8 160x120, RGBA
32x24, GRAY8 64x48), and prints, for each buffer the receiving appsink gets, its caps' format,
width/height, its size and first byte. Both ends are in
one pipeline; the receiver has no capsfilter.

usage: capschange.py SOCKET"""
import sys

import gi
gi.require_version('Gst', '1.0')
from gi.repository import Gst  # noqa: E402

Gst.init(None)
sock = sys.argv[1]
pipeline = Gst.parse_launch(
    f'appsrc name=src format=time ! qtisocketsink socket={sock} sync=false '
    f'qtisocketsrc socket={sock} ! appsink name=sink sync=false')
src, sink = pipeline.get_by_name('src'), pipeline.get_by_name('sink')
pipeline.set_state(Gst.State.PLAYING)
n = 0
for fmt, bpp, w, h in [('GRAY8', 1, 64, 48), ('GRAY8', 1, 160, 120), ('RGBA', 4, 32, 24), ('GRAY8', 1, 64, 48)]:
    src.set_property('caps', Gst.Caps.from_string(f'video/x-raw,format={fmt},width={w},height={h},framerate=30/1'))
    for _ in range(2):
        buf = Gst.Buffer.new_wrapped(bytes([n & 0xff]) * (w * h * bpp))
        buf.pts = n * Gst.SECOND // 30
        src.emit('push-buffer', buf)
        sample = sink.emit('try-pull-sample', 10 * Gst.SECOND)
        if sample is None:
            sys.exit('nothing arrived')
        s = sample.get_caps().get_structure(0)
        b = sample.get_buffer()
        print(f"{s.get_value('format')} {s.get_value('width')}x{s.get_value('height')} {b.get_size()} "
              f"{b.extract_dup(0, 1)[0]}", flush=True)
        n += 1
src.emit('end-of-stream')
pipeline.get_bus().timed_pop_filtered(10 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
pipeline.set_state(Gst.State.NULL)
