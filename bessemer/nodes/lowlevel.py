"""The low-level node: the 500 Hz loop, FSM and robot backend, serving the rest of the stack over ZMQ.

Each tick it drains what arrived (policy targets, heartbeats, one control request), runs the
controller, and publishes the state. Targets are taken newest-first by sequence number; ones past
their deadline are never applied and, in state 200, leave the policy's seat empty: a fault, damp.
Everything that fails to decode is rejected and counted by reason; the loop never waits on a
socket, so no other process can stall it.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field

import zmq

from bessemer import wire
from bessemer.endpoints import Endpoints, start_authenticator
from bessemer.runtime.low_level import LowLevelStack
from control.external_targets import ExternalTargets
from control.fsm import parse_state_id

POLICY_ALIVE = 0.5
"""Seconds since the policy node's last heartbeat for state 200 to be allowed."""
SIM_POSE_EVERY = 16
"""Ticks between simulated poses for the perception node (about 30 Hz)."""


@dataclass
class NodeHealth:
    last: float = 0.0
    progress: float = 0.0
    """The node's own count of work done (targets sent, frames rendered): its rate comes from it."""
    rate_hz: float = 0.0
    latency_ms: float = 0.0
    info: dict = field(default_factory=dict)


class LowLevelNode:
    def __init__(self, stack: LowLevelStack, endpoints: Endpoints, ctx: zmq.Context | None = None) -> None:
        endpoints.check()
        self.stack = stack
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
        self._sim_data = getattr(stack.robot, "data", None)
        self.pose_pub = endpoints.bind(self.ctx, zmq.PUB, "pose") if self._sim_data is not None else None
        self.external = ExternalTargets(stack.robot.num_motors)
        stack.fsm.external = self.external
        self.rejected: Counter[str] = Counter()
        self.expired = 0
        self.nodes: dict[str, NodeHealth] = {}
        self._seq = 0
        self._fsm_state = stack.fsm.state
        self.state_since = time.monotonic()
        """When the FSM entered its current state (CLOCK_MONOTONIC, comparable across processes)."""

    def tick(self, k: int) -> bool:
        self._drain_targets()
        self._drain_heartbeats()
        if k % 10 == 0:
            self.stack.fsm.policy_configured = self._alive("policy")
        if self.control.poll(0):
            self._serve_control()
        self.stack.tick()
        if self.stack.fsm.state != self._fsm_state:
            self._fsm_state, self.state_since = self.stack.fsm.state, time.monotonic()
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
            self.external.offer(h.seq, h.deadline, wire.array(frames[1], self.external.values.shape))

    def _drain_heartbeats(self) -> None:
        sock = self.heartbeat_sub
        while sock.poll(0):
            frames = sock.recv_multipart(zmq.NOBLOCK)
            try:
                h = wire.decode(frames, self.sid, wire.MsgType.HEARTBEAT)
            except wire.WireError as exc:
                self.rejected[exc.reason] += 1
                continue
            try:
                info = json.loads(frames[1])
                name = str(info["node"])
            except (ValueError, KeyError, TypeError):
                self.rejected["HEARTBEAT: body is not a node's JSON"] += 1
                continue
            now = time.monotonic()
            node = self.nodes.setdefault(name, NodeHealth())
            progress = float(info.get("work", 0.0))
            if node.last and now > node.last:
                node.rate_hz = (progress - node.progress) / (now - node.last)
            node.latency_ms = (now - h.stamp) * 1e3
            node.info, node.progress, node.last = info, progress, now

    def _alive(self, name: str) -> bool:
        node = self.nodes.get(name)
        return node is not None and time.monotonic() - node.last < POLICY_ALIVE

    def _serve_control(self) -> None:
        frames = self.control.recv_multipart(zmq.NOBLOCK)
        try:
            h = wire.parse_header(frames, self.sid)
            wire.check_frames(h.type, frames)
        except wire.WireError as exc:
            self.rejected[exc.reason] += 1
            self.control.send_multipart([wire.header(wire.MsgType.STATUS_REPLY, self.sid, 0),
                                         json.dumps({"error": str(exc)}).encode()])
            return
        if h.type == wire.MsgType.FSM_REQUEST:
            (target,) = wire.FSM_REQUEST.unpack(frames[1])
            try:
                result = self.stack.fsm.request(parse_state_id(target))
                accepted, message = result.accepted, result.message
            except ValueError as exc:
                accepted, message = False, str(exc)
            reply = [wire.header(wire.MsgType.FSM_REPLY, self.sid, h.seq),
                     wire.FSM_REPLY.pack(int(self.stack.fsm.state), accepted), message.encode()[: wire.MAX_TEXT]]
        else:
            reply = [wire.header(wire.MsgType.STATUS_REPLY, self.sid, h.seq),
                     json.dumps(self.status()).encode()[: wire.MAX_TEXT]]
        self.control.send_multipart(reply)

    def _publish_state(self, k: int) -> None:
        stack = self.stack
        state = stack.controller.state
        fsm = stack.fsm
        self._seq += 1
        self.state_pub.send(
            wire.state_message(self.sid, self._seq, int(fsm.state), fsm.fault is not None, state.tick, state.values),
            zmq.NOBLOCK)
        if self.pose_pub is not None and k % SIM_POSE_EVERY == 0:
            self.pose_pub.send(wire.pose_message(self.sid, self._seq, self._sim_data.qpos), zmq.NOBLOCK)

    def status(self) -> dict:
        stack, fsm = self.stack, self.stack.fsm
        timing = stack.loop.timing.summary(last=2500)
        now = time.monotonic()
        return {
            "stack": self.endpoints.stack,
            "fsm": {"state": int(fsm.state), "name": fsm.state.name.lower(), "fault": fsm.fault,
                    "pose_reached": fsm.pose_reached, "since": self.state_since,
                    "last_fault": fsm.last_fault, "faults": fsm.faults, "policy_allowed": fsm.policy_configured},
            "loop": {"ticks": timing.ticks, "rate_hz": timing.rate_hz, "period_error_p99_us": timing.period_error_p99_us,
                     "missed_deadlines": timing.missed_deadlines, "compute_p99_us": timing.compute_p99_us},
            "targets": {"received": self.external.received, "expired": self.expired, "fresh": self.external.fresh()},
            "rejected": dict(self.rejected),
            "nodes": {name: {"rate_hz": round(n.rate_hz, 1), "latency_ms": round(n.latency_ms, 2),
                             "age_s": round(now - n.last, 3), "degraded": bool(n.info.get("degraded", False)),
                             "reason": str(n.info.get("reason", ""))[:200]}
                      for name, n in self.nodes.items()},
        }

    def close(self) -> None:
        for sock in (self.state_pub, self.targets_sub, self.control, self.heartbeat_sub, self.pose_pub):
            if sock is not None:
                sock.close(0)
        if self._auth is not None:
            self._auth.stop()
