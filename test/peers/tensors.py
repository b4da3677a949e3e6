#!/usr/bin/python3
"""Sends neural-network/tensors buffers of N tensor memories (sizes differ, bytes a pattern of frame,
tensor and index), then prints, for each buffer the receiving appsink gets, its memory sizes and the
SHA-1 of each memory: the caller compares them with what was sent (also printed, "sent ...").

usage: tensors.py SOCKET FRAMES"""
import hashlib
import sys

import gi
gi.require_version('Gst', '1.0')
from gi.repository import Gst  # noqa: E402

Gst.init(None)
sock, frames = sys.argv[1], int(sys.argv[2])
SIZES = [3 * 224 * 224, 1001 * 4, 7]
CAPS = ('neural-network/tensors,format=(string)static,num_tensors=(int)3,'
        'dimensions=(string)"3:224:224:1,1001:1,7:1",types=(string)"uint8,float32,uint8",framerate=(fraction)0/1')
pipeline = Gst.parse_launch(
    f'appsrc name=src format=time caps={CAPS} ! qtisocketsink socket={sock} sync=false '
    f'qtisocketsrc socket={sock} ! appsink name=sink sync=false')
src, sink = pipeline.get_by_name('src'), pipeline.get_by_name('sink')


def describe(buf):
    mems = [buf.peek_memory(i) for i in range(buf.n_memory())]
    parts = []
    for m in mems:
        ok, info = m.map(Gst.MapFlags.READ)
        parts.append(f'{m.size}:{hashlib.sha1(bytes(info.data)).hexdigest()[:12]}')
        m.unmap(info)
    return ' '.join(parts)


pipeline.set_state(Gst.State.PLAYING)
for f in range(frames):
    buf = Gst.Buffer.new()
    for t, size in enumerate(SIZES):
        buf.append_memory(Gst.Buffer.new_wrapped(bytes(((i * 7 + t * 31 + f) & 0xff) for i in range(size)))
                          .peek_memory(0))
    buf.pts = f * Gst.SECOND
    print('sent', describe(buf), flush=True)
    src.emit('push-buffer', buf)
    sample = sink.emit('try-pull-sample', 10 * Gst.SECOND)
    if sample is None:
        sys.exit('nothing arrived')
    if f == 0:
        print('caps', sample.get_caps().to_string(), flush=True)
    print('got', describe(sample.get_buffer()), flush=True)
src.emit('end-of-stream')
pipeline.get_bus().timed_pop_filtered(10 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
pipeline.set_state(Gst.State.NULL)
