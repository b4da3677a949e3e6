#!/usr/bin/python3
"""Both ends in one pipeline (one clock, one base time), driven from Python through the host shim:
a frame at pts 30 s, then a frame at pts 1 s in a segment whose base is 30 s. Prints the pts, dts,
duration, offsets and flags of each buffer the receiving appsink gets, one line per buffer.

usage: timing.py SOCKET"""
import sys

import gi
gi.require_version('Gst', '1.0')
from gi.repository import Gst  # noqa: E402

Gst.init(None)
sock = sys.argv[1]
caps = Gst.Caps.from_string('text/x-raw,format=utf8')
pipeline = Gst.parse_launch(
    f'appsrc name=src format=time handle-segment-change=true caps=text/x-raw,format=utf8 ! qtisocketsink socket={sock} sync=false '
    f'qtisocketsrc socket={sock} ! appsink name=sink sync=false')
src, sink = pipeline.get_by_name('src'), pipeline.get_by_name('sink')


def buffer(text, pts, dts, duration, offset, flags=0):
    b = Gst.Buffer.new_wrapped(text.encode())
    b.pts, b.dts, b.duration, b.offset, b.offset_end = pts, dts, duration, offset, offset + 1
    b.set_flags(flags)
    return b


def pull():
    sample = sink.emit('try-pull-sample', 10 * Gst.SECOND)
    if sample is None:
        sys.exit('no buffer arrived')
    b = sample.get_buffer()
    print(f'pts={b.pts} dts={b.dts} duration={b.duration} offset={b.offset} offset_end={b.offset_end} '
          f'flags={int(b.get_flags()) & 0xffff0} bytes={b.extract_dup(0, b.get_size()).decode()}', flush=True)


pipeline.set_state(Gst.State.PLAYING)
src.emit('push-buffer', buffer('preroll', 0, Gst.CLOCK_TIME_NONE, Gst.SECOND, 0))
if pipeline.get_state(10 * Gst.SECOND)[0] != Gst.StateChangeReturn.SUCCESS:
    sys.exit('pipeline did not reach PLAYING')
pull()

segment = Gst.Segment()
segment.init(Gst.Format.TIME)
src.emit('push-sample', Gst.Sample.new(
    buffer('A', 30 * Gst.SECOND, 29 * Gst.SECOND, Gst.SECOND, 7, Gst.BufferFlags.DISCONT), caps, segment, None))
pull()
segment.base = 30 * Gst.SECOND
src.emit('push-sample', Gst.Sample.new(
    buffer('B', 1 * Gst.SECOND, 500 * Gst.MSECOND, Gst.SECOND, 8, Gst.BufferFlags.DELTA_UNIT), caps, segment, None))
pull()
src.emit('end-of-stream')
pipeline.get_bus().timed_pop_filtered(10 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
pipeline.set_state(Gst.State.NULL)
