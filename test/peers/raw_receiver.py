#!/usr/bin/env python3
"""A minimal qtisocket receiver written from docs/protocol.md: listens, greets with the given protocol
version, prints the sender's greeting, then for each of the next N buffer messages the kinds of its
memories, the number of fds that came with it and whether it had a DATA item; with --ids also what
each memory names its fd by (a position, or a 1.2 cache id) and the ids of its FDS item. It returns
nothing, unless --release: then it sends RELEASE for each buffer (its fds are closed at once).

usage: raw_receiver.py SOCKET [--major M] [--minor m] [--buffers N] [--ids] [--release]"""
import argparse
import array
import os
import socket
import struct

QT = 0x51540000
HELLO = QT | 1
BUFFER = QT | 3
RELEASE = QT | 5
DATA = QT | 7
FDS = QT | 8


def items(payload):
    at = 0
    while at + 8 <= len(payload):
        identity, length = struct.unpack_from('<II', payload, at)
        if identity & 0xffff0000 != QT:
            return
        yield identity, payload[at + 8:at + 8 + length]
        at += 8 + length + (-length) % 4


def receive(conn):
    conn.recv(4)
    fds = array.array('i')
    payload, anc, _, _ = conn.recvmsg(1 << 24, socket.CMSG_SPACE(64 * fds.itemsize))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
    for fd in fds:
        os.close(fd)
    return payload, len(fds)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('socket')
    ap.add_argument('--major', type=int, default=1)
    ap.add_argument('--minor', type=int, default=0)
    ap.add_argument('--buffers', type=int, default=0)
    ap.add_argument('--ids', action='store_true')
    ap.add_argument('--release', action='store_true')
    a = ap.parse_args()
    if os.path.exists(a.socket):
        os.unlink(a.socket)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    server.bind(a.socket)
    server.listen(1)
    print('listening', flush=True)
    conn, _ = server.accept()
    body = struct.pack('<HHI', a.major, a.minor, 0) + b'raw_receiver.py'
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
    for _ in range(a.buffers):
        payload, n_fds = receive(conn)
        found = dict(items(payload))
        n_mem = struct.unpack_from('<I', found[BUFFER], 52)[0]
        kinds = [struct.unpack_from('<I', found[BUFFER], 80 + 32 * i + 4)[0] for i in range(n_mem)]
        line = f'buffer kinds={kinds} fds={n_fds} data={len(found.get(DATA, b""))}'
        if a.ids:
            refs = [struct.unpack_from('<I', found[BUFFER], 80 + 32 * i)[0] for i in range(n_mem)]
            fds_item = found.get(FDS, b'')
            line += f' refs={refs} fdids={list(struct.unpack(f"<{len(fds_item) // 4}I", fds_item))}'
        print(line, flush=True)
        if a.release:
            body = struct.pack('<II', 1, 0) + found[BUFFER][:8]
            release = struct.pack('<II', RELEASE, len(body)) + body
            try:
                conn.send(struct.pack('>I', len(release)))
                conn.send(release)
            except OSError:
                pass        # the sender has finished and gone
    conn.close()
    server.close()
    os.unlink(a.socket)


if __name__ == '__main__':
    main()
