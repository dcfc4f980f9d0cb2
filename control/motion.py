"""Smooth, speed-bounded moves between joint poses.

A minimum-jerk time scaling starts and ends at rest; its peak speed is 15/8 of the mean, so the
duration is chosen from the largest joint excursion to keep every joint under `max_speed`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PEAK_TO_MEAN_SPEED = 15.0 / 8.0


@dataclass(frozen=True)
class MoveLimits:
    max_speed: float = 0.8
    """Peak joint speed of any move (rad/s)."""
    min_duration: float = 0.5
    """Even tiny moves take this long (s), so gains change smoothly."""
    policy_ramp: float = 0.5
    """Seconds over which entering state 200 blends the held pose's targets and gains into the
    policy's (min-jerk), so neither the targets nor the stiffness step at the hand-over."""
    policy_stop: float = 5.0
    """Longest wait (s) for a walking policy told to stop to stand still with both feet down before
    a pose state takes the robot from it anyway (a policy stops stepping within a gait period or two
    and brakes its momentum within 2 s more)."""


def min_jerk(s: float) -> float:
    """Position fraction at time fraction s in [0, 1]."""
    if s >= 1.0:
        return 1.0
    if s <= 0.0:
        return 0.0
    return s * s * s * (10.0 + s * (-15.0 + 6.0 * s))


class PoseMove:
    """Interpolates from `start` to `goal`; `sample(t, out)` fills `out` without allocating."""

    def __init__(self, start: np.ndarray, goal: np.ndarray, t0: float, limits: MoveLimits) -> None:
        self.start = np.array(start, dtype=float)
        self.goal = np.array(goal, dtype=float)
        self.delta = self.goal - self.start
        self.t0 = t0
        excursion = float(np.max(np.abs(self.delta))) if self.delta.size else 0.0
        self.duration = max(limits.min_duration, PEAK_TO_MEAN_SPEED * excursion / limits.max_speed)

    def done(self, t: float) -> bool:
        return t - self.t0 >= self.duration

    def sample(self, t: float, out: np.ndarray) -> None:
        np.multiply(self.delta, min_jerk((t - self.t0) / self.duration), out=out)
        out += self.start
