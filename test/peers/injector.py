#!/usr/bin/env python3
"""A hostile sender for a live qtisocketsrc, written from docs/protocol.md: each case connects, greets
(or not), sends one crafted message with SCM_RIGHTS, then a valid "canary" buffer (GRAY8 8x8, every
byte the canary's number) on the same connection, or on a new one if the receiver hung up. It never
reads the receiver's releases. When every case is done it prints "sent all", waits for a line on
stdin (the caller counts the receiver's fds meanwhile), sends end-of-stream and exits.

Printed, in order: "case NAME" per case, "arrives NAME" for the cases whose message is valid and must
arrive as a frame (its bytes are the canary number too), "canary K", and what it saw
("shrink refused: ..." when the receiver sealed a memfd before we could shrink it).

With --random COUNT SEED it sends COUNT randomly damaged valid messages instead, with random fds (a
sealed memfd, none, two, a pipe, an unsealable memfd), now and then a broken length record, then the
canary 200, "sent all", and end-of-stream after a line on stdin.

With --cached it greets as protocol 1.2, whose receivers cache fds by the sender's ids: the canaries
send their memfd with a new id (and make the receiver forget the previous one), and the cases are
lies about the cache (ids never sent, forgotten, 0, too many; an FDS item that does not match the
fds; a pipe or a too-small memfd cached, then named again). With --random, the damaged messages carry
FDS and FORGET items too.

With --vendor it speaks the vendor's wire instead (no greeting; canaries not pooled, so their fd comes
every time), and the cases are lies in their structs (missing, truncated, counts, sizes, fds).

usage: injector.py SOCKET [--cached | --vendor] [--random COUNT SEED]"""
import fcntl
import os
import random
import socket
import struct
import sys
import time

from framing import send

QT = 0x51540000
HELLO, CAPS, BUFFER, VIDEO_META, ROI_META, DATA = QT | 1, QT | 2, QT | 3, QT | 4, QT | 6, QT | 7
FDS, FORGET = QT | 8, QT | 9
# the vendor's wire (../shared/VENDOR-WIRE.md)
V_EOS, V_BUFFER_INFO, V_FRAME, V_TEXT, V_FD_COUNT, V_ROI = 0, 2, 3, 5, 7, 9
GRAY8 = 25
EOS = 0
NONE = 0xFFFFFFFFFFFFFFFF
CAPS_GRAY8 = b'video/x-raw, format=(string)GRAY8, width=(int)8, height=(int)8, framerate=(fraction)30/1'
SIZE = 64
next_id = 0
# the cases that break the framing: the receiver hangs up on them
HANG_UP = {'length-record-lies', 'fds-on-length-record', 'huge-length'}


def item(identity, body):
    return struct.pack('<II', identity, len(body)) + body + b'\0' * ((-len(body)) % 4)


def memfd(byte, size=SIZE, sealing=True, seal=True):
    fd = os.memfd_create('injector', os.MFD_CLOEXEC | (os.MFD_ALLOW_SEALING if sealing else 0))
    os.write(fd, bytes([byte]) * size)
    if seal:
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW)
    return fd


def buffer_item(memories, n_mem=None):
    """memories: (fd index, kind, offset, size, maxsize)"""
    global next_id
    next_id += 1
    header = struct.pack('<QQQQQQIIQQQ', next_id, NONE, NONE, NONE, NONE, NONE, 0,
                         len(memories) if n_mem is None else n_mem, NONE, NONE, NONE)
    return item(BUFFER, header + b''.join(struct.pack('<IIQQQ', *m) for m in memories))


def one_memory(size=SIZE, maxsize=SIZE, offset=0, index=0, kind=1):
    return buffer_item([(index, kind, offset, size, maxsize)])


def ids(*xs):
    return b''.join(struct.pack('<I', x) for x in xs)


def v_info(buf_ids, pooled=0, pts=NONE):
    ids_ = list(buf_ids) + [0] * (10 - len(buf_ids))
    return struct.pack('<I10iQQQi', V_BUFFER_INFO, *ids_, pts, NONE, NONE, pooled)


def v_frame(w=8, h=8, fmt=GRAY8, planes=1, offsets=(0,), strides=(8,), size=SIZE, maxsize=SIZE):
    offs = list(offsets) + [0] * (4 - len(offsets))
    strs = list(strides) + [0] * (4 - len(strides))
    return struct.pack('<IIIII4Q4iIQQ', V_FRAME, w, h, fmt, planes, *offs, *strs, 0, size, maxsize)


def v_fd_count(n):
    return struct.pack('<Ii', V_FD_COUNT, n)


def v_roi(label=b'face'):
    det = b'ObjectDetection, confidence=(double)0.5;\0'
    return (struct.pack('<I', V_ROI) + label.ljust(32, b'\0') + struct.pack('<ii4I', 1, -1, 0, 0, 4, 4)
            + det.ljust(256, b'\0') + struct.pack('<Q', len(det)) + b'\0' * 256 + struct.pack('<Q', 0))


class Connection:
    def __init__(self, path, greet=True, minor=1):
        self.path = path
        self.minor = minor
        self.cached = minor != 'vendor' and minor >= 2
        self.next_id = 1000
        self.last_id = None
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.connect(path)
        self.sock.settimeout(10)
        self.sock.recv(4)
        self.sock.recv(4096)      # the receiver's HELLO
        self.caps_sent = False
        self.vendor = minor == 'vendor'
        if self.vendor:
            return      # the vendor's sender greets nobody
        if greet:
            send(self.sock, item(HELLO, struct.pack('<HHI', 1, minor, 0) + b'injector.py'))

    def frame(self, byte, extra=b''):
        """a valid buffer whose bytes are all `byte`; cached (1.2): its memfd under a new id, and the
        previous canary's id forgotten"""
        fd = memfd(byte)
        caps = b'' if self.caps_sent else item(CAPS, CAPS_GRAY8)
        self.caps_sent = True
        if self.vendor:     # not pooled: its fd comes every time
            send(self.sock, v_fd_count(1) + v_info([fd]) + v_frame(), [fd])
        elif self.cached:
            self.next_id += 1
            old = [self.last_id] if self.last_id else []
            send(self.sock, caps + one_memory(index=self.next_id) + extra + item(FDS, ids(self.next_id))
                 + (item(FORGET, ids(*old)) if old else b''), [fd])
            self.last_id = self.next_id
        else:
            send(self.sock, caps + one_memory() + extra, [fd])
        os.close(fd)

    def hung_up(self, within):
        """whether the receiver closes the connection within `within` seconds (its releases are read
        and dropped meanwhile)"""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.001))
            try:
                if self.sock.recv(65536) == b'':
                    return True
            except socket.timeout:
                break
            except OSError:
                return True
        self.sock.settimeout(10)
        return False

    def close(self):
        self.sock.close()

    def reconnect(self):
        """a new connection in place of this one, which the receiver hung up"""
        self.close()
        return Connection(self.path, minor=self.minor)


def cases(conn):
    """each yields after sending its crafted message; returns whether a frame arrives from it"""
    s = conn.sock
    pipe_r, pipe_w = os.pipe()
    other, _ = socket.socketpair()
    directory = os.open('/tmp', os.O_RDONLY | os.O_DIRECTORY)
    fd = memfd(1)
    return {
        'garbage': lambda: send(s, bytes(random.Random(1).randrange(256) for _ in range(100))),
        'unknown-vendor-item': lambda: send(s, struct.pack('<I', 11) + b'\0' * 40),
        'bad-hello': lambda: send(s, item(HELLO, b'\1')),
        'bad-caps': lambda: send(s, item(CAPS, b'not caps at all !!') + one_memory(), [fd]),
        'caps-not-utf8': lambda: send(s, item(CAPS, b'\xff\xfe') + one_memory(), [fd]),
        'buffer-without-memory-header': lambda: send(s, item(BUFFER, b'\0' * 20)),
        'too-few-fds': lambda: send(s, buffer_item([(0, 1, 0, SIZE, SIZE), (1, 1, 0, SIZE, SIZE)]), [fd]),
        'no-fd-at-all': lambda: send(s, one_memory()),
        'memory-count-lies': lambda: send(s, buffer_item([(0, 1, 0, SIZE, SIZE)], n_mem=40), [fd]),
        'too-many-memories': lambda: send(s, buffer_item([(0, 1, 0, 1, SIZE)] * 65), [fd]),
        'unknown-memory-kind': lambda: send(s, one_memory(kind=9), [fd]),
        'pipe-fd': lambda: send(s, one_memory(), [pipe_r]),
        'socket-fd': lambda: send(s, one_memory(), [other.fileno()]),
        'directory-fd': lambda: send(s, one_memory(), [directory]),
        'beyond-the-fd': lambda: send(s, one_memory(maxsize=1 << 20, size=1 << 20), [fd]),
        'offset-overflow': lambda: send(s, one_memory(offset=NONE - 8, size=64), [fd]),
        'size-overflow': lambda: send(s, one_memory(size=NONE, maxsize=SIZE), [fd]),
        'unsealable-memfd': lambda: send(s, one_memory(), [memfd(1, sealing=False, seal=False)]),
        'video-meta-planes': lambda: send(s, one_memory() + item(VIDEO_META, struct.pack('<6I', 25, 8, 8, 7, 0, 0)
                                                                   + b'\0' * 48), [fd]),
        'video-meta-beyond': lambda: send(s, one_memory() + item(VIDEO_META, struct.pack('<6I', 2, 64, 64, 3, 0, 0)
                                                                   + struct.pack('<4Q4i', 0, 16, 32, 0, 64, 32, 32, 0)),
                                          [fd]),
        'video-meta-format': lambda: send(s, one_memory() + item(VIDEO_META, struct.pack('<6I', 9999, 8, 8, 1, 0, 0)
                                                                   + struct.pack('<4Q4i', 0, 0, 0, 0, 8, 0, 0, 0)),
                                          [fd]),
        'video-meta-short': lambda: send(s, one_memory() + item(VIDEO_META, b'\0' * 8), [fd]),
        'roi-type-beyond': lambda: send(s, one_memory() + item(ROI_META, struct.pack('<iiIIIIII', 1, -1, 0, 0, 8, 8,
                                                                                       1000, 0)), [fd]),
        'roi-not-utf8': lambda: send(s, one_memory() + item(ROI_META, struct.pack('<iiIIIIII', 1, -1, 0, 0, 8, 8, 2, 0)
                                                              + b'\xff\xfe\0\0'), [fd]),
        'inline-mismatch': lambda: send(s, one_memory(kind=3, size=10, maxsize=10) + item(DATA, b'12345')),
        'item-length-lies': lambda: send(s, struct.pack('<II', CAPS, 1 << 30) + b'abcd'),
        # framing: the receiver hangs up on these
        'length-record-lies': lambda: send(s, one_memory(), [fd], length=999),
        'fds-on-length-record': lambda: (socket.send_fds(s, [struct.pack('>I', 4)], [fd]), s.send(b'\0' * 4)),
        'huge-length': lambda: send(s, b'\0' * 8, length=0x7fffffff),
    }, (pipe_r, pipe_w, directory, fd, other)


def cached_cases(conn):
    """lies about the fd cache (1.2); each yields after sending its crafted message"""
    s = conn.sock
    pipe_r, pipe_w = os.pipe()
    fd = memfd(1)

    def overflow():
        # 17 messages of 64 fds, each cached under its own id: the 1025th is one too many. Each message
        # names an id that is not cached, so that none makes a frame.
        for k in range(17):
            first = 10000 + 64 * k
            send(s, buffer_item([(99999, 1, 0, SIZE, SIZE)]) + item(FDS, ids(*range(first, first + 64))), [fd] * 64)
    return {
        'cached-unknown-id': lambda: send(s, one_memory(index=77)),
        'cached-fds-count': lambda: send(s, one_memory(index=501) + item(FDS, ids(501, 502)), [fd]),
        'cached-id-zero': lambda: send(s, one_memory(index=0) + item(FDS, ids(0)), [fd]),
        'cached-forgotten': lambda: send(s, one_memory(index=conn.last_id) + item(FORGET, ids(conn.last_id))),
        'cached-pipe': lambda: send(s, one_memory(index=601) + item(FDS, ids(601)), [pipe_r]),
        'cached-pipe-again': lambda: send(s, one_memory(index=601)),
        'cached-beyond': lambda: send(s, one_memory(index=701, maxsize=1 << 20, size=1 << 20) + item(FDS, ids(701)),
                                      [fd]),
        'cached-overflow': overflow,
    }, (pipe_r, pipe_w, fd)


def vendor_cases(conn):
    """lies on the vendor's wire; each yields after sending its crafted message"""
    s = conn.sock
    pipe_r, pipe_w = os.pipe()
    fd = memfd(1)
    return {
        'vendor-no-info': lambda: send(s, v_frame()),
        'vendor-no-block': lambda: send(s, v_info([-1])),
        'vendor-truncated': lambda: send(s, v_fd_count(1) + v_info([fd])[:40], [fd]),
        'vendor-planes': lambda: send(s, v_fd_count(1) + v_info([fd]) + v_frame(planes=9), [fd]),
        'vendor-text-long': lambda: send(s, v_info([-1]) + struct.pack('<I', V_TEXT) + b'x' * 1024
                                         + struct.pack('<QQ', 5000, 5000)),
        'vendor-fd-count': lambda: send(s, v_fd_count(-5) + v_info([fd]) + v_frame(), [fd]),
        'vendor-fds-mismatch': lambda: send(s, v_fd_count(2) + v_info([fd]) + v_frame(), [fd, fd]),
        'vendor-unknown-id': lambda: send(s, v_info([77], pooled=1) + v_frame()),
        'vendor-beyond': lambda: send(s, v_fd_count(1) + v_info([fd]) + v_frame(size=1 << 20, maxsize=1 << 20), [fd]),
        'vendor-pipe': lambda: send(s, v_fd_count(1) + v_info([pipe_r]) + v_frame(), [pipe_r]),
        'vendor-meta-beyond': lambda: send(s, v_fd_count(1) + v_info([fd]) + v_frame(strides=(64,)), [fd]),
    }, (pipe_r, pipe_w, fd)


def finish(conn):
    """says "sent all", and sends end-of-stream once told to (a line on stdin)"""
    print('sent all', flush=True)
    sys.stdin.readline()
    send(conn.sock, struct.pack('<I', EOS))
    time.sleep(0.2)
    conn.close()


def random_messages(path, count, seed, minor):
    """count valid messages (caps, a buffer, video meta, a region of interest; cached: the ids of its
    fds, and ids to forget), each with 1 to 4 bytes changed or cut short, sent with a random choice of
    fds; now and then a broken length record"""
    rnd = random.Random(seed)
    conn = Connection(path, minor=minor)
    conn.frame(100)
    print('canary 100', flush=True)
    meta = item(VIDEO_META, struct.pack('<6I', 25, 8, 8, 1, 0, 0) + struct.pack('<4Q4i', 0, 0, 0, 0, 8, 0, 0, 0))
    roi = item(ROI_META, struct.pack('<iiIIIIII', 1, -1, 0, 0, 4, 4, 4, 1) + b'face'
               + struct.pack('<I', 12) + b'detection, x')
    hangups = 0
    for i in range(count):
        kind = rnd.choice(['memfd', 'memfd', 'none', 'two', 'pipe', 'unsealable'])
        fds = {'memfd': lambda: [memfd(1)], 'none': lambda: [], 'two': lambda: [memfd(1), memfd(2)],
               'pipe': lambda: list(os.pipe()), 'unsealable': lambda: [memfd(1, sealing=False, seal=False)]}[kind]()
        if conn.vendor:
            pooled = rnd.random() < 0.5
            bids = [rnd.randint(3, 40) for _ in range(max(len(fds), 1))]
            payload = bytearray((v_fd_count(len(fds)) if fds else b'') + v_info(bids, pooled=int(pooled))
                                + v_frame() + (v_roi() if rnd.random() < 0.5 else b''))
        elif conn.cached:
            # ids from a small set, so that entries are named, replaced and forgotten again and again
            fd_ids = [rnd.randint(1, 20) for _ in fds]
            cache = (item(FDS, ids(*fd_ids)) if fds else b'') + \
                (item(FORGET, ids(*[rnd.randint(1, 20) for _ in range(rnd.randint(1, 3))])) if rnd.random() < 0.3 else b'')
            payload = bytearray(item(CAPS, CAPS_GRAY8) + one_memory(index=rnd.randint(1, 20)) + meta + roi + cache)
        else:
            payload = bytearray(item(CAPS, CAPS_GRAY8) + one_memory() + meta + roi)
        if rnd.random() < 0.2:
            payload = payload[:rnd.randrange(1, len(payload))]
        for _ in range(rnd.randint(1, 4)):
            payload[rnd.randrange(len(payload))] = rnd.choice([0, 0xff, rnd.randrange(256)])
        if bytes(payload[:4]) == b'\0\0\0\0':
            payload[0] = 1      # an end-of-stream (identity 0 first, the rest ignored) would end the stream
        try:
            send(conn.sock, bytes(payload), fds, length=len(payload) + 4 if rnd.random() < 0.02 else None)
        except OSError:
            pass
        for f in fds:
            os.close(f)
        if i % 50 == 49 or rnd.random() < 0.03:
            if conn.hung_up(0.05):
                hangups += 1
                conn = conn.reconnect()
    if conn.hung_up(0.3):
        hangups += 1
        conn = conn.reconnect()
    if conn.cached or conn.vendor:
        conn = conn.reconnect()     # damaged ids may be anything: the receiver forgets them all
    conn.frame(200)
    print('canary 200', flush=True)
    print('hang-ups', hangups, flush=True)
    finish(conn)


def main():
    path = sys.argv[1]
    if '--random' in sys.argv:
        i = sys.argv.index('--random')
        return random_messages(path, int(sys.argv[i + 1]), int(sys.argv[i + 2]),
                               'vendor' if '--vendor' in sys.argv else 2 if '--cached' in sys.argv else 1)
    canary = 0
    minor = 'vendor' if '--vendor' in sys.argv else 2 if '--cached' in sys.argv else 1
    conn = Connection(path, minor=minor)
    conn.frame(100)          # the first frame brings the caps
    print('canary 100', flush=True)
    if minor == 'vendor' or minor >= 2:
        table = vendor_cases(conn) if minor == 'vendor' else cached_cases(conn)
        for name in table[0]:
            print('case', name, flush=True)
            table[0][name]()
            if name == 'cached-overflow':
                conn = conn.reconnect()     # the receiver forgets every fd we made it cache
            canary += 1
            conn.frame(canary)
            print('canary', canary, flush=True)
        for f in table[1]:
            os.close(f)
        return finish(conn)
    names = list(cases(conn)[0].keys())
    for name in ['no-greeting'] + names + ['too-many-fds', 'shrink-after-send']:
        print('case', name, flush=True)
        if name == 'no-greeting':
            conn.close()     # the receiver serves one sender at a time: make way
            bad = Connection(path, greet=False)
            send(bad.sock, one_memory(), [memfd(1)])
            if bad.hung_up(5):
                print('hung up', name, flush=True)
            bad.close()
            conn = Connection(path)
        elif name == 'too-many-fds':
            fds = [memfd(150)] + [memfd(1) for _ in range(5)]
            send(conn.sock, one_memory(), fds)
            print('arrives', name, flush=True)
            for f in fds:
                os.close(f)
        elif name == 'shrink-after-send':
            f = memfd(151, seal=False)
            send(conn.sock, one_memory(), [f])
            print('arrives', name, flush=True)
            time.sleep(0.3)
            try:
                os.ftruncate(f, 0)
                print('shrink accepted: the memory could vanish under the receiver', flush=True)
            except PermissionError:
                print('shrink refused: sealed by the receiver', flush=True)
            os.close(f)
        else:
            table, own = cases(conn)
            table[name]()
            for f in own:
                if isinstance(f, int):
                    os.close(f)
                else:
                    f.close()
        if name != 'no-greeting' and conn.hung_up(5 if name in HANG_UP else 0.2):
            print('hung up', name, flush=True)
            conn = conn.reconnect()
        canary += 1
        conn.frame(canary)
        print('canary', canary, flush=True)
    finish(conn)


if __name__ == '__main__':
    main()
