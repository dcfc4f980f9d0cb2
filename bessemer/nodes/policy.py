"""The policy node: any `Policy` at its own rate, fed the newest state, sending targets with deadlines.

Each step follows `PolicyStep`'s rules (the deadline a few periods ahead, the policy's clock held
at zero until state 200): if this process dies or stalls, the low-level loop sees its targets
expire and damps. Perception is optional: without fresh percepts, or with
percepts whose inputs are flagged, the node keeps running and reports itself degraded; a policy that
uses percepts (`PerceivingPolicy`) gets each one, in order, as it arrives. A policy that steers in the
odometry frame (`LocatingPolicy`) gets the pelvis's pose; in simulation, the simulator's (SIM_POSE),
before each percept the pose at the percept's stamp and then the newest.
A policy that reports on its task (`Reporting`) has the report carried in its heartbeat. The
heartbeat also says whether the policy can stand still and whether it now does: with it, the
low-level node's FSM brings a walker to a stop (the state's stop request) before a pose state takes
the robot, as in one process.
"""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

import numpy as np
import zmq

from bessemer import wire
from bessemer.endpoints import Endpoints
from bessemer.nodes.heartbeat import Heartbeat
from bessemer.nodes.pose_history import PoseHistory
from bessemer.nodes.subscriber import InOrder, NewestOnly
from bessemer.runtime.policy_host import PolicyStep
from bessemer.tasks.intercept_perception import Pose, pelvis_pose
from policies.interface import Policy
from robots.interface import RobotState

STATE_FRESH = 0.1
PERCEPTION_FRESH = 1.0


@runtime_checkable
class PerceivingPolicy(Protocol):
    """A policy that steers by what perception reports (e.g. a heading controller over the walk)."""

    def perceive(self, percept: wire.Percept) -> None: ...


@runtime_checkable
class LocatingPolicy(Protocol):
    """A policy that steers to points in the odometry frame (e.g. where a ball will stop)."""

    def locate(self, pose: Pose) -> None: ...


@runtime_checkable
class Reporting(Protocol):
    def report(self) -> dict: ...


class PolicyNode:
    def __init__(self, policy: Policy, endpoints: Endpoints, ctx: zmq.Context | None = None,
                 deadline: float | None = None) -> None:
        self.policy = policy
        self.sid = wire.stack_id(endpoints.stack)
        self.ctx = ctx or zmq.Context.instance()
        self.state_in = NewestOnly(endpoints.connect(self.ctx, zmq.SUB, "state", latest_only=True), self.sid,
                                   wire.MsgType.STATE)
        self.percept_in = InOrder(endpoints.connect(self.ctx, zmq.SUB, "percept"), self.sid, wire.MsgType.PERCEPT)
        self.pose_in = (NewestOnly(endpoints.connect(self.ctx, zmq.SUB, "pose", latest_only=True), self.sid,
                                   wire.MsgType.SIM_POSE) if isinstance(policy, LocatingPolicy) else None)
        self.poses = PoseHistory()
        """The poses a percept is placed with: the one it was seen from, not the newest."""
        self.targets_out = endpoints.connect(self.ctx, zmq.PUB, "targets")
        self.heartbeat = Heartbeat(endpoints.connect(self.ctx, zmq.PUB, "heartbeat"), self.sid, "policy")
        self.state = RobotState(wire.NUM_MOTORS)
        self.step = PolicyStep(policy, wire.NUM_MOTORS, deadline=deadline)
        self.sent = 0
        self._fsm_state = 0
        self._stop_requested = False
        self._standing = False
        self._state_at = -np.inf
        self._percept_at = -np.inf
        self.percept: wire.Percept | None = None

    @property
    def degraded(self) -> bool:
        """Only a policy that steers by percepts is degraded without them."""
        if not isinstance(self.policy, PerceivingPolicy):
            return False
        stale = time.monotonic() - self._percept_at > PERCEPTION_FRESH
        return stale or self.percept is None or self.percept.degraded

    @property
    def degraded_reason(self) -> str:
        if not self.degraded:
            return ""
        if time.monotonic() - self._percept_at > PERCEPTION_FRESH:
            return f"no percept for over {PERCEPTION_FRESH:g} s: is the perception node running?"
        return self.percept.reasons if self.percept is not None and self.percept.degraded else ""

    def tick(self, k: int) -> bool:
        now = time.monotonic()
        newest = self.state_in.take()
        if newest is not None:
            h, body = newest
            state = wire.parse_state(body)
            self.state.values[:] = state.values
            self._state_at = h.stamp
            self._fsm_state, self._stop_requested = state.fsm_id, state.stop_requested
        if self.pose_in is not None and (pose := self.pose_in.take()) is not None:
            self.poses.add(pose[0].stamp, pelvis_pose(np.frombuffer(pose[1], dtype=np.float64)))
        for h, frames in self.percept_in.drain():
            try:
                self.percept = wire.parse_percept(frames)
            except wire.WireError as exc:
                self.percept_in.rejected[exc.reason] += 1
                continue
            self._percept_at = now
            if isinstance(self.policy, PerceivingPolicy):
                if self.pose_in is not None and (seen_from := self.poses.at(h.stamp)) is not None:
                    self.policy.locate(seen_from)
                self.policy.perceive(self.percept)
        if self.pose_in is not None and (pose_now := self.poses.newest) is not None:
            self.policy.locate(pose_now)
        if now - self._state_at < STATE_FRESH:
            seq, deadline = self.step(self.state, self._fsm_state, time.monotonic(), self._stop_requested)
            self.targets_out.send_multipart(wire.targets_frames(self.sid, seq, deadline, self.step.targets), zmq.NOBLOCK)
            self.sent += 1
        if k % 5 == 0 or self.step.standing != self._standing:
            self._standing = self.step.standing
            task = {"task": self.policy.report()} if isinstance(self.policy, Reporting) else {}
            self.heartbeat.send(work=self.sent, policy=self.policy.name, degraded=self.degraded,
                                reason=self.degraded_reason, stands_still=self.step.stands_still,
                                standing=self._standing, **task)
        return True

    def close(self) -> None:
        for sock in (self.state_in.sock, self.percept_in.sock, self.targets_out, self.heartbeat.sock):
            sock.close(0)
        if self.pose_in is not None:
            self.pose_in.sock.close(0)
