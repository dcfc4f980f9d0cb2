"""The low-level node: the 500 Hz loop, FSM and robot backend, serving the rest of the stack over ZMQ.

Each tick it drains what arrived (policy targets, heartbeats, one control request), runs the
controller, and publishes the state. Targets are taken newest-first by sequence number; ones past
their deadline are never applied and, in state 200, leave the policy's seat empty: a fault, damp.
Everything that fails to decode is rejected and counted by reason; the loop never waits on a
socket, so no other process can stall it. The policy node's heartbeat tells the FSM whether its
policy can stand still and whether it stands; the state carries the FSM's request that it stop.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable

import numpy as np
import zmq

from bessemer import wire
from bessemer.endpoints import Endpoints, start_authenticator
from bessemer.nodes.heartbeat import Heartbeats
from bessemer.runtime.low_level import LowLevel
from control.fsm import parse_state_id

MAX_TASK_REPORT = 1024
"""Bytes of JSON a node's task report may take in the status (which must fit one message)."""
SIM_POSE_EVERY = 16
"""Ticks between simulated poses for the perception node (about 30 Hz)."""


class LowLevelNode:
    def __init__(self, low: LowLevel, endpoints: Endpoints, heartbeats: Heartbeats,
                 sim_pose: Callable[[], np.ndarray] | None = None, ctx: zmq.Context | None = None) -> None:
        """`stack` seats its policy by `heartbeats`; `sim_pose` (a simulated robot's qpos) feeds the
        perception node's simulated head."""
        if low.policy is None:
            raise ValueError("the low-level node's stack must seat a policy (policy_alive from its heartbeats)")
        endpoints.check()
        self.low = low
        self.endpoints = endpoints
        self.sid = wire.stack_id(endpoints.stack)
        self.ctx = ctx or zmq.Context.instance()
        self._auth = start_authenticator(self.ctx, endpoints)
        self.state_pub = endpoints.bind(self.ctx, zmq.PUB, "state")
        self.state_pub.sndhwm = 4
        self.targets_sub = endpoints.bind(self.ctx, zmq.SUB, "targets")
        self.targets_sub.subscribe(b"")
        self.control = endpoints.bind(self.ctx, zmq.REP, "control")
        self.heartbeat_sub = endpoints.bind(self.ctx, zmq.SUB, "heartbeat")
        self.heartbeat_sub.subscribe(b"")
        self.sim_pose = sim_pose
        self.pose_pub = endpoints.bind(self.ctx, zmq.PUB, "pose") if sim_pose is not None else None
        self.targets = low.policy.targets
        self.heartbeats = heartbeats
        self.rejected: Counter[str] = Counter()
        self.expired = 0
        self._seq = 0
        self._fsm_state = low.fsm.state
        self.state_since = time.monotonic()
        """When the FSM entered its current state (CLOCK_MONOTONIC, comparable across processes)."""

    def tick(self, k: int) -> bool:
        self._drain_targets()
        self._drain_heartbeats()
        if self.control.poll(0):
            self._serve_control()
        self.low.tick()
        if self.low.fsm.state != self._fsm_state:
            self._fsm_state, self.state_since = self.low.fsm.state, time.monotonic()
        self._publish_state(k)
        return True

    def _drain_targets(self) -> None:
        sock = self.targets_sub
        while sock.poll(0):
            frames = sock.recv_multipart(zmq.NOBLOCK)
            try:
                h = wire.decode(frames, self.sid, wire.MsgType.TARGETS)
            except wire.WireError as exc:
                self.rejected[exc.reason] += 1
                continue
            if h.deadline <= time.monotonic():
                self.expired += 1
                continue
            self.targets.offer(h.seq, h.deadline, wire.array(frames[1], self.targets.values.shape))

    def _drain_heartbeats(self) -> None:
        sock = self.heartbeat_sub
        heard = False
        while sock.poll(0):
            frames = sock.recv_multipart(zmq.NOBLOCK)
            try:
                h = wire.decode(frames, self.sid, wire.MsgType.HEARTBEAT)
                self.heartbeats.record(h.stamp, frames[1])
                heard = True
            except wire.WireError as exc:
                self.rejected[exc.reason] += 1
            except ValueError as exc:
                self.rejected[str(exc)] += 1
        if heard and (policy := self.heartbeats.nodes.get("policy")) is not None:
            self._seat_policy(policy.info)

    def _seat_policy(self, info: dict) -> None:
        """What the policy's heartbeat says of stopping, taken as each arrives, not every tick. A policy
        gone silent since leaves its seat empty (the robot damps), and the FSM's wait for a stop is
        bounded anyway (`MoveLimits.policy_stop`)."""
        self.low.policy.stands_still = info.get("stands_still") is True
        self.low.policy.standing = info.get("standing") is True

    def _serve_control(self) -> None:
        frames = self.control.recv_multipart(zmq.NOBLOCK)
        try:
            h = wire.parse_header(frames, self.sid)
            wire.check_frames(h.type, frames)
        except wire.WireError as exc:
            self.rejected[exc.reason] += 1
            self.control.send_multipart([wire.header(wire.MsgType.STATUS_REPLY, self.sid, 0),
                                         json.dumps({"error": str(exc), "stack": self.endpoints.stack}).encode()])
            return
        if h.type == wire.MsgType.FSM_REQUEST:
            (target,) = wire.FSM_REQUEST.unpack(frames[1])
            try:
                result = self.low.fsm.request(parse_state_id(target))
                accepted, message = result.accepted, result.message
            except ValueError as exc:
                accepted, message = False, str(exc)
            reply = [wire.header(wire.MsgType.FSM_REPLY, self.sid, h.seq),
                     wire.FSM_REPLY.pack(int(self.low.fsm.state), accepted), message.encode()[: wire.MAX_TEXT]]
        else:
            reply = [wire.header(wire.MsgType.STATUS_REPLY, self.sid, h.seq),
                     json.dumps(self.status()).encode()[: wire.MAX_TEXT]]
        self.control.send_multipart(reply)

    def _publish_state(self, k: int) -> None:
        low = self.low
        state = low.controller.state
        fsm = low.fsm
        self._seq += 1
        self.state_pub.send(
            wire.state_message(self.sid, self._seq, int(fsm.state), fsm.fault is not None, state.tick, state.values,
                               low.policy.stop_requested), zmq.NOBLOCK)
        if self.pose_pub is not None and k % SIM_POSE_EVERY == 0:
            self.pose_pub.send(wire.pose_message(self.sid, self._seq, self.sim_pose()), zmq.NOBLOCK)

    def status(self) -> dict:
        low, fsm = self.low, self.low.fsm
        timing = low.loop.timing.summary(last=2500)
        now = time.monotonic()
        return {
            "stack": self.endpoints.stack,
            "fsm": {"state": int(fsm.state), "name": fsm.state.name.lower(), "fault": fsm.fault,
                    "pose_reached": fsm.pose_reached, "since": self.state_since,
                    "last_fault": fsm.last_fault, "faults": fsm.faults, "policy_allowed": fsm.policy_alive},
            "loop": {"ticks": timing.ticks, "rate_hz": timing.rate_hz, "period_error_p99_us": timing.period_error_p99_us,
                     "missed_deadlines": timing.missed_deadlines, "compute_p99_us": timing.compute_p99_us},
            "targets": {"received": self.targets.received, "expired": self.expired,
                        "non_finite": self.targets.non_finite, "fresh": self.targets.fresh()},
            "rejected": dict(self.rejected),
            "nodes": {name: {"rate_hz": round(n.rate_hz, 1), "latency_ms": round(n.latency_ms, 2),
                             "age_s": round(now - n.last, 3), "degraded": bool(n.info.get("degraded", False)),
                             "reason": str(n.info.get("reason", ""))[:200],
                             **_task_of(n.info)}
                      for name, n in self.heartbeats.nodes.items()},
        }

    def close(self) -> None:
        for sock in (self.state_pub, self.targets_sub, self.control, self.heartbeat_sub, self.pose_pub):
            if sock is not None:
                sock.close(0)
        if self._auth is not None:
            self._auth.stop()


def _task_of(info: dict) -> dict:
    """A node's report on its task (the intercept's ball, its controller's phase), if it sent a small one."""
    task = info.get("task")
    return {"task": task} if isinstance(task, dict) and len(json.dumps(task)) <= MAX_TASK_REPORT else {}
