#!/usr/bin/python3
"""Receives N buffers with qtisocketsrc ! appsink and checks, for each memory, that it maps for
reading (its bytes' SHA-1 printed) and refuses to map for writing.

usage: readonly.py SOCKET N"""
import hashlib
import sys

import gi
gi.require_version('Gst', '1.0')
from gi.repository import Gst  # noqa: E402

Gst.init(None)
sock, n = sys.argv[1], int(sys.argv[2])
pipeline = Gst.parse_launch(f'qtisocketsrc socket={sock} num-buffers={n} ! appsink name=out sync=false')
out = pipeline.get_by_name('out')
pipeline.set_state(Gst.State.PLAYING)
for _ in range(n):
    sample = out.emit('pull-sample')
    if sample is None:
        sys.exit('no sample')
    buf = sample.get_buffer()
    for i in range(buf.n_memory()):
        mem = buf.peek_memory(i)
        ok, info = mem.map(Gst.MapFlags.READ)
        print('read', ok, hashlib.sha1(bytes(info.data)).hexdigest() if ok else '', flush=True)
        if ok:
            mem.unmap(info)
        ok, info = mem.map(Gst.MapFlags.WRITE)
        print('write', ok, flush=True)
        if ok:
            mem.unmap(info)
pipeline.set_state(Gst.State.NULL)
