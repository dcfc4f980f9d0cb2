"""Heartbeats: each node publishes its name, progress and health a few times a second; the low-level
node keeps the table of who is alive (a policy may drive only while its heartbeat is recent)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

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


ALIVE_WITHIN = 0.5
"""Seconds since a node's last heartbeat for it to count as alive."""


@dataclass
class NodeHealth:
    last: float = 0.0
    progress: float = 0.0
    """The node's own count of work done (targets sent, frames rendered): its rate comes from it."""
    rate_hz: float = 0.0
    latency_ms: float = 0.0
    info: dict = field(default_factory=dict)


class Heartbeats:
    """The nodes heard from, by name."""

    def __init__(self) -> None:
        self.nodes: dict[str, NodeHealth] = {}

    def record(self, stamp: float, body: bytes) -> None:
        """Take one heartbeat's body; ValueError if it is not a node's JSON."""
        try:
            info = json.loads(body)
            name = str(info["node"])
            progress = float(info.get("work", 0.0))
        except (ValueError, KeyError, TypeError):
            raise ValueError("HEARTBEAT: body is not a node's JSON") from None
        now = time.monotonic()
        node = self.nodes.setdefault(name, NodeHealth())
        if node.last and now > node.last:
            node.rate_hz = (progress - node.progress) / (now - node.last)
        node.latency_ms = (now - stamp) * 1e3
        node.info, node.progress, node.last = info, progress, now

    def alive(self, name: str) -> bool:
        node = self.nodes.get(name)
        return node is not None and time.monotonic() - node.last < ALIVE_WITHIN
