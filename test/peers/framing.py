"""The framing both wires share (docs/protocol.md): a big-endian u32 length record, then the payload
record carrying the fds as SCM_RIGHTS. Imported by the peers that speak it."""
import socket
import struct


def send(sock, payload, fds=(), length=None):
    """one message; `length` lies about the payload's length when given"""
    sock.send(struct.pack('>I', len(payload) if length is None else length))
    if fds:
        socket.send_fds(sock, [payload], list(fds))
    else:
        sock.send(payload)
