#!/usr/bin/python3
"""A receiver in Python (GI): qtisocketsrc ! CAPS ! appsink; prints per buffer "buffer N" and, for the
region of interest whose id is N (as test/peers/vendor_sender.py --roi sends them), a line
"  roi TYPE id=I parent=P box=X,Y,WxH PARAM", PARAM its "ObjectDetection" parameter; until
end-of-stream.

usage: roi_receiver.py SOCKET CAPS"""
import sys

import gi
gi.require_version('Gst', '1.0')
gi.require_version('GstVideo', '1.0')
from gi.repository import GLib, Gst, GstVideo  # noqa: E402

Gst.init(None)
sock, caps = sys.argv[1], sys.argv[2]
pipeline = Gst.parse_launch(f'qtisocketsrc socket={sock} ! {caps} ! appsink name=sink sync=false')
sink = pipeline.get_by_name('sink')
pipeline.set_state(Gst.State.PLAYING)
print('playing', flush=True)
n = 0
while True:
    sample = sink.emit('pull-sample')
    if sample is None:
        break
    buf = sample.get_buffer()
    print('buffer', n, flush=True)
    meta = GstVideo.buffer_get_video_region_of_interest_meta_id(buf, n)
    if meta is not None:
        param = meta.get_param('ObjectDetection')
        print(f'  roi {GLib.quark_to_string(meta.roi_type)} id={meta.id} parent={meta.parent_id} '
              f'box={meta.x},{meta.y},{meta.w}x{meta.h} {param.to_string() if param else None}', flush=True)
    n += 1
pipeline.set_state(Gst.State.NULL)
