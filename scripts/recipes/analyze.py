#!/usr/bin/python3
"""Recipe (b), the receiving process: frames from qtisocketsrc go through an analysis step that finds the
ball (the bright pixels of the Y plane), records it as a GstVideoRegionOfInterestMeta, draws its box
as an overlay (a white rectangle) and shows the result: in a window (autovideosink) with --display, or
headless, written as PNG files by multifilesink.

  qtisocketsrc socket=S ! videoconvert ! video/x-raw,format=I420 ! appsink      (the analysis, in Python)
  appsrc ! videoconvert ! pngenc ! multifilesink location=OUT/frame-%03d.png     (or ! autovideosink)

usage: analyze.py SOCKET OUTDIR [--display]
Prints one line per frame: "frame N box X,Y WxH" (or "frame N nothing")."""
import sys

import gi
gi.require_version('Gst', '1.0')
gi.require_version('GstVideo', '1.0')
from gi.repository import Gst, GstVideo  # noqa: E402

Gst.init(None)
sock, out = sys.argv[1], sys.argv[2]
show = ('autovideosink' if '--display' in sys.argv else
        f'pngenc ! multifilesink location={out}/frame-%03d.png')
receive = Gst.parse_launch(f'qtisocketsrc socket={sock} ! videoconvert ! video/x-raw,format=I420 ! '
                           'appsink name=frames sync=false')
display = Gst.parse_launch(f'appsrc name=boxes format=time ! videoconvert ! {show}')
frames, boxes = receive.get_by_name('frames'), display.get_by_name('boxes')


def find_ball(y, width, height, stride):
    """the bounding box of the pixels brighter than 128, or None"""
    rows = [r for r in range(height) if max(y[r * stride:r * stride + width]) > 128]
    if not rows:
        return None
    cols = [c for c in range(width) if max(y[c + rows[0] * stride:(rows[-1] + 1) * stride:stride]) > 128]
    return cols[0], rows[0], cols[-1] - cols[0] + 1, rows[-1] - rows[0] + 1


def draw_box(y, stride, box, width, height, margin=3):
    """a white rectangle, 2 pixels wide, `margin` pixels around the box (in the Y plane of our copy)"""
    x, top = max(box[0] - margin, 0), max(box[1] - margin, 0)
    w = min(box[0] + box[2] + margin, width) - x
    h = min(box[1] + box[3] + margin, height) - top
    for r in (top, top + 1, top + h - 2, top + h - 1):
        y[r * stride + x:r * stride + x + w] = b'\xff' * w
    for r in range(top, top + h):
        for c in (x, x + 1, x + w - 2, x + w - 1):
            y[r * stride + c] = 255


display.set_state(Gst.State.PLAYING)
receive.set_state(Gst.State.PLAYING)
n = 0
while True:
    sample = frames.emit('try-pull-sample', 30 * Gst.SECOND)
    if sample is None:
        break                                  # end of stream (or nothing for 30 s)
    info = GstVideo.VideoInfo.new_from_caps(sample.get_caps())
    if n == 0:
        boxes.set_property('caps', sample.get_caps())
    buf = sample.get_buffer()
    ok, mapped = buf.map(Gst.MapFlags.READ)
    data = bytearray(mapped.data)              # our copy: the received memory is read-only
    buf.unmap(mapped)
    stride = info.stride[0]
    box = find_ball(data, info.width, info.height, stride)
    if box:
        draw_box(data, stride, box, info.width, info.height)
    out_buf = Gst.Buffer.new_wrapped(bytes(data))
    out_buf.pts, out_buf.duration = buf.pts, buf.duration
    if box:
        GstVideo.buffer_add_video_region_of_interest_meta(out_buf, 'ball', *box)
        print(f'frame {n} box {box[0]},{box[1]} {box[2]}x{box[3]}', flush=True)
    else:
        print(f'frame {n} nothing', flush=True)
    boxes.emit('push-buffer', out_buf)
    n += 1
boxes.emit('end-of-stream')
display.get_bus().timed_pop_filtered(30 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
receive.set_state(Gst.State.NULL)
display.set_state(Gst.State.NULL)
print('frames', n, flush=True)
