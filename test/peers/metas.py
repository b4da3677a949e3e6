#!/usr/bin/python3
"""Sends GRAY8 128x96 buffers (copied into a memfd by the sink) carrying GstVideoRegionOfInterestMeta (the bounding-box use case: a face
with its detection and tracking parameters, an eye inside it), an empty buffer (no memory) and a buffer
with one empty memory, and prints what the receiving appsink gets, one line per buffer:
"<pts> mem=<n> size=<bytes> flags=<hex> <first byte>" and one "  roi ..." line per region of interest.
Both ends are in one pipeline (Python GI through the shim).

usage: metas.py SOCKET"""
import sys

import gi
gi.require_version('Gst', '1.0')
gi.require_version('GstVideo', '1.0')
from gi.repository import GLib, Gst, GstVideo  # noqa: E402

Gst.init(None)
sock = sys.argv[1]
CAPS = 'video/x-raw,format=GRAY8,width=128,height=96,framerate=30/1'
pipeline = Gst.parse_launch(
    f'appsrc name=src format=time caps={CAPS} ! qtisocketsink socket={sock} sync=false '
    f'qtisocketsrc socket={sock} ! appsink name=sink sync=false')
src, sink = pipeline.get_by_name('src'), pipeline.get_by_name('sink')


def roi(buf, kind, box, roi_id, parent, params):
    meta = GstVideo.buffer_add_video_region_of_interest_meta(buf, kind, *box)
    meta.id, meta.parent_id = roi_id, parent
    for p in params:
        meta.add_param(Gst.Structure.from_string(p)[0])


def show(buf):
    mem = buf.n_memory()
    first = buf.extract_dup(0, 1)[0] if buf.get_size() else '-'
    print(f'{buf.pts} mem={mem} size={buf.get_size()} flags={int(buf.get_flags()) & 0xffff0:x} {first}', flush=True)
    for roi_id in (1, 2, 3):
        meta = GstVideo.buffer_get_video_region_of_interest_meta_id(buf, roi_id)
        if meta is None:
            continue
        params = [meta.get_param(name) for name in ('detection', 'tracking')]
        params = ' '.join(p.to_string() for p in params if p is not None)
        print(f'  roi id={meta.id} parent={meta.parent_id} type={GLib.quark_to_string(meta.roi_type)} '
              f'box={meta.x},{meta.y},{meta.w}x{meta.h} {params}', flush=True)


pipeline.set_state(Gst.State.PLAYING)
frame = Gst.Buffer.new_wrapped(bytes([7]) * (128 * 96))
roi(frame, 'face', (10, 5, 30, 40), 1, -1,
    ['detection, label=(string)"face", confidence=(double)0.93', 'tracking, track-id=(uint)7'])
roi(frame, 'eye', (15, 12, 6, 4), 2, 1, [])
empty = Gst.Buffer.new()
empty.set_flags(Gst.BufferFlags.GAP)
hollow = Gst.Buffer.new()
hollow.append_memory(Gst.Buffer.new_wrapped(b'x').peek_memory(0).share(0, 0))
for n, buf in enumerate([frame, empty, hollow]):
    buf.pts = n * Gst.SECOND // 30
    buf.duration = Gst.SECOND // 30
    src.emit('push-buffer', buf)
    sample = sink.emit('try-pull-sample', 10 * Gst.SECOND)
    if sample is None:
        sys.exit('nothing arrived')
    show(sample.get_buffer())
src.emit('end-of-stream')
msg = pipeline.get_bus().timed_pop_filtered(10 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
pipeline.set_state(Gst.State.NULL)
if msg is None or msg.type != Gst.MessageType.EOS:
    sys.exit(f'no end-of-stream: {msg.parse_error() if msg else "timeout"}')
