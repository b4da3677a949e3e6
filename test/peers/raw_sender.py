#!/usr/bin/env python3
"""A minimal qtisocket sender written from docs/protocol.md, for tests that need exact control over
what goes on the socket (timing, closing with unread messages, hostile input).

usage: raw_sender.py SOCKET [--frames N] [--hold-ms MS] [--major M] [--greeting KIND]
Connects, exchanges greetings, sends N GRAY8 8x8 buffers (each in its own memfd, byte i filled with
the frame number), waits MS milliseconds without reading what the receiver sends back (its releases
stay unread in our queue), sends end-of-stream and closes. Prints what it received before closing.
With --major other than 1, or --greeting garbage|short|short-record|buffer-first|none (bytes that
are no message, a HELLO cut short inside its record, a record shorter than its length record says, a
buffer with its memfd and no HELLO, nothing at all: it prints "silent" and waits), it expects the receiver to close the connection and
prints "refused" if it does."""
import argparse
import fcntl
import os
import socket
import struct
import time

from framing import send

QT = 0x51540000
HELLO, CAPS, BUFFER = QT | 1, QT | 2, QT | 3
EOS = 0
NONE = 0xFFFFFFFFFFFFFFFF


def item(identity, body):
    pad = (-len(body)) % 4
    return struct.pack('<II', identity, len(body)) + body + b'\0' * pad


def recv(sock):
    length = struct.unpack('>I', sock.recv(4))[0]
    return sock.recv(length)


def send_frame(sock, i):
    """frame i (the caps with the first): a GRAY8 8x8 buffer in a memfd of its own"""
    caps = b'video/x-raw, format=(string)GRAY8, width=(int)8, height=(int)8, framerate=(fraction)30/1'
    fd = os.memfd_create('raw-sender', os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    os.write(fd, bytes([i]) * 64)
    fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW)  # as docs/protocol.md asks
    # id, pts, dts, duration, offset, offset_end, flags, n_mem, running pts, running dts, base monotonic
    header = struct.pack('<QQQQQQIIQQQ', i + 1, i * 33_333_333, NONE, 33_333_333, i, i + 1, 0, 1,
                         i * 33_333_333, NONE, NONE)
    memory = struct.pack('<IIQQQ', 0, 1, 0, 64, 64)
    payload = (item(CAPS, caps) if i == 0 else b'') + item(BUFFER, header + memory)
    send(sock, payload, [fd])
    os.close(fd)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('socket')
    ap.add_argument('--frames', type=int, default=3)
    ap.add_argument('--hold-ms', type=int, default=300)
    ap.add_argument('--major', type=int, default=1, help='the protocol major version we claim')
    ap.add_argument('--greeting', choices=['hello', 'garbage', 'short', 'short-record', 'buffer-first', 'none'], default='hello')
    a = ap.parse_args()

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    sock.connect(a.socket)
    greeting = recv(sock)
    assert struct.unpack_from('<I', greeting)[0] == HELLO, greeting
    hello = item(HELLO, struct.pack('<HHI', a.major, 0, 0) + b'raw_sender.py')
    greeting = {
        'hello': hello,
        'garbage': bytes((i * 37 + 11) % 256 for i in range(64)),
        'short': hello[:len(hello) - 6],  # its length says more than comes
        'short-record': hello,
    }.get(a.greeting)
    # short-record: the length record announces more than the payload record brings (the framing lies)
    if a.greeting == 'none':
        print('silent', flush=True)
    elif a.greeting == 'buffer-first':
        send_frame(sock, 0)
    else:
        send(sock, greeting, length=len(greeting) + 8 if a.greeting == 'short-record' else None)
    if a.major != 1 or a.greeting != 'hello':
        # a receiver that cannot serve us closes the connection
        sock.settimeout(30)
        rest = sock.recv(4)
        print('refused' if rest == b'' else f'not refused: {rest!r}', flush=True)
        return

    for i in range(a.frames):
        send_frame(sock, i)

    time.sleep(a.hold_ms / 1000)   # the receiver's releases pile up, unread
    send(sock, struct.pack('<I', EOS))
    sock.close()
    print('sent', a.frames, 'frames and end-of-stream, closed with unread releases', flush=True)


if __name__ == '__main__':
    main()
