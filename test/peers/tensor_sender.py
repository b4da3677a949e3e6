#!/usr/bin/python3
"""Sends FRAMES buffers of 3 tensors (4096, 1024 and 256 bytes, a pattern of frame and index) with the
caps the vendor's elements use (type and dimensions) through a qtisocketsink, and prints "sent N SHA1"
per buffer (SHA1 of the three memories one after the other).

usage: tensor_sender.py SOCKET FRAMES"""
import hashlib
import sys

import gi
gi.require_version('Gst', '1.0')
from gi.repository import Gst  # noqa: E402

Gst.init(None)
sock, frames = sys.argv[1], int(sys.argv[2])
SIZES = [4096, 1024, 256]
CAPS = 'neural-network/tensors,type=(string)UINT8,dimensions=(int)<<1,32,32,4>,<1,1024>,<1,256>>'
pipeline = Gst.parse_launch(f'appsrc name=src format=time caps="{CAPS}" ! qtisocketsink socket={sock} sync=false')
src = pipeline.get_by_name('src')
pipeline.set_state(Gst.State.PLAYING)
for n in range(frames):
    buf = Gst.Buffer.new()
    parts = [bytes((i * 3 + n * 5 + size) & 0xff for i in range(size)) for size in SIZES]
    for p in parts:
        buf.append_memory(Gst.Buffer.new_wrapped(p).get_memory(0))     # a copy GStreamer owns
    buf.pts = n * Gst.SECOND // 30
    src.emit('push-buffer', buf)
    print('sent', n, hashlib.sha1(b''.join(parts)).hexdigest(), flush=True)
src.emit('end-of-stream')
msg = pipeline.get_bus().timed_pop_filtered(30 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
if msg and msg.type == Gst.MessageType.ERROR:
    print('error', msg.parse_error()[0].message, flush=True)
pipeline.set_state(Gst.State.NULL)
