#!/usr/bin/env python3
"""A receiver of the vendor's wire (Qualcomm's qtisocketsrc), written from ../shared/VENDOR-WIRE.md:
it listens (unlinking a stale file, backlog 3), accepts one sender and never greets it, reads each
message (a big-endian length record, then the payload with at most 10 fds), parses the structs until
one it does not know, keeps the fds of pooled buffers by buf_id (FD_COUNT n > 0: block i's fd is
the i-th that came, as theirs does), reads each block's memory from byte 0 and returns the buffer
with FD_COUNT + RETURN_BUFFER (52 bytes; text: {1, -1}, as theirs). End-of-stream ends it.

Printed per buffer: "frame N SHA1 fds=K" (SHA1 of the block bytes [0, size) one after the other,
K the fds that came with it) and, for video, "layout FORMAT WxH planes=P offsets=A,B strides=C,D"
and "visible SHA1" (the SHA1 of the visible rows of each plane, I420 and NV12);
then "eos", "fds received F", "cached C", "misread M" (FD_COUNT not 0 and not the block count:
their receiver mis-maps those).

usage: vendor_receiver.py SOCKET [--disconnect-after K] (DISCONNECT after K buffers, as theirs does
on PLAYING -> PAUSED, then it reads and returns what comes until the sender closes)
       vendor_receiver.py SOCKET --hostile SEED: after each buffer's return, 0 to 3 damaged messages
(garbage, unknown or repeated buf_ids, FD_COUNT negative or beyond 10, truncated structs, fds)"""
import array
import hashlib
import mmap
import os
import random
import socket
import struct
import sys

EOS, DISCONNECT, BUFFER_INFO, FRAME, TENSOR, TEXT, RETURN_BUFFER, FD_COUNT = 0, 1, 2, 3, 4, 5, 6, 7
SIZES = [4, 4, 72, 88, 60, 1044, 44, 8, 1044, 588, 9876, 4140]


def send(conn, payload):
    """a return or a disconnect; a sender that has finished and gone gets none (theirs logs it)"""
    try:
        conn.send(struct.pack('>I', len(payload)))
        conn.send(payload)
    except OSError:
        pass


def read_fd(fd, size, maxsize):
    if size == 0:
        return b''
    with mmap.mmap(fd, maxsize, mmap.MAP_SHARED, mmap.PROT_READ) as m:
        return m[:size]


def visible_rows(mem, fmt, w, h, offsets, strides):
    """the visible bytes of each plane, row after row (I420 = 2, NV12 = 23); None for other formats"""
    cw, ch = (w + 1) // 2, (h + 1) // 2
    planes = {2: [(w, h), (cw, ch), (cw, ch)], 23: [(w, h), (2 * cw, ch)]}.get(fmt)
    if planes is None:
        return None
    return b''.join(mem[offsets[p] + r * strides[p]:offsets[p] + r * strides[p] + rw]
                    for p, (rw, rows) in enumerate(planes) for r in range(rows))


def hostile(conn, rnd, buf_ids):
    for _ in range(rnd.randint(0, 3)):
        kind = rnd.choice(['garbage', 'unknown', 'again', 'negative', 'beyond', 'truncated', 'fds', 'ours'])
        ret = struct.pack('<Ii', FD_COUNT, 1) + struct.pack('<Ii', RETURN_BUFFER, buf_ids[0]) + b'\0' * 36
        if kind == 'garbage':
            payload = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 80)))
        elif kind == 'unknown':
            payload = struct.pack('<Ii', FD_COUNT, 3) + struct.pack('<I3i', RETURN_BUFFER, 9999, -7, 0) + b'\0' * 28
        elif kind == 'again':
            payload = ret
        elif kind == 'negative':
            payload = struct.pack('<Ii', FD_COUNT, -3) + ret[8:]
        elif kind == 'beyond':
            payload = struct.pack('<Ii', FD_COUNT, 200) + ret[8:]
        elif kind == 'truncated':
            payload = ret[:rnd.randint(1, len(ret) - 1)]
        elif kind == 'fds':
            r, w = os.pipe()
            try:
                conn.send(struct.pack('>I', len(ret)))
                socket.send_fds(conn, [ret], [r, w])
            except OSError:
                pass
            os.close(r)
            os.close(w)
            continue
        else:
            payload = struct.pack('<II', 0x51540005, 16) + struct.pack('<IIQ', 1, 0, 12345)     # our RELEASE
        send(conn, payload)


def main():
    path = sys.argv[1]
    disconnect_after = int(sys.argv[sys.argv.index('--disconnect-after') + 1]) if '--disconnect-after' in sys.argv else -1
    rnd = random.Random(int(sys.argv[sys.argv.index('--hostile') + 1])) if '--hostile' in sys.argv else None
    if os.path.exists(path):
        os.unlink(path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    server.bind(path)
    server.listen(3)
    print('listening', flush=True)
    conn, _ = server.accept()
    cache = {}
    n = fds_received = misread = 0
    while True:
        try:
            head = conn.recv(4, socket.MSG_WAITALL)
            if len(head) == 4:
                payload, anc, _, _ = conn.recvmsg(struct.unpack('>I', head)[0], socket.CMSG_SPACE(40))
        except ConnectionResetError:
            head = b''      # a sender that closes with our returns unread resets the connection
        if len(head) < 4:
            print('sender gone', flush=True)
            break
        fds = array.array('i')
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[:len(data) - len(data) % 4])
        fds_received += len(fds)
        structs, at = [], 0
        while at + 4 <= len(payload):
            identity = struct.unpack_from('<I', payload, at)[0]
            if identity >= len(SIZES) or at + SIZES[identity] > len(payload):
                break
            structs.append((identity, payload[at:at + SIZES[identity]]))
            at += SIZES[identity]
        ids = dict(structs)
        if EOS in ids:
            print('eos', flush=True)
            break
        info = ids[BUFFER_INFO]
        buf_ids = list(struct.unpack_from('<10i', info, 4))
        pooled = struct.unpack_from('<i', info, 68)[0] != 0
        blocks = [(i, b) for i, b in structs if i in (FRAME, TENSOR, TEXT)]
        n_fds = struct.unpack_from('<i', ids[FD_COUNT], 4)[0] if FD_COUNT in ids else 0
        if n_fds and n_fds != len(blocks):
            misread += 1
        local = {}
        for i in range(min(n_fds, len(fds))):
            if pooled:
                if buf_ids[i] in cache:
                    os.close(cache[buf_ids[i]])
                cache[buf_ids[i]] = fds[i]
            local[buf_ids[i]] = fds[i]
        data, layout, visible = [], None, None
        for k, (identity, b) in enumerate(blocks):
            if identity == TEXT:
                size = struct.unpack_from('<Q', b, 1028)[0]
                data.append(b[4:4 + size])
                continue
            size, maxsize = struct.unpack_from('<QQ', b, 72 if identity == FRAME else 44)
            fd = cache.get(buf_ids[k]) if pooled else local.get(buf_ids[k])
            data.append(read_fd(fd, size, maxsize) if fd is not None else b'<no fd>')
            if identity == FRAME:
                w, h, fmt, planes = struct.unpack_from('<4I', b, 4)
                visible = visible_rows(data[-1], fmt, w, h, struct.unpack_from('<4Q', b, 20), struct.unpack_from('<4i', b, 52))
                offsets = struct.unpack_from('<4Q', b, 20)[:planes]
                strides = struct.unpack_from('<4i', b, 52)[:planes]
                layout = f'layout {fmt} {w}x{h} planes={planes} offsets={",".join(map(str, offsets))} ' \
                         f'strides={",".join(map(str, strides))} size={size}'
        if not pooled:
            for fd in fds:
                os.close(fd)
        print('frame', n, hashlib.sha1(b''.join(data)).hexdigest(), f'fds={len(fds)}', flush=True)
        if layout:
            print(layout, flush=True)
            if visible is not None:
                print('visible', hashlib.sha1(visible).hexdigest(), flush=True)
        n += 1
        count = n_fds if n_fds else len(blocks)
        ret = [buf_ids[i] if blocks[i][0] != TEXT else -1 for i in range(min(count, len(blocks)))]
        send(conn, struct.pack('<Ii', FD_COUNT, len(ret)) + struct.pack('<I', RETURN_BUFFER)
             + struct.pack(f'<{len(ret)}i', *ret) + b'\x5a' * (40 - 4 * len(ret)))
        if rnd:
            hostile(conn, rnd, buf_ids)
        if n == disconnect_after:
            send(conn, struct.pack('<I', DISCONNECT))
            print('sent disconnect', flush=True)
    print('fds received', fds_received, flush=True)
    print('cached', len(cache), flush=True)
    print('misread', misread, flush=True)
    for fd in cache.values():
        os.close(fd)
    conn.close()
    server.close()
    os.unlink(path)


if __name__ == '__main__':
    main()
