"""Percepts placed with the pose they were seen from, in the policy node over real ZMQ."""

import math
import os
import time

import numpy as np
import pytest
import zmq

from bessemer import wire
from bessemer.endpoints import Endpoints
from bessemer.nodes.policy import PolicyNode
from bessemer.nodes.pose_history import PoseHistory
from bessemer.tasks.intercept_perception import placed, relative
from bessemer.wire import Percept
from robots.interface import RobotState


def test_the_pose_between_two_held_is_interpolated_and_turns_the_short_way_round():
    history = PoseHistory()
    history.add(10.0, (0.0, 0.0, math.radians(170)))
    history.add(10.2, (0.2, -0.1, math.radians(-170)))
    x, y, heading = history.at(10.1)
    assert (x, y) == pytest.approx((0.1, -0.05)) and abs(math.remainder(heading - math.pi, math.tau)) < 1e-9
    assert history.at(9.0) == history.at(10.0) and history.at(11.0) == history.newest


class Locating:
    """A perceiving, locating policy that places each detection as the intercept does."""

    name, rate_hz = "locating", 50.0

    def __init__(self):
        self.pose, self.placed = None, []

    def locate(self, pose):
        self.pose = pose

    def perceive(self, percept):
        if math.isfinite(percept.target_distance_m):
            self.placed.append(placed(self.pose, percept.target_bearing_deg, percept.target_distance_m))

    def act(self, state, t, targets):
        pass


def test_percepts_that_queued_while_the_policy_stalled_are_placed_from_where_they_were_seen(base_port):
    """The robot walks on while the policy process stalls; the percepts sent meanwhile arrive together."""
    endpoints = Endpoints(stack=f"poses{os.getpid()}", base_port=base_port)
    ctx = zmq.Context()
    sid = wire.stack_id(endpoints.stack)
    pose_out, percept_out = endpoints.bind(ctx, zmq.PUB, "pose"), endpoints.bind(ctx, zmq.PUB, "percept")
    policy = Locating()
    node = PolicyNode(policy, endpoints, ctx=ctx)
    ball = np.array([2.0, 0.5])
    try:
        joined_by = time.monotonic() + 30
        while (policy.pose is None or node.percept is None) and time.monotonic() < joined_by:
            pose_out.send(wire.pose_message(sid, 0, np.array([0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0])))
            percept_out.send_multipart(wire.percept_frames(sid, 0, Percept()))
            time.sleep(0.05)
            node.tick(0)
        for seq in range(1, 11):
            x = 0.05 * seq
            qpos = np.zeros(36)
            qpos[0], qpos[3] = x, 1.0
            pose_out.send(wire.pose_message(sid, seq, qpos))
            time.sleep(0.005)
            bearing, distance = relative((x, 0.0, 0.0), ball)
            percept_out.send_multipart(wire.percept_frames(sid, seq, Percept(target_probability=1.0,
                                                                            target_bearing_deg=bearing,
                                                                            target_distance_m=distance)))
            time.sleep(0.02)
            if seq <= 4:
                node.tick(seq)
        drained_by = time.monotonic() + 30
        while len(policy.placed) < 10 and time.monotonic() < drained_by:
            time.sleep(0.05)
            node.tick(11)
    finally:
        node.close()
        pose_out.close(0)
        percept_out.close(0)
        ctx.term()
    assert len(policy.placed) == 10, "every percept reached the policy"
    misses = [np.linalg.norm(p - ball) for p in policy.placed]
    assert max(misses) < 0.03, ("each placed from the pose it was seen from, not the newest (off by up to 0.25 m)",
                                misses)
    assert policy.pose[0] == pytest.approx(0.5), "the policy steers from the newest pose"
