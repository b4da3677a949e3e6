#!/usr/bin/python3
"""State churn: takes a pipeline PLAYING -> NULL again and again, each change bounded (5 s), and
prints the process's open fds and RSS after the warm-up cycles and at the end.

  both      sender and receiver in this one pipeline; every cycle waits until frames arrive
  sender    a sender; its receiver (another process) comes and goes on its own
  receiver  a receiver; its sender (another process) comes and goes on its own

usage: churn.py MODE SOCKET CYCLES [--warmup N]
Prints "cycle N fds F rss-kib R" every 100 cycles, then "fds A B" (after the warm-up, at the end),
"rss-kib A B" (the highest RSS, sampled every 10 cycles, in the first and in the second half of the
cycles after the warm-up: the embedded JS heap saws between collections, so peaks are compared) and
"done". Exits 1 (with the reason) if a state change does not complete in time."""
import argparse
import os
import sys
import threading
import time

import gi
gi.require_version('Gst', '1.0')
from gi.repository import Gst  # noqa: E402

Gst.init(None)
ap = argparse.ArgumentParser()
ap.add_argument('mode', choices=['both', 'sender', 'receiver'])
ap.add_argument('socket')
ap.add_argument('cycles', type=int)
ap.add_argument('--warmup', type=int, default=20)
a = ap.parse_args()

SEND = (f'videotestsrc is-live=true ! video/x-raw,format=I420,width=320,height=240,framerate=100/1 ! '
        f'qtisocketsink socket={a.socket} ')
RECEIVE = f'qtisocketsrc socket={a.socket} ! fakesink name=out signal-handoffs=true '
DESCRIPTION = {'both': SEND + RECEIVE, 'sender': SEND, 'receiver': RECEIVE}[a.mode]
frames = 0


def on_handoff(*_):
    global frames
    frames += 1


def fds():
    return len(os.listdir('/proc/self/fd'))


def rss_kib():
    with open('/proc/self/status') as f:
        return next(int(line.split()[1]) for line in f if line.startswith('VmRSS:'))


def hung(what):
    print(f'{what}: not done within 10 s', flush=True)
    os._exit(1)


def change(pipeline, state, cycle):
    """set_state itself must return within 10 s; an asynchronous change must complete within 5 s,
    except a live receiver's move to PLAYING, which completes only when a sender's frames come"""
    watchdog = threading.Timer(10, hung, [f'cycle {cycle}: set_state({state.value_nick})'])
    watchdog.start()
    ret = pipeline.set_state(state)
    watchdog.cancel()
    if ret == Gst.StateChangeReturn.ASYNC and not (a.mode == 'receiver' and state == Gst.State.PLAYING):
        ret, _, _ = pipeline.get_state(5 * Gst.SECOND)
    if ret not in (Gst.StateChangeReturn.SUCCESS, Gst.StateChangeReturn.NO_PREROLL, Gst.StateChangeReturn.ASYNC) or (
            ret == Gst.StateChangeReturn.ASYNC and not (a.mode == 'receiver' and state == Gst.State.PLAYING)):
        sys.exit(f'cycle {cycle}: the change to {state.value_nick} returned {ret.value_nick}')


pipeline = Gst.parse_launch(DESCRIPTION)
out = pipeline.get_by_name('out')
if out:
    out.connect('handoff', on_handoff)
bus = pipeline.get_bus()
start_fds, rss = None, []
for cycle in range(1, a.cycles + 1):
    change(pipeline, Gst.State.PLAYING, cycle)
    if a.mode == 'both':
        # frames must flow in every cycle
        before, deadline = frames, time.monotonic() + 5
        while frames < before + 2:
            if time.monotonic() > deadline:
                sys.exit(f'cycle {cycle}: no frames within 5 s')
            time.sleep(0.002)
    else:
        time.sleep(0.02 + (cycle % 7) * 0.01)   # the other side comes and goes on its own rhythm
    msg = bus.pop_filtered(Gst.MessageType.ERROR)
    if msg:
        sys.exit(f'cycle {cycle}: error {msg.parse_error()}')
    change(pipeline, Gst.State.NULL, cycle)
    if cycle == a.warmup:
        start_fds = fds()
    if cycle > a.warmup and cycle % 10 == 0:
        rss.append(rss_kib())
    if cycle % 100 == 0:
        print('cycle', cycle, 'fds', fds(), 'rss-kib', rss_kib(), flush=True)
half = len(rss) // 2
print('fds', start_fds, fds(), flush=True)
# the embedded JS heap saws up and down over hundreds of cycles: compare the peaks of the two halves
print('rss-kib', max(rss[:half]), max(rss[half:]), flush=True)
print('frames', frames, flush=True)
print('done', flush=True)
