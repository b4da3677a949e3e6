#!/usr/bin/python3
"""Sends FRAMES GRAY8 64x64 frames whose memory is GstDmaBufMemory (the DMA-BUF allocator wrapping a
memfd: nothing exports real DMA-BUFs on a machine without /dev/dma_heap or /dev/udmabuf), frame n
filled with the byte n + 1, then end-of-stream.

usage: dmabuf_sender.py SOCKET FRAMES"""
import os
import sys

import gi
gi.require_version('Gst', '1.0')
gi.require_version('GstAllocators', '1.0')
from gi.repository import Gst, GstAllocators  # noqa: E402

Gst.init(None)
sock, frames = sys.argv[1], int(sys.argv[2])
SIZE = 64 * 64
pipeline = Gst.parse_launch(
    'appsrc name=src format=time caps=video/x-raw,format=GRAY8,width=64,height=64,framerate=30/1 ! '
    f'qtisocketsink socket={sock} wait-for-connection=true sync=false')
src = pipeline.get_by_name('src')
allocator = GstAllocators.DmaBufAllocator.new()
pipeline.set_state(Gst.State.PLAYING)
for n in range(frames):
    fd = os.memfd_create(f'frame{n}', os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)  # the receiver seals it
    os.ftruncate(fd, SIZE)
    os.pwrite(fd, bytes([n + 1]) * SIZE, 0)
    buf = Gst.Buffer.new()
    buf.append_memory(GstAllocators.DmaBufAllocator.alloc(allocator, fd, SIZE))  # takes the fd
    buf.pts = n * Gst.SECOND // 30
    src.emit('push-buffer', buf)
src.emit('end-of-stream')
msg = pipeline.get_bus().timed_pop_filtered(30 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
pipeline.set_state(Gst.State.NULL)
if msg is None or msg.type != Gst.MessageType.EOS:
    sys.exit(f'no end-of-stream: {msg.parse_error() if msg else "timeout"}')
print('sent', frames, flush=True)
