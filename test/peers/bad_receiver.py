#!/usr/bin/env python3
"""A receiver that connects to a listening qtisocketsink (mode=listen) and greets it wrongly: with
garbage (bytes that are no message), with a HELLO of protocol major 2, or not at all (--greeting
none: it stays silent). It then reads until the sink closes the connection and prints "closed"
(or "timeout" after 10 s), and for major 2 the sink's greeting first ("greeted major M").

usage: bad_receiver.py SOCKET --greeting garbage|major2|none"""
import argparse
import select
import socket
import struct
import time

from framing import send

HELLO = 0x51540001


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('socket')
    ap.add_argument('--greeting', choices=['garbage', 'major2', 'none'], required=True)
    a = ap.parse_args()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    sock.connect(a.socket)
    if a.greeting == 'garbage':
        send(sock, b'\x01\x02\x03 not a message at all')
    elif a.greeting == 'major2':
        body = struct.pack('<HHI', 2, 0, 0) + b'bad_receiver.py'
        send(sock, struct.pack('<II', HELLO, len(body)) + body + b'\0' * ((-len(body)) % 4))
    deadline = time.time() + 10
    while time.time() < deadline:
        if not select.select([sock], [], [], 0.1)[0]:
            continue
        head = sock.recv(4)
        if len(head) < 4:
            print('closed', flush=True)
            return
        payload = sock.recv(struct.unpack('>I', head)[0])
        if struct.unpack_from('<I', payload)[0] == HELLO:
            print(f'greeted major {struct.unpack_from("<H", payload, 8)[0]}', flush=True)
    print('timeout', flush=True)


if __name__ == '__main__':
    main()
