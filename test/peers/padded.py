#!/usr/bin/python3
"""Sends I420 321x241 frames whose planes are laid out unlike GStreamer's default (strides 512/256/256),
each plane in its own memory: Y in a memfd wrapped as fd memory at a non-zero offset, U and V in
system memory; padding bytes are garbage. The same frames, converted to RGBA here, go to a
checksumsink, whose lines this program prints: the receiver must print the same.

With --unsealable, Y's memfd is made without MFD_ALLOW_SEALING: the sink cannot seal it against
shrinking, so it must copy it.

usage: padded.py SOCKET FRAMES [--unsealable]"""
import os
import sys

import gi
gi.require_version('Gst', '1.0')
gi.require_version('GstVideo', '1.0')
gi.require_version('GstAllocators', '1.0')
from gi.repository import Gst, GstAllocators, GstVideo  # noqa: E402

Gst.init(None)
sock, frames = sys.argv[1], int(sys.argv[2])
SEALING = 0 if '--unsealable' in sys.argv else os.MFD_ALLOW_SEALING
W, H = 321, 241
CW, CH = (W + 1) // 2, (H + 1) // 2
STRIDES = [512, 256, 256]
pipeline = Gst.parse_launch(
    f'appsrc name=src format=time caps=video/x-raw,format=I420,width={W},height={H},framerate=30/1 ! tee name=t '
    f'! queue ! qtisocketsink socket={sock} wait-for-connection=true sync=false '
    't. ! queue ! videoconvert ! video/x-raw,format=RGBA ! checksumsink')
src = pipeline.get_by_name('src')
fd_allocator = GstAllocators.FdAllocator.new()


def plane(i, n, w, h, stride):
    rows = bytearray(b'\xab' * (stride * h))   # garbage in the padding
    for y in range(h):
        rows[y * stride:y * stride + w] = bytes(((x * (n + 1) + y * 3 + i * 7) & 0xff) for x in range(w))
    return bytes(rows)


def frame(i):
    y, u, v = plane(i, 0, W, H, 512), plane(i, 1, CW, CH, 256), plane(i, 2, CW, CH, 256)
    buf = Gst.Buffer.new()
    fd = os.memfd_create('padded', os.MFD_CLOEXEC | SEALING)
    os.write(fd, b'\x00' * 64 + y)              # Y at offset 64 in its memfd
    mem = GstAllocators.FdAllocator.alloc(fd_allocator, fd, 64 + len(y), GstAllocators.FdMemoryFlags.NONE)
    mem.resize(64, len(y))
    buf.append_memory(mem)
    buf.append_memory(Gst.Buffer.new_wrapped(u).peek_memory(0))
    buf.append_memory(Gst.Buffer.new_wrapped(v).peek_memory(0))
    GstVideo.buffer_add_video_meta_full(buf, GstVideo.VideoFrameFlags.NONE, GstVideo.VideoFormat.I420, W, H, 3,
                                        [0, len(y), len(y) + len(u), 0], STRIDES + [0])
    buf.pts = i * Gst.SECOND // 30
    buf.duration = Gst.SECOND // 30
    return buf


pipeline.set_state(Gst.State.PLAYING)
for i in range(frames):
    src.emit('push-buffer', frame(i))
src.emit('end-of-stream')
msg = pipeline.get_bus().timed_pop_filtered(30 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
pipeline.set_state(Gst.State.NULL)
if msg is None or msg.type != Gst.MessageType.EOS:
    sys.exit(f'no end of stream: {msg.parse_error() if msg else "timeout"}')
