#!/usr/bin/python3
"""Recipe: tensors between processes. The sender makes neural-network/tensors buffers the way an
inference element (NNStreamer's tensor_filter, say) would: one memory per tensor, the caps naming their
dimensions and types. The receiver prints, per buffer, its tensors' sizes and the first values.

  sender SOCKET N:  appsrc caps=neural-network/tensors,... ! qtisocketsink socket=SOCKET
  receiver SOCKET:  qtisocketsrc socket=SOCKET ! appsink

usage: tensors.py sender SOCKET N | tensors.py receiver SOCKET"""
import struct
import sys

import gi
gi.require_version('Gst', '1.0')
from gi.repository import Gst  # noqa: E402

Gst.init(None)
role, sock = sys.argv[1], sys.argv[2]
CAPS = ('neural-network/tensors,format=(string)static,num_tensors=(int)2,framerate=(fraction)30/1,'
        'dimensions=(string)"4:10:1:1,10:1:1:1",types=(string)"float32,uint8"')

if role == 'sender':
    pipeline = Gst.parse_launch(f'appsrc name=src format=time caps={CAPS} ! qtisocketsink socket={sock} '
                                'wait-for-connection=true')
    src = pipeline.get_by_name('src')
    pipeline.set_state(Gst.State.PLAYING)
    for n in range(int(sys.argv[3])):
        boxes = struct.pack('<40f', *[n + i / 10 for i in range(40)])     # 10 boxes of 4 floats
        scores = bytes((n * 10 + i) % 256 for i in range(10))             # 10 class scores
        buf = Gst.Buffer.new()
        for tensor in (boxes, scores):
            buf.append_memory(Gst.Buffer.new_wrapped(tensor).peek_memory(0))
        buf.pts, buf.duration = n * Gst.SECOND // 30, Gst.SECOND // 30
        src.emit('push-buffer', buf)
    src.emit('end-of-stream')
else:
    pipeline = Gst.parse_launch(f'qtisocketsrc socket={sock} ! appsink name=sink emit-signals=true')

    def on_sample(sink):
        buf = sink.emit('pull-sample').get_buffer()
        sizes = [buf.peek_memory(i).size for i in range(buf.n_memory())]
        boxes = struct.unpack_from('<4f', buf.extract_dup(0, 16))
        scores = buf.extract_dup(sizes[0], 3)
        print(f'tensors {sizes} first box {[round(v, 1) for v in boxes]} first scores {list(scores)}', flush=True)
        return Gst.FlowReturn.OK

    pipeline.get_by_name('sink').connect('new-sample', on_sample)
    pipeline.set_state(Gst.State.PLAYING)
msg = pipeline.get_bus().timed_pop_filtered(60 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
pipeline.set_state(Gst.State.NULL)
if msg is None or msg.type != Gst.MessageType.EOS:
    sys.exit(f'no end-of-stream: {msg.parse_error() if msg else "timeout"}')
