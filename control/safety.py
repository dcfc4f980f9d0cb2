"""Safety monitors: one per fault, each an exact check on the state read this tick.

Thresholds are those of Unitree's own terminations (tilt 1.0 rad, joint speed 10 rad/s, IMU rate
6 rad/s, winding 120 C). Any monitor that fires sends the FSM to damp.

To keep the 500 Hz tick cheap, every monitor also states a safe envelope: per-value bounds inside
which it cannot fire. All envelopes together are one bounds array checked in three numpy calls;
NaN fails any comparison and Inf exceeds the largest finite bound, so non-finite values leave the
envelope too. Only a state outside it runs the exact monitors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from control.external_targets import ExternalTargets
from robots.interface import RobotState, tilt_of


@dataclass(frozen=True)
class SafetyConfig:
    max_tilt: float = 1.0
    """Angle between the pelvis z axis and the vertical (rad)."""
    max_joint_speed: float = 10.0
    max_body_rate: float = 6.0
    """Pelvis angular rate from the IMU (rad/s)."""
    max_temperature: float = 120.0
    max_state_age: float = 0.04
    """A state older than this (s) is stale: 20 missed 500 Hz states, well inside 50 ms."""


class NonFiniteStateMonitor:
    name = "non-finite state"

    def tighten(self, bounds: RobotState) -> None:
        """Every bound is finite already: nothing to add."""

    def check(self, state: RobotState) -> str | None:
        # v.v is NaN or Inf exactly when some value is (or beyond 1e154): one BLAS call, no temporaries.
        v = state.values
        if math.isfinite(float(np.dot(v, v))):
            return None
        return "NaN or Inf in the robot state"


class StaleStateMonitor:
    name = "stale state"

    def __init__(self, limit: float) -> None:
        self.limit = limit

    def tighten(self, bounds: RobotState) -> None:
        bounds.age[:] = self.limit

    def check(self, state: RobotState) -> str | None:
        age = float(state.age[0])
        if age > self.limit:
            return f"stale state: last valid state {age * 1e3:.0f} ms ago (limit {self.limit * 1e3:.0f} ms)"
        return None


class TiltMonitor:
    name = "tilt"

    def __init__(self, limit: float) -> None:
        self.limit = limit

    def tighten(self, bounds: RobotState) -> None:
        # tilt <= limit while x^2 + y^2 <= (1 - cos limit) / 2, which |x|, |y| <= this guarantees.
        bounds.quat[1:3] = math.sqrt((1.0 - math.cos(self.limit)) / 4.0)

    def check(self, state: RobotState) -> str | None:
        tilt = tilt_of(state.quat.tolist())
        if tilt > self.limit:
            return f"tilt {tilt:.2f} rad > {self.limit:.2f} rad"
        return None


class JointOverspeedMonitor:
    name = "joint over-speed"

    def __init__(self, limit: float) -> None:
        self.limit = limit

    def tighten(self, bounds: RobotState) -> None:
        bounds.dq[:] = self.limit

    def check(self, state: RobotState) -> str | None:
        dq = state.dq
        worst = int(np.argmax(np.abs(dq)))
        speed = abs(float(dq[worst]))
        if speed > self.limit:
            return f"joint {worst} speed {speed:.1f} rad/s > {self.limit:.1f} rad/s"
        return None


class BodyRateMonitor:
    name = "body rate"

    def __init__(self, limit: float) -> None:
        self.limit = limit

    def tighten(self, bounds: RobotState) -> None:
        bounds.gyro[:] = self.limit / math.sqrt(3.0)

    def check(self, state: RobotState) -> str | None:
        x, y, z = state.gyro.tolist()
        rate = math.sqrt(x * x + y * y + z * z)
        if rate > self.limit:
            return f"pelvis angular rate {rate:.1f} rad/s > {self.limit:.1f} rad/s"
        return None


class OverTemperatureMonitor:
    name = "over-temperature"

    def __init__(self, limit: float) -> None:
        self.limit = limit

    def tighten(self, bounds: RobotState) -> None:
        bounds.temperature[:] = self.limit

    def check(self, state: RobotState) -> str | None:
        if state.temperature.max() <= self.limit:
            return None
        hottest = int(np.argmax(state.temperature))
        return f"motor {hottest} at {state.temperature[hottest]:.0f} C > {self.limit:.0f} C"


class StaleTargetsMonitor:
    """While the policy drives (state 200), its newest targets must be unexpired: a policy that
    stopped, stalled or fell behind leaves the seat empty, and the robot damps."""

    name = "stale policy targets"

    def __init__(self, targets: ExternalTargets) -> None:
        self.targets = targets

    def check(self) -> str | None:
        if self.targets.fresh():
            return None
        return "policy targets stale: none unexpired (the policy stopped, stalled or fell behind)"


class SafetyMonitors:
    """Runs every monitor in order; the non-finite check comes first so others see clean numbers.
    With a policy's targets, the stale-targets monitor runs on ticks the policy drives."""

    def __init__(self, config: SafetyConfig | None = None, num_motors: int = 29,
                 targets: ExternalTargets | None = None) -> None:
        c = config or SafetyConfig()
        self.monitors = (
            NonFiniteStateMonitor(),
            StaleStateMonitor(c.max_state_age),
            TiltMonitor(c.max_tilt),
            JointOverspeedMonitor(c.max_joint_speed),
            BodyRateMonitor(c.max_body_rate),
            OverTemperatureMonitor(c.max_temperature),
        )
        envelope = RobotState(num_motors)
        envelope.values[:] = np.finfo(np.float64).max
        for monitor in self.monitors:
            monitor.tighten(envelope)
        self.envelope = envelope.values
        self._abs = np.zeros_like(self.envelope)
        self._inside = np.zeros(self.envelope.shape, dtype=bool)
        self.stale_targets = StaleTargetsMonitor(targets) if targets is not None else None

    def check(self, state: RobotState, policy_driving: bool = False) -> str | None:
        fault = self._check_state(state)
        if fault is None and policy_driving and self.stale_targets is not None:
            fault = self.stale_targets.check()
        return fault

    def _check_state(self, state: RobotState) -> str | None:
        np.abs(state.values, out=self._abs)
        if np.less_equal(self._abs, self.envelope, out=self._inside).all():
            return None
        for monitor in self.monitors:
            fault = monitor.check(state)
            if fault is not None:
                return fault
        return None
