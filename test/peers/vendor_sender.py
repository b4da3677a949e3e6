#!/usr/bin/env python3
"""A sender of the vendor's wire (Qualcomm's qtisocketsink), written from ../shared/VENDOR-WIRE.md:
it connects (retrying every 10 ms), never greets (what it reads before its first buffer, e.g. a
qtisocket-ts greeting, it ignores, as the vendor's message thread does), and sends one message per
buffer: [FD_COUNT] BUFFER_INFO FRAME|TENSOR...|TEXT, each message as a big-endian length record and
a payload record carrying the fds. Memory comes from a pool of memfds: each fd crosses once, then
its buf_id (the fd number here) names it (use_buffer_pool=1); --unpooled sends every fd every time
(use_buffer_pool=0). It reads RETURN_BUFFER and gives the pool buffer back; after the last buffer
it sends EOS, waits for every buffer to come back (10 s at most) and closes. A receiver that goes
away ends it early ("receiver gone"), as theirs goes back to connecting.

Printed: "frame N SHA1" per buffer: the SHA1 of what a receiver should make of it (video: the visible
image, repacked without padding as the --as format; tensors: the blocks' bytes one after the other;
text: the bytes), then "returned R of N", "fds sent F".

usage: vendor_sender.py SOCKET video FORMAT WIDTH HEIGHT COUNT [--as FORMAT] [--unpooled] [--roi] [--unsealable]
       vendor_sender.py SOCKET tensors COUNT
       vendor_sender.py SOCKET text COUNT"""
import array
import hashlib
import os
import select
import socket
import struct
import sys
import time

from framing import send

EOS, DISCONNECT, BUFFER_INFO, FRAME, TENSOR, TEXT, RETURN_BUFFER, FD_COUNT = 0, 1, 2, 3, 4, 5, 6, 7
ROI_META = 9
SIZES = [4, 4, 72, 88, 60, 1044, 44, 8, 1044, 588, 9876, 4140]
FORMATS = {'I420': 2, 'NV12': 23}
NONE = 0xFFFFFFFFFFFFFFFF
POOL = 4


def connect(path):
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            time.sleep(0.01)


def receive(sock):
    """one message: its structs as (identity, bytes); None if the peer closed"""
    head = sock.recv(4)
    if len(head) < 4:
        return None
    payload, anc, _, _ = sock.recvmsg(struct.unpack('>I', head)[0], socket.CMSG_SPACE(40))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            for fd in array.array('i', data[:len(data) - len(data) % 4]):
                os.close(fd)
    out, at = [], 0
    while at + 4 <= len(payload):
        identity = struct.unpack_from('<I', payload, at)[0]
        if identity >= len(SIZES):
            break
        out.append((identity, payload[at:at + SIZES[identity]]))
        at += SIZES[identity]
    return out


SEALING = os.MFD_ALLOW_SEALING


def memfd(data, size):
    fd = os.memfd_create('vendor-pool', os.MFD_CLOEXEC | SEALING)
    os.ftruncate(fd, size)
    os.pwrite(fd, data, 0)
    return fd


def layout(fmt, w, h):
    """padded planes: (offsets, strides, size) with each stride 64 bytes wider than the row"""
    cw, ch = (w + 1) // 2, (h + 1) // 2
    if fmt == 'NV12':
        strides = [w + 64, 2 * cw + 64]
        rows = [h, ch]
    else:
        strides = [w + 64, cw + 64, cw + 64]
        rows = [h, ch, ch]
    offsets, at = [], 0
    for s, r in zip(strides, rows):
        offsets.append(at)
        at += s * r + 128           # and a gap between planes
    return offsets, strides, at


def picture(n, fmt, w, h):
    """frame n: its planes, tight (rows of the visible width)"""
    cw, ch = (w + 1) // 2, (h + 1) // 2
    y = bytes((x * 3 + r * 5 + n * 7) & 0xff for r in range(h) for x in range(w))
    u = bytes((x * 11 + r + n * 13) & 0xff for r in range(ch) for x in range(cw))
    v = bytes((x + r * 17 + n * 19) & 0xff for r in range(ch) for x in range(cw))
    return y, u, v


def planes_bytes(fmt, w, h, y, u, v):
    """the tight planes as the format lays them out (NV12: U and V interleaved)"""
    cw, ch = (w + 1) // 2, (h + 1) // 2
    if fmt == 'NV12':
        uv = bytearray(2 * cw * ch)
        uv[0::2], uv[1::2] = u, v
        return [y, bytes(uv)]
    return [y, u, v]


def fill(fmt, w, h, n):
    y, u, v = picture(n, fmt, w, h)
    offsets, strides, size = layout(fmt, w, h)
    data = bytearray(size)
    widths = [w, 2 * ((w + 1) // 2)] if fmt == 'NV12' else [w, (w + 1) // 2, (w + 1) // 2]
    for plane, off, stride, pw in zip(planes_bytes(fmt, w, h, y, u, v), offsets, strides, widths):
        for r in range(len(plane) // pw):
            data[off + r * stride:off + r * stride + pw] = plane[r * pw:(r + 1) * pw]
    return bytes(data), offsets, strides, size, (y, u, v)


def buffer_info(buf_ids, pts, duration, pooled):
    ids = list(buf_ids) + [0x7e7e7e7e] * (10 - len(buf_ids))     # the vendor leaves garbage there
    return struct.pack('<I10iQQQi', BUFFER_INFO, *ids, pts, NONE, duration, 1 if pooled else 0)


def roi(label, rid, box, det):
    d = det.encode() + b'\0'
    return (struct.pack('<I', ROI_META) + label.encode().ljust(32, b'\0') + struct.pack('<ii4I', rid, -1, *box)
            + d.ljust(256, b'\x55') + struct.pack('<Q', len(d)) + b'\x55' * 256 + struct.pack('<Q', 0))


class Sender:
    def __init__(self, path, pooled):
        self.sock = connect(path)
        self.pooled = pooled
        self.known = set()          # fds the receiver has (pooled)
        self.out = {}               # buf_id -> pool slot out
        self.returned = 0
        self.fds_sent = 0
        self.closed = False

    def pump(self, timeout):
        """reads what the receiver sends for at most timeout seconds: returns, greetings (ignored)"""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if not select.select([self.sock], [], [], max(left, 0))[0]:
                return
            try:
                msg = receive(self.sock)
            except ConnectionResetError:
                msg = None
            if msg is None:
                self.closed = True      # after end-of-stream the receiver stops and closes
                return
            d = dict(msg)
            if RETURN_BUFFER in d and FD_COUNT in d:
                n = struct.unpack_from('<i', d[FD_COUNT], 4)[0]
                for bid in struct.unpack_from(f'<{n}i', d[RETURN_BUFFER], 4):
                    self.out.pop(bid, None)
                self.returned += 1
            elif DISCONNECT in d:
                print('disconnect', flush=True)
            if left <= 0:
                return

    def send(self, blocks, fds, pts, duration, extra=b''):
        """blocks: struct bytes per memory block; fds: the fd of each (None for text)"""
        buf_ids = [fd if fd is not None else -1 for fd in fds]
        fresh = [fd for fd in fds if fd is not None and (not self.pooled or fd not in self.known)]
        head = struct.pack('<Ii', FD_COUNT, len(fresh)) if fresh else b''
        send(self.sock, head + buffer_info(buf_ids, pts, duration, self.pooled) + b''.join(blocks) + extra, fresh)
        self.known.update(fresh)
        self.fds_sent += len(fresh)


def video(s, fmt, w, h, count, as_fmt, with_roi):
    pool = []
    for n in range(POOL):
        data, offsets, strides, size, _ = fill(fmt, w, h, 0)
        pool.append(memfd(data, size))
    for n in range(count):
        while len(s.out) >= POOL and not s.closed:
            s.pump(0.05)
        if s.closed:
            print('receiver gone', flush=True)
            break
        fd = next(f for f in pool if f not in s.out)
        data, offsets, strides, size, (y, u, v) = fill(fmt, w, h, n)
        os.pwrite(fd, data, 0)
        s.out[fd] = n
        frame = struct.pack('<IIIII4Q4iIQQ', FRAME, w, h, FORMATS[fmt], len(offsets),
                            *(offsets + [0] * (4 - len(offsets))), *(strides + [0] * (4 - len(strides))),
                            0, size, size)
        extra = roi('face', n, (1, 2, 3, 4), 'ObjectDetection, confidence=(double)0.5;') if with_roi else b''
        try:
            s.send([frame], [fd], n * 33333333, 33333333, extra)
        except OSError:
            s.closed = True
            continue
        print('frame', n, hashlib.sha1(b''.join(planes_bytes(as_fmt, w, h, y, u, v))).hexdigest(), flush=True)
        s.pump(0)
    return pool


def tensors(s, count):
    """3 tensors per buffer: blocks 0 and 1 from a pool of pairs, block 2 from a pool of 5, so that
    a buffer often brings the fd of one block and not of the others (FD_COUNT < blocks)"""
    pairs = [(memfd(b'', 4096), memfd(b'', 1024)) for _ in range(3)]
    thirds = [memfd(b'', 256) for _ in range(5)]
    for n in range(count):
        while True:     # a free pair and a free third (the receiver's sink may hold the last buffer)
            pair = next((p for p in pairs if p[0] not in s.out), None)
            c = next((t for t in thirds if t not in s.out), None)
            if pair and c:
                break
            s.pump(0.05)
        a, b = pair
        blocks, parts = [], []
        for fd, size, dims in ((a, 4096, [1, 32, 32, 4]), (b, 1024, [1, 256, 4]), (c, 256, [1, 64])):
            data = bytes((i * 3 + n * 5 + size) & 0xff for i in range(size))
            os.pwrite(fd, data, 0)
            parts.append(data)
            blocks.append(struct.pack('<III8IQQ', TENSOR, 2, len(dims), *(dims + [0] * (8 - len(dims))), size, size))
        for fd in (a, b, c):
            s.out[fd] = n
        s.send(blocks, [a, b, c], n * 33333333, 33333333)
        print('frame', n, hashlib.sha1(b''.join(parts)).hexdigest(), flush=True)
        s.pump(0)
    return [f for p in pairs for f in p] + thirds


def text(s, count):
    for n in range(count):
        data = f'line {n}: {"x" * (n % 50)}\n'.encode()
        s.send([struct.pack('<I', TEXT) + data.ljust(1024, b'\x55') + struct.pack('<QQ', len(data), len(data))],
               [None], NONE, NONE)
        print('frame', n, hashlib.sha1(data).hexdigest(), flush=True)
        s.pump(0)
    return []


def main():
    global SEALING
    path, mode = sys.argv[1], sys.argv[2]
    if '--unsealable' in sys.argv:
        SEALING = 0     # memfds that nobody can seal (their sender takes whatever fd memory comes)
    s = Sender(path, '--unpooled' not in sys.argv)
    if mode == 'video':
        fmt, w, h, count = sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
        as_fmt = sys.argv[sys.argv.index('--as') + 1] if '--as' in sys.argv else fmt
        own = video(s, fmt, w, h, count, as_fmt, '--roi' in sys.argv)
    elif mode == 'tensors':
        count = int(sys.argv[3])
        own = tensors(s, count)
    else:
        count = int(sys.argv[3])
        own = text(s, count)
    if not s.closed:
        send(s.sock, struct.pack('<I', EOS))
    end = time.monotonic() + 10
    while s.out and not s.closed and time.monotonic() < end:
        s.pump(0.1)
    print('returned', s.returned, 'of', count if mode != 'text' else 0, flush=True)
    print('fds sent', s.fds_sent, flush=True)
    for fd in own:
        os.close(fd)
    s.sock.close()


if __name__ == '__main__':
    main()
