#!/usr/bin/python3
"""A Python (python3-gi) program that builds its pipeline element by element, the way an application
does, with qtisocketsink or qtisocketsrc loaded through the shim like any plugin.

  sender SOCKET N    videotestsrc (N NV12 320x240 frames) ! qtisocketsink; prints the sink's stats
  receiver SOCKET    qtisocketsrc ! appsink; prints "<pts> <sha1>" per buffer, the caps, the stats,
                     and every element message of the source (client connected/disconnected)

usage: gi_pair.py sender|receiver SOCKET [N]"""
import hashlib
import sys
import threading

import gi
gi.require_version('Gst', '1.0')
from gi.repository import Gst  # noqa: E402

Gst.init(None)
_out = threading.Lock()


def say(*words):
    """one whole line at a time: signals come on GStreamer's threads, messages on this one"""
    with _out:
        print(*words, flush=True)

role, sock = sys.argv[1], sys.argv[2]


def make(factory, **props):
    element = Gst.ElementFactory.make(factory, None)
    if element is None:
        sys.exit(f'no element {factory}')
    for name, value in props.items():
        element.set_property(name.replace('_', '-'), value)
    return element


def run(pipeline, on_message=None):
    pipeline.set_state(Gst.State.PLAYING)
    bus = pipeline.get_bus()
    while True:
        msg = bus.timed_pop_filtered(30 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR |
                                     Gst.MessageType.ELEMENT)
        if msg is None:
            sys.exit('timed out')
        if msg.type == Gst.MessageType.ELEMENT:
            if on_message:
                on_message(msg)
            continue
        if msg.type == Gst.MessageType.ERROR:
            sys.exit(f'error: {msg.parse_error()}')
        return


pipeline = Gst.Pipeline.new(role)
if role == 'sender':
    src = make('videotestsrc', num_buffers=int(sys.argv[3]), pattern='ball')
    caps = make('capsfilter', caps=Gst.Caps.from_string('video/x-raw,format=NV12,width=320,height=240,framerate=30/1'))
    sink = make('qtisocketsink', socket=sock, wait_for_connection=True, sync=False)
    for e in (src, caps, sink):
        pipeline.add(e)
    src.link(caps)
    caps.link(sink)
    run(pipeline)
    print('stats', sink.get_property('stats').to_string(), flush=True)
else:
    src = make('qtisocketsrc', socket=sock)
    sink = make('appsink', emit_signals=True, sync=False)

    def on_sample(appsink):
        sample = appsink.emit('pull-sample')
        buf = sample.get_buffer()
        ok, info = buf.map(Gst.MapFlags.READ)
        say(f'{buf.pts} {hashlib.sha1(bytes(info.data)).hexdigest()}')
        buf.unmap(info)
        return Gst.FlowReturn.OK

    sink.connect('new-sample', on_sample)
    src.connect('client-connected', lambda element, peer: say('signal client-connected', peer))
    pipeline.add(src)
    pipeline.add(sink)
    src.link(sink)
    run(pipeline, lambda msg: say('message', msg.get_structure().to_string()))
    print('caps', src.get_static_pad('src').get_current_caps().to_string(), flush=True)
    print('stats', src.get_property('stats').to_string(), flush=True)
pipeline.set_state(Gst.State.NULL)
