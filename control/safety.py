"""Safety monitors: one per fault, each a cheap check on the state read this tick.

Thresholds are those of Unitree's own terminations (tilt 1.0 rad, joint speed 10 rad/s, IMU rate
6 rad/s, winding 120 C). Any monitor that fires sends the FSM to damp.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from robots.interface import RobotState


@dataclass(frozen=True)
class SafetyConfig:
    max_tilt: float = 1.0
    """Angle between the pelvis z axis and the vertical (rad)."""
    max_joint_speed: float = 10.0
    max_body_rate: float = 6.0
    """Pelvis angular rate from the IMU (rad/s)."""
    max_temperature: float = 120.0


def tilt_of(quat: np.ndarray) -> float:
    """Angle between the body z axis and world vertical for a w-x-y-z quaternion."""
    _, x, y, _ = quat
    cos_tilt = 1.0 - 2.0 * (x * x + y * y)
    return math.acos(max(-1.0, min(1.0, cos_tilt)))


class NonFiniteStateMonitor:
    name = "non-finite state"

    def check(self, state: RobotState) -> str | None:
        if np.isfinite(state.values).all():
            return None
        return "NaN or Inf in the robot state"


class TiltMonitor:
    name = "tilt"

    def __init__(self, limit: float) -> None:
        self.limit = limit

    def check(self, state: RobotState) -> str | None:
        tilt = tilt_of(state.quat)
        if tilt > self.limit:
            return f"tilt {tilt:.2f} rad > {self.limit:.2f} rad"
        return None


class JointOverspeedMonitor:
    name = "joint over-speed"

    def __init__(self, limit: float) -> None:
        self.limit = limit

    def check(self, state: RobotState) -> str | None:
        worst = int(np.argmax(np.abs(state.dq)))
        speed = abs(float(state.dq[worst]))
        if speed > self.limit:
            return f"joint {worst} speed {speed:.1f} rad/s > {self.limit:.1f} rad/s"
        return None


class BodyRateMonitor:
    name = "body rate"

    def __init__(self, limit: float) -> None:
        self.limit = limit

    def check(self, state: RobotState) -> str | None:
        g = state.gyro
        rate = math.sqrt(g[0] * g[0] + g[1] * g[1] + g[2] * g[2])
        if rate > self.limit:
            return f"pelvis angular rate {rate:.1f} rad/s > {self.limit:.1f} rad/s"
        return None


class OverTemperatureMonitor:
    name = "over-temperature"

    def __init__(self, limit: float) -> None:
        self.limit = limit

    def check(self, state: RobotState) -> str | None:
        hottest = int(np.argmax(state.temperature))
        temp = float(state.temperature[hottest])
        if temp > self.limit:
            return f"motor {hottest} at {temp:.0f} C > {self.limit:.0f} C"
        return None


class SafetyMonitors:
    """Runs every monitor in order; the non-finite check comes first so others see clean numbers."""

    def __init__(self, config: SafetyConfig | None = None) -> None:
        c = config or SafetyConfig()
        self.monitors = (
            NonFiniteStateMonitor(),
            TiltMonitor(c.max_tilt),
            JointOverspeedMonitor(c.max_joint_speed),
            BodyRateMonitor(c.max_body_rate),
            OverTemperatureMonitor(c.max_temperature),
        )

    def check(self, state: RobotState) -> str | None:
        for monitor in self.monitors:
            fault = monitor.check(state)
            if fault is not None:
                return fault
        return None
