#!/usr/bin/env python3
"""A minimal qtisocket receiver written from docs/protocol.md: listens, greets with the given protocol
version, and prints the sender's greeting.

usage: raw_receiver.py SOCKET [--major M]"""
import argparse
import os
import socket
import struct

QT = 0x51540000
HELLO = QT | 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('socket')
    ap.add_argument('--major', type=int, default=1)
    a = ap.parse_args()
    if os.path.exists(a.socket):
        os.unlink(a.socket)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    server.bind(a.socket)
    server.listen(1)
    print('listening', flush=True)
    conn, _ = server.accept()
    body = struct.pack('<HHI', a.major, 0, 0) + b'raw_receiver.py'
    pad = (-len(body)) % 4
    payload = struct.pack('<II', HELLO, len(body)) + body + b'\0' * pad
    conn.send(struct.pack('>I', len(payload)))
    conn.send(payload)
    conn.settimeout(10)
    conn.recv(4)
    reply = conn.recv(4096)
    identity, length, major, minor = struct.unpack_from('<IIHH', reply)
    print(f'sender greeted: identity=0x{identity:x} version={major}.{minor} '
          f'software={reply[16:8 + length].decode()}', flush=True)
    conn.close()
    server.close()
    os.unlink(a.socket)


if __name__ == '__main__':
    main()
