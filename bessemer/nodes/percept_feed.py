"""The perception node's percepts as the low-level node sees them, for its recorder: `bessemer run --record`
keeps what perception reported beside the ticks, as `bessemer sim --record` does for an in-process task."""

from __future__ import annotations

import zmq

from bessemer import wire
from bessemer.endpoints import Endpoints
from bessemer.nodes.subscriber import DrainToNewest


class PerceptFeed:
    """A recorder's `PerceptSource`: `poll()` takes the newest percept that arrived (percepts come at 10 Hz,
    so polling at 50 Hz misses none); `percepts` counts those taken."""

    def __init__(self, ctx: zmq.Context, endpoints: Endpoints, sid: int) -> None:
        self.sub = DrainToNewest(endpoints.connect(ctx, zmq.SUB, "percept"), sid)
        self.percepts = 0
        self.last_percept: wire.Percept | None = None

    def poll(self) -> None:
        received = self.sub.drain().get(wire.MsgType.PERCEPT)
        if received is None:
            return
        try:
            self.last_percept = wire.parse_percept(received[1])
        except wire.WireError as exc:
            self.sub.rejected[exc.reason] += 1
            return
        self.percepts += 1

    def close(self) -> None:
        self.sub.sock.close(0)
