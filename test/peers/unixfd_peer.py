#!/usr/bin/env python3
"""Upstream GStreamer's unixfd wire (unixfdsink/unixfdsrc, 1.24+), written from their source
(subprojects/gst-plugins-bad/gst/unixfd: gstunixfd.[ch], gstunixfdsink.c, gstunixfdsrc.c) and
gst_meta_serialize (gstmeta.c) with GstVideoMeta's serializer (gstvideometa.c), for the tests.

The wire: a SOCK_STREAM socket; each command is an 8-byte header {u32 type; u32 payload_size}
(little-endian, the host's) sent with the fds as SCM_RIGHTS, then payload_size bytes. Types:
NEW_BUFFER 0, RELEASE_BUFFER 1, CAPS 2, EOS 3. CAPS' payload is the caps string with its NUL.
NEW_BUFFER's: {u64 id, pts, dts, duration, offset, offset_end; u32 flags; u8 type (0 default,
1 DMA-BUF); u8 n_memory; u16 n_meta} (56 bytes), {u64 size, offset} per memory (one fd each, in
order), then n_meta serialized metas: {u32 total size, u32 name length, the name, NUL, u8 version,
the body}. pts and dts are on CLOCK_MONOTONIC (running time + base time, the pipeline clock mapped
to the monotonic clock). RELEASE_BUFFER's: {u64 id}, sent by the receiver when every memory of
that buffer is freed. unixfdsink listens and serves any number of clients (a late one gets the caps
first); unixfdsrc connects, and fails at once if nobody listens.

Roles:
  sink SOCKET FORMAT WIDTH HEIGHT COUNT [--pad N] [--unsealed] [--null-caps]: listens, serves the first
    client: CAPS (with --null-caps, first the "NULL" their sink sends a client before it has caps),
    then COUNT frames of FORMAT (NV12 or I420) in memfds from a pool, sealed against shrinking as their
    shm allocator does (not with --unsealed), each stride padded by N bytes (a video meta saying so),
    each frame different (prints "raw N SHA1" of its whole memory too); reads releases; then EOS, and waits (10 s at most) until every
    frame came back. Prints "frame N SHA1" per frame (the visible image without padding),
    "released R of N".
  Both take --lie KIND: the sink tells frame 3 wrong (size: a memory beyond its fd; count: two fds for
  one memory; kind: a pipe for the memfd; meta: a meta longer than the command; release: sends
  RELEASE_BUFFER), the src releases wrong after frame 3 (unknown-id, twice, short, fds: a pipe on a
  release; caps: sends CAPS); then each waits (5 s at most) for the other end to drop the connection
  and prints "dropped" or "not dropped".
  src SOCKET: connects (retrying every 10 ms for 10 s), reads until EOS: prints "caps CAPS", and per
    buffer "frame N SHA1" (the visible image, by the video meta's layout or the caps'), releasing it
    at once; checks what it gets (fd count, spans within each fd's size, the meta's planes within the
    memory) and exits 1 naming the lie.

usage: unixfd_peer.py sink SOCKET FORMAT WIDTH HEIGHT COUNT [--pad N] [--unsealed] [--null-caps] [--lie KIND]
       unixfd_peer.py src SOCKET [--lie KIND]"""
import array
import fcntl
import hashlib
import mmap
import os
import select
import socket
import struct
import sys
import time

NEW_BUFFER, RELEASE_BUFFER, CAPS, EOS = 0, 1, 2, 3
HEADER = struct.Struct('=II')
NEW_BUFFER_FIXED = struct.Struct('=QQQQQQIBBH')
MEMORY = struct.Struct('=QQ')
NONE = 0xFFFFFFFFFFFFFFFF
VIDEO_FORMATS = {'I420': 2, 'NV12': 23}
POOL = 6


def planes(fmt, w, h):
    """(bytes per visible row, rows) of each plane"""
    if fmt == 'NV12':
        return [(w, h), (w, h // 2)]
    return [(w, h), (w // 2, h // 2), (w // 2, h // 2)]


def visible(data, fmt, w, h, offsets, strides):
    out = bytearray()
    for (row, rows), off, stride in zip(planes(fmt, w, h), offsets, strides):
        for y in range(rows):
            out += data[off + y * stride: off + y * stride + row]
    return bytes(out)


def send_command(sock, kind, payload=b'', fds=()):
    anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array('i', fds))] if fds else []
    sock.sendmsg([HEADER.pack(kind, len(payload))], anc)
    if payload:
        sock.sendall(payload)


def recv_exact(sock, n):
    out = b''
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            return None
        out += chunk
    return out


def recv_command(sock):
    """(type, payload, fds) or None if the peer closed"""
    head, anc, _, _ = sock.recvmsg(HEADER.size, socket.CMSG_SPACE(64 * 4))
    if not head:
        return None
    if len(head) < HEADER.size:
        rest = recv_exact(sock, HEADER.size - len(head))
        if rest is None:
            return None
        head += rest
    fds = []
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds += array.array('i', data[:len(data) - len(data) % 4])
    kind, size = HEADER.unpack(head)
    payload = recv_exact(sock, size) if size else b''
    if payload is None:
        return None
    return kind, payload, fds


def video_meta(fmt, w, h, offsets, strides):
    """GstVideoMeta serialized as gst_meta_serialize does (version 0)"""
    n = len(offsets)
    body = struct.pack('<iiIII', 0, VIDEO_FORMATS[fmt], w, h, n)
    body += struct.pack(f'<{n}Q', *offsets) + struct.pack(f'<{n}i', *strides)
    body += struct.pack('<IIII', 0, 0, 0, 0) + struct.pack(f'<{n}I', *([0] * n))
    name = b'GstVideoMeta'
    header_size = 8 + len(name) + 2
    return struct.pack('<II', header_size + len(body), len(name)) + name + b'\0' + bytes([0]) + body


def parse_metas(payload, at, n_meta):
    """[(name, version, body)]; raises ValueError on a malformed one"""
    metas = []
    for _ in range(n_meta):
        if at + 8 > len(payload):
            raise ValueError('meta header beyond the payload')
        total, name_len = struct.unpack_from('<II', payload, at)
        if total < 10 + name_len or at + total > len(payload) or payload[at + 8 + name_len] != 0:
            raise ValueError(f'meta of {total} bytes with a name of {name_len}')
        name = payload[at + 8: at + 8 + name_len].decode()
        version = payload[at + 9 + name_len]
        metas.append((name, version, payload[at + 10 + name_len: at + total]))
        at += total
    return metas


LIE_AT = 3


def sink_lie(sock, lie, fixed, size, meta, fd):
    """frame LIE_AT, told wrong"""
    if lie == 'size':           # a memory beyond its fd
        send_command(sock, NEW_BUFFER, fixed + MEMORY.pack(size + 4096, 0) + meta, [fd])
    elif lie == 'count':        # two fds for one memory
        send_command(sock, NEW_BUFFER, fixed + MEMORY.pack(size, 0) + meta, [fd, fd])
    elif lie == 'kind':         # an fd of the wrong kind: a pipe
        r, w = os.pipe()
        send_command(sock, NEW_BUFFER, fixed + MEMORY.pack(size, 0) + meta, [r])
        os.close(r)
        os.close(w)
    elif lie == 'meta':         # a video meta whose size says more than the command holds
        send_command(sock, NEW_BUFFER, fixed + MEMORY.pack(size, 0) + struct.pack('<I', 4000) + meta[4:], [fd])
    elif lie == 'release':      # a command only a receiver sends
        send_command(sock, RELEASE_BUFFER, struct.pack('=Q', 1000))
    else:
        sys.exit(f'unknown lie {lie}')


def run_sink(path, fmt, w, h, count, pad, unsealed, lie, null_caps=False):
    layout = []
    offset = 0
    for row, rows in planes(fmt, w, h):
        stride = row + pad
        layout.append((offset, stride))
        offset += stride * rows
    size = offset
    offsets, strides = [o for o, _ in layout], [s for _, s in layout]
    caps = f'video/x-raw, format=(string){fmt}, width=(int){w}, height=(int){h}, framerate=(fraction)30/1'

    if os.path.exists(path):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(8)
    print('listening', flush=True)
    sock, _ = listener.accept()
    if null_caps:
        # what their sink sends a client that connects before it has caps: gst_caps_to_string (NULL)
        send_command(sock, CAPS, b'NULL\0')
        time.sleep(0.5)         # its caps come when its upstream has them
    send_command(sock, CAPS, caps.encode() + b'\0')

    pool = []
    for i in range(POOL):
        fd = os.memfd_create(f'unixfd-peer-{i}', os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        os.ftruncate(fd, size)
        if not unsealed:
            fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK)   # as their gst_shm_allocator does
        pool.append((fd, mmap.mmap(fd, size)))
    free = list(range(POOL))
    out = {}          # buffer id -> pool slot
    released = 0

    def read_releases(timeout):
        nonlocal released
        while select.select([sock], [], [], timeout)[0]:
            got = recv_command(sock)
            if got is None:
                return False
            kind, payload, fds = got
            for fd in fds:
                os.close(fd)
            if kind == RELEASE_BUFFER and len(payload) >= 8:
                slot = out.pop(struct.unpack_from('=Q', payload)[0], None)
                if slot is not None:
                    free.append(slot)
                    released += 1
            timeout = 0
        return True

    base = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    for n in range(count):
        while not free:
            if not read_releases(10):
                sys.exit('receiver gone')
        slot = free.pop(0)
        fd, m = pool[slot]
        m[:] = bytes([(n * 7 + i) & 0xff for i in range(256)]) * (size // 256) + bytes((n + i) & 0xff for i in range(size % 256))
        print(f'frame {n} {hashlib.sha1(visible(m, fmt, w, h, offsets, strides)).hexdigest()}', flush=True)
        print(f'raw {n} {hashlib.sha1(m[:]).hexdigest()}', flush=True)
        meta = video_meta(fmt, w, h, offsets, strides)
        pts = base + n * 33_333_333
        fixed = NEW_BUFFER_FIXED.pack(1000 + n, pts, NONE, 33_333_333, n, n + 1, 0, 0, 1, 1)
        out[1000 + n] = slot
        if lie and n == LIE_AT:
            sink_lie(sock, lie, fixed, size, meta, fd)
            # a receiver that takes the lie for what it is closes the connection
            deadline = time.time() + 5
            while time.time() < deadline:
                if not read_releases(0.2):
                    print('dropped', flush=True)
                    break
            else:
                print('not dropped', flush=True)
            sock.close()
            listener.close()
            os.unlink(path)
            return
        send_command(sock, NEW_BUFFER, fixed + MEMORY.pack(size, 0) + meta, [fd])
        read_releases(0)
    send_command(sock, EOS)
    deadline = time.time() + 10
    while out and time.time() < deadline and read_releases(0.1):
        pass
    print(f'released {released} of {count}', flush=True)
    sock.close()
    listener.close()
    os.unlink(path)


def src_lie(sock, lie, bid):
    """after frame LIE_AT, a release told wrong"""
    if lie == 'unknown-id':     # an id it never got
        send_command(sock, RELEASE_BUFFER, struct.pack('=Q', 0xdeadbeef))
    elif lie == 'twice':        # the same buffer released twice
        send_command(sock, RELEASE_BUFFER, struct.pack('=Q', bid))
    elif lie == 'short':        # a release of 4 bytes
        send_command(sock, RELEASE_BUFFER, struct.pack('=I', 7))
    elif lie == 'fds':          # fds on a release
        r, w = os.pipe()
        send_command(sock, RELEASE_BUFFER, struct.pack('=Q', bid + 1), [r])
        os.close(r)
        os.close(w)
    elif lie == 'caps':         # a command only a sender sends
        send_command(sock, CAPS, b'video/x-raw\0')
    else:
        sys.exit(f'unknown lie {lie}')


def run_src(path, lie=None):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    deadline = time.time() + 10
    while True:
        try:
            sock.connect(path)
            break
        except OSError:
            if time.time() > deadline:
                sys.exit(f'nobody listens on {path}')
            time.sleep(0.01)
    caps = None
    n = 0
    while True:
        got = recv_command(sock)
        if got is None:
            sys.exit('sender closed before EOS')
        kind, payload, fds = got
        if kind == CAPS:
            if not payload.endswith(b'\0'):
                sys.exit('caps without their NUL')
            caps = payload[:-1].decode()
            print(f'caps {caps}', flush=True)
        elif kind == EOS:
            print('eos', flush=True)
            return
        elif kind == NEW_BUFFER:
            try:
                if len(payload) < NEW_BUFFER_FIXED.size:
                    raise ValueError('short NEW_BUFFER')
                bid, pts, dts, dur, off, off_end, flags, mtype, n_mem, n_meta = NEW_BUFFER_FIXED.unpack_from(payload)
                at = NEW_BUFFER_FIXED.size + n_mem * MEMORY.size
                if len(payload) < at or len(fds) != n_mem:
                    raise ValueError(f'{len(fds)} fds for {n_mem} memories')
                data = b''
                for i in range(n_mem):
                    msize, moff = MEMORY.unpack_from(payload, NEW_BUFFER_FIXED.size + i * MEMORY.size)
                    if moff + msize > os.fstat(fds[i]).st_size:
                        raise ValueError(f'memory {i} beyond its fd')
                    with mmap.mmap(fds[i], moff + msize, prot=mmap.PROT_READ) as m:
                        data += m[moff: moff + msize]
                vmeta = [body for name, version, body in parse_metas(payload, at, n_meta) if name == 'GstVideoMeta']
                fields = dict(x.split('=', 1) for x in caps.replace(' ', '').split(',')[1:])
                fmt = fields['format'].split(')')[-1]
                w, h = int(fields['width'].split(')')[-1]), int(fields['height'].split(')')[-1])
                if vmeta:
                    np_ = struct.unpack_from('<I', vmeta[0], 16)[0]
                    offsets = list(struct.unpack_from(f'<{np_}Q', vmeta[0], 20))
                    strides = list(struct.unpack_from(f'<{np_}i', vmeta[0], 20 + 8 * np_))
                else:
                    offsets, strides, o = [], [], 0
                    for row, rows in planes(fmt, w, h):
                        offsets.append(o)
                        strides.append(row)
                        o += row * rows
                for (row, rows), o, s in zip(planes(fmt, w, h), offsets, strides):
                    if o + s * (rows - 1) + row > len(data):
                        raise ValueError('a plane beyond the memory')
                print(f'frame {n} {hashlib.sha1(visible(data, fmt, w, h, offsets, strides)).hexdigest()}', flush=True)
                n += 1
            except ValueError as e:
                sys.exit(f'bad NEW_BUFFER: {e}')
            finally:
                for fd in fds:
                    os.close(fd)
            send_command(sock, RELEASE_BUFFER, struct.pack('=Q', bid))
            if lie and n == LIE_AT + 1:
                src_lie(sock, lie, bid)
                # a sender that takes the lie for what it is closes the connection
                deadline = time.time() + 5
                sock.settimeout(0.2)
                while time.time() < deadline:
                    try:
                        got = recv_command(sock)
                    except (socket.timeout, BlockingIOError):
                        continue
                    except ConnectionResetError:
                        got = None
                    if got is None:
                        print('dropped', flush=True)
                        return
                    for fd in got[2]:
                        os.close(fd)
                print('not dropped', flush=True)
                return
        else:
            for fd in fds:
                os.close(fd)


if __name__ == '__main__':
    lie = sys.argv[sys.argv.index('--lie') + 1] if '--lie' in sys.argv else None
    if len(sys.argv) >= 7 and sys.argv[1] == 'sink':
        pad = int(sys.argv[sys.argv.index('--pad') + 1]) if '--pad' in sys.argv else 0
        run_sink(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), pad,
                 '--unsealed' in sys.argv, lie, '--null-caps' in sys.argv)
    elif len(sys.argv) >= 3 and sys.argv[1] == 'src':
        run_src(sys.argv[2], lie)
    else:
        sys.exit(__doc__)
