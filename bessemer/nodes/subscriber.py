"""Latest-only reception, so a slow subscriber never works through a backlog.

`NewestOnly` is a conflated SUB for single-frame streams (state, simulated pose): ZMQ keeps only the
newest message and its I/O thread keeps reading, so not even the kernel's buffers hold old ones.
`DrainToNewest` empties a SUB of multipart messages (images) and keeps the newest of each type.
`InOrder` hands over every message of one type, oldest first, up to a short backlog: for a consumer
that counts frames (a ball tracker's window holds one detection per camera frame).
"""

from __future__ import annotations

from collections import Counter

import zmq

from bessemer import wire


class NewestOnly:
    def __init__(self, sock: zmq.Socket, sid: int, kind: wire.MsgType) -> None:
        self.sock, self.sid, self.kind = sock, sid, kind
        self.rejected: Counter[str] = Counter()

    def take(self) -> tuple[wire.Header, memoryview] | None:
        """The newest message if one arrived since the last call, else None."""
        if not self.sock.poll(0):
            return None
        frame = self.sock.recv(zmq.NOBLOCK)
        try:
            return wire.decode_single(frame, self.sid, self.kind)
        except wire.WireError as exc:
            self.rejected[exc.reason] += 1
            return None


class DrainToNewest:
    def __init__(self, sock: zmq.Socket, sid: int) -> None:
        sock.rcvhwm = 4
        sock.subscribe(b"")
        self.sock = sock
        self.sid = sid
        self.rejected: Counter[str] = Counter()

    def drain(self) -> dict[wire.MsgType, tuple[wire.Header, list[bytes]]]:
        newest: dict[wire.MsgType, tuple[wire.Header, list[bytes]]] = {}
        while self.sock.poll(0):
            frames = self.sock.recv_multipart(zmq.NOBLOCK)
            try:
                h = wire.decode(frames, self.sid)
            except wire.WireError as exc:
                self.rejected[exc.reason] += 1
                continue
            newest[h.type] = (h, frames)
        return newest


class InOrder:
    def __init__(self, sock: zmq.Socket, sid: int, kind: wire.MsgType, backlog: int = 8) -> None:
        sock.rcvhwm = backlog
        sock.subscribe(b"")
        self.sock, self.sid, self.kind = sock, sid, kind
        self.rejected: Counter[str] = Counter()

    def drain(self) -> list[tuple[wire.Header, list[bytes]]]:
        """Every valid message of the type that arrived since the last call, oldest first."""
        got = []
        while self.sock.poll(0):
            frames = self.sock.recv_multipart(zmq.NOBLOCK)
            try:
                got.append((wire.decode(frames, self.sid, self.kind), frames))
            except wire.WireError as exc:
                self.rejected[exc.reason] += 1
        return got
