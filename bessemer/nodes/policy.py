"""The policy node: any `Policy` at its own rate, fed the newest state, sending targets with deadlines.

A target's deadline is a few policy periods ahead: if this process dies or stalls, the low-level
loop sees its targets expire and damps. Perception is optional: without fresh percepts, or with
percepts whose inputs are flagged, the node keeps running and reports itself degraded; a policy that
uses percepts (`PerceivingPolicy`) gets each one as it arrives.
"""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

import numpy as np
import zmq

from bessemer import wire
from bessemer.endpoints import Endpoints
from bessemer.nodes.heartbeat import Heartbeat
from bessemer.nodes.subscriber import DrainToNewest, NewestOnly
from policies.interface import Policy
from robots.interface import RobotState

DEADLINE_PERIODS = 2.5
STATE_FRESH = 0.1
PERCEPTION_FRESH = 1.0


@runtime_checkable
class PerceivingPolicy(Protocol):
    """A policy that steers by what perception reports (e.g. a heading controller over the walk)."""

    def perceive(self, percept: wire.Percept) -> None: ...


POLICY_STATE = 200
"""The policy's clock stands at zero until the FSM hands it the robot, so the targets waiting at the
hand-over are those of its first instant and its motion starts from rest."""


class PolicyNode:
    def __init__(self, policy: Policy, endpoints: Endpoints, ctx: zmq.Context | None = None,
                 deadline: float | None = None) -> None:
        self.policy = policy
        self.sid = wire.stack_id(endpoints.stack)
        self.ctx = ctx or zmq.Context.instance()
        self.state_in = NewestOnly(endpoints.connect(self.ctx, zmq.SUB, "state", latest_only=True), self.sid,
                                   wire.MsgType.STATE)
        self.percept_in = DrainToNewest(endpoints.connect(self.ctx, zmq.SUB, "percept"), self.sid)
        self.targets_out = endpoints.connect(self.ctx, zmq.PUB, "targets")
        self.heartbeat = Heartbeat(endpoints.connect(self.ctx, zmq.PUB, "heartbeat"), self.sid, "policy")
        self.state = RobotState(wire.NUM_MOTORS)
        self.targets = np.zeros((6, wire.NUM_MOTORS))
        self.period = 1.0 / policy.rate_hz
        self.deadline = DEADLINE_PERIODS * self.period if deadline is None else deadline
        """Seconds each target stays valid: how long the robot waits for this process before it damps."""
        self.sent = 0
        self._seq = 0
        self._state_at = -np.inf
        self._percept_at = -np.inf
        self.percept: wire.Percept | None = None
        self._t0 = time.monotonic()

    @property
    def degraded(self) -> bool:
        stale = time.monotonic() - self._percept_at > PERCEPTION_FRESH
        return stale or self.percept is None or self.percept.degraded

    @property
    def degraded_reason(self) -> str:
        if time.monotonic() - self._percept_at > PERCEPTION_FRESH:
            return f"no percept for over {PERCEPTION_FRESH:g} s: is the perception node running?"
        return self.percept.reasons if self.percept is not None and self.percept.degraded else ""

    def tick(self, k: int) -> bool:
        now = time.monotonic()
        newest = self.state_in.take()
        if newest is not None:
            h, body = newest
            fsm_id, _, _, values = wire.parse_state(body)
            self.state.values[:] = values
            self._state_at = h.stamp
            if fsm_id != POLICY_STATE:
                self._t0 = now
        received = self.percept_in.drain().get(wire.MsgType.PERCEPT)
        if received is not None:
            try:
                self.percept = wire.parse_percept(received[1])
            except wire.WireError as exc:
                self.percept_in.rejected[exc.reason] += 1
            else:
                self._percept_at = now
                if isinstance(self.policy, PerceivingPolicy):
                    self.policy.perceive(self.percept)
        if now - self._state_at < STATE_FRESH:
            self.policy.act(self.state, now - self._t0, self.targets)
            self._seq += 1
            deadline = time.monotonic() + self.deadline
            self.targets_out.send_multipart(wire.targets_frames(self.sid, self._seq, deadline, self.targets), zmq.NOBLOCK)
            self.sent += 1
        if k % 5 == 0:
            self.heartbeat.send(work=self.sent, policy=self.policy.name, degraded=self.degraded,
                                reason=self.degraded_reason)
        return True

    def close(self) -> None:
        for sock in (self.state_in.sock, self.percept_in.sock, self.targets_out, self.heartbeat.sock):
            sock.close(0)
