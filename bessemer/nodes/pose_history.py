"""The pelvis's recent poses by their stamps, so that a percept is placed with the pose it was seen from.

A percept reaches the policy node a frame or more after its camera frame, and after a stall of the
policy process several arrive at once: placed with the newest pose, each lands off by as far as the
robot moved meanwhile (0.17 m after a 0.4 s stall, enough for the ball predictor to forecast metres
away). Poses arrive newest-only, so the pose at a stamp between two of them is interpolated.
"""

from __future__ import annotations

import bisect
import math
from collections import deque

from bessemer.tasks.intercept_perception import Pose


class PoseHistory:
    def __init__(self, seconds: float = 2.0) -> None:
        self.seconds = seconds
        self._stamps: deque[float] = deque()
        self._poses: deque[Pose] = deque()

    @property
    def newest(self) -> Pose | None:
        return self._poses[-1] if self._poses else None

    def add(self, stamp: float, pose: Pose) -> None:
        """A pose stamped on the sender's monotonic clock; stamps come in order."""
        self._stamps.append(stamp)
        self._poses.append(pose)
        while self._stamps[0] < stamp - self.seconds:
            self._stamps.popleft()
            self._poses.popleft()

    def at(self, stamp: float) -> Pose | None:
        """The pose at `stamp`: interpolated between the two around it, else the nearest one held."""
        if not self._poses:
            return None
        i = bisect.bisect_right(self._stamps, stamp)
        if i == 0:
            return self._poses[0]
        if i == len(self._stamps):
            return self._poses[-1]
        t0, t1 = self._stamps[i - 1], self._stamps[i]
        (x0, y0, h0), (x1, y1, h1) = self._poses[i - 1], self._poses[i]
        s = (stamp - t0) / (t1 - t0) if t1 > t0 else 1.0
        turn = math.remainder(h1 - h0, math.tau)
        return x0 + s * (x1 - x0), y0 + s * (y1 - y0), math.remainder(h0 + s * turn, math.tau)
