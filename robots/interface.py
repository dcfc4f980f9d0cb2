"""The seam between controllers and hardware: one protocol, many backends.

Controllers see only `RobotState` and `JointCommand`; whether a MuJoCo world or a G1 over DDS sits
behind `Robot` is decided once, at start-up. Arrays are in DDS motor order and are preallocated so
the 500 Hz loop refills them in place instead of allocating per tick.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from robots.g1.variants import G1Variant

REMOTE_BYTES = 40


def yaw_of(quat):
    """Heading (rad) of w-x-y-z quaternions along the last axis: one, or a batch at once."""
    w, x, y, z = np.moveaxis(np.asarray(quat, dtype=float), -1, 0)
    return np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))


def rpy_of(quat) -> tuple[float, float, float]:
    """Roll, pitch, yaw (rad) of one w-x-y-z quaternion, as Unitree's IMU reports them."""
    w, x, y, z = (float(v) for v in quat)
    roll = math.atan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y))
    pitch = math.asin(max(-1.0, min(1.0, 2 * (w * y - z * x))))
    return roll, pitch, float(yaw_of((w, x, y, z)))


def tilt_of(quat) -> float:
    """Angle between the body z axis and world vertical for a w-x-y-z quaternion."""
    _, x, y, _ = quat
    cos_tilt = 1.0 - 2.0 * (x * x + y * y)
    return math.acos(max(-1.0, min(1.0, cos_tilt)))


@dataclass
class RobotState:
    """What one `read()` returns. `values` packs every float field so one isfinite() checks all."""

    num_motors: int
    values: np.ndarray = field(init=False, repr=False)
    q: np.ndarray = field(init=False)
    dq: np.ndarray = field(init=False)
    tau_est: np.ndarray = field(init=False)
    temperature: np.ndarray = field(init=False)
    quat: np.ndarray = field(init=False)
    """Pelvis orientation, w-x-y-z, world frame."""
    gyro: np.ndarray = field(init=False)
    """Pelvis angular rate in the IMU frame (rad/s)."""
    accel: np.ndarray = field(init=False)
    """Pelvis specific force in the IMU frame (m/s^2)."""
    tick: int = 0
    mode_machine: int = 0
    remote: np.ndarray = field(init=False)
    stamp: float = 0.0
    """Receive time on the backend's monotonic clock (s): simulated time for the in-process sim."""

    age: np.ndarray = field(init=False)
    """Seconds since the backend last received a valid state (a one-element view)."""

    def __post_init__(self) -> None:
        n = self.num_motors
        self.values = np.zeros(4 * n + 11)
        self.q = self.values[0:n]
        self.dq = self.values[n : 2 * n]
        self.tau_est = self.values[2 * n : 3 * n]
        self.temperature = self.values[3 * n : 4 * n]
        self.quat = self.values[4 * n : 4 * n + 4]
        self.gyro = self.values[4 * n + 4 : 4 * n + 7]
        self.accel = self.values[4 * n + 7 : 4 * n + 10]
        self.age = self.values[4 * n + 10 : 4 * n + 11]
        self.quat[0] = 1.0
        self.remote = np.zeros(REMOTE_BYTES, dtype=np.uint8)


@dataclass
class JointCommand:
    """Per-motor targets for the motor PD law: tau = tau + kp (q - q_m) + kd (dq - dq_m).

    The six fields are rows of one (6, n) array, so a backend can combine them in a few calls.
    """

    num_motors: int
    values: np.ndarray = field(init=False, repr=False)
    q: np.ndarray = field(init=False)
    dq: np.ndarray = field(init=False)
    tau: np.ndarray = field(init=False)
    kp: np.ndarray = field(init=False)
    kd: np.ndarray = field(init=False)
    enable: np.ndarray = field(init=False)
    """1 where the motor should act; a disabled motor produces no torque."""

    def __post_init__(self) -> None:
        self.values = np.zeros((6, self.num_motors))
        self.q, self.dq, self.tau, self.kp, self.kd, self.enable = self.values

    @property
    def targets(self) -> np.ndarray:
        """Rows (q, dq): what the gains (kp, kd) multiply."""
        return self.values[0:2]

    @property
    def gains(self) -> np.ndarray:
        """Rows (kp, kd)."""
        return self.values[3:5]


class Robot(Protocol):
    """A G1, simulated or real. Implementations refill `state` in place on each read."""

    num_motors: int
    variant: G1Variant
    """Which G1 (29 or 23 DoF): the joints it has, and the mode_machine it reports."""

    def read(self) -> RobotState:
        """The latest state; the returned object is reused by the next call."""
        ...

    def write(self, cmd: JointCommand) -> None:
        """Send one command; the motors hold it (zero-order hold) until the next."""
        ...

    def close(self) -> None: ...
