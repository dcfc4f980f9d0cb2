"""The waist and arms laid over a walking policy's targets, by a weight: Unitree's `arm_sdk` rule.

The walking policy keeps the legs; for the upper body (DDS 12-28, the slots Unitree's `rt/arm_sdk`
carries) each target is `(1 - w) * policy + w * override`, gains too. Users report leaning and falls
when arms move fast, so what reaches the motors is rate-limited: the override's joints and its weight
change so that no target moves faster than `max_joint_speed`, and the weight no faster than
`max_weight_rate` per second. A jump in a request becomes a motion the legs can balance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

UPPER_BODY = np.arange(12, 29)
"""Waist yaw, roll, pitch, then the left and right arm joints, in DDS order."""


@dataclass(frozen=True)
class UpperBodyLimits:
    max_joint_speed: float = 4.0
    """rad/s: the fastest any upper-body target may move because of the override."""
    max_weight_rate: float = 2.0
    """Per second: a full hand-over takes at least half a second."""


class UpperBodyOverride:
    def __init__(self, limits: UpperBodyLimits | None = None) -> None:
        self.limits = limits or UpperBodyLimits()
        n = len(UPPER_BODY)
        self.requested = np.zeros((5, n))
        """Rows q, dq, tau, kp, kd of the upper body, as the user asks them."""
        self.requested_weight = 0.0
        self.applied = np.zeros((5, n))
        self.weight = 0.0
        self._started = False

    def request(self, values: np.ndarray, weight: float) -> None:
        """`values`: rows q, dq, tau, kp, kd for UPPER_BODY; `weight` in [0, 1] (clipped)."""
        np.copyto(self.requested, values)
        self.requested_weight = float(np.clip(weight, 0.0, 1.0))

    def release(self) -> None:
        self.requested_weight = 0.0

    def apply(self, targets: np.ndarray, dt: float) -> None:
        """Blend into `targets` (rows q, dq, tau, kp, kd, enable of all motors), one step of `dt` seconds.

        A joint's target is `policy + w * (override - policy)`: it moves as the override's joints move
        (scaled by w) and as the weight changes (scaled by how far the override is from the policy).
        Each of the two gets half of `max_joint_speed`, so together they never exceed it, whether the
        arms are taken, moved or handed back."""
        policy = targets[:5, UPPER_BODY]
        if not self._started:
            self.applied[:] = policy
            self._started = True
        goal = self.requested if self.requested_weight > 0.0 else policy
        half = 0.5 * self.limits.max_joint_speed * dt
        self.applied[0] += np.clip(goal[0] - self.applied[0], -half, half)
        self.applied[1:] = goal[1:]
        gap = float(np.max(np.abs(self.applied[0] - policy[0])))
        step = self.limits.max_weight_rate * dt
        if gap > 0.0:
            step = min(step, half / gap)
        self.weight += float(np.clip(self.requested_weight - self.weight, -step, step))
        if self.weight <= 0.0:
            self.applied[:] = policy
            return
        w = self.weight
        targets[:5, UPPER_BODY] = (1.0 - w) * policy + w * self.applied
