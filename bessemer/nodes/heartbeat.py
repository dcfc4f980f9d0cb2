"""A node's heartbeat: its name, rate and health, published a few times a second."""

from __future__ import annotations

import json

import zmq

from bessemer import wire


class Heartbeat:
    def __init__(self, sock: zmq.Socket, sid: int, node: str) -> None:
        self.sock, self.sid, self.node = sock, sid, node
        self._seq = 0

    def send(self, **info) -> None:
        self._seq += 1
        body = json.dumps({"node": self.node, **info}).encode()
        self.sock.send_multipart([wire.header(wire.MsgType.HEARTBEAT, self.sid, self._seq), body], zmq.NOBLOCK)
