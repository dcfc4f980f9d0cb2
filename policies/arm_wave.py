"""A hand-written policy: stand on PD-held legs and wave the right arm.

It exercises the whole policy path (state in at 50 Hz, targets out with a deadline, FSM state 200)
with a controller whose behaviour is easy to see, until a learned policy takes its place.
"""

from __future__ import annotations

import math

import numpy as np

from robots.g1 import joints
from robots.g1.joints import joint_index
from robots.g1.poses import POSES
from robots.interface import RobotState


class ArmWavePolicy:
    name = "arm-wave"

    def __init__(self, rate_hz: float = 50.0, frequency_hz: float = 0.5, amplitude: float = 0.6) -> None:
        self.rate_hz = rate_hz
        self.frequency = frequency_hz
        self.amplitude = amplitude
        self._roll = joint_index("right_shoulder_roll")
        self._elbow = joint_index("right_elbow")

    def act(self, state: RobotState, t: float, targets: np.ndarray) -> None:
        q, dq, tau, kp, kd, enable = targets
        q[:] = POSES["stand"]
        phase = 0.5 * (1.0 - math.cos(2.0 * math.pi * self.frequency * t))
        q[self._roll] -= self.amplitude * phase
        q[self._elbow] -= 0.8 * self.amplitude * phase
        dq[:] = 0.0
        tau[:] = 0.0
        kp[:] = joints.HOLD_KP
        kd[:] = joints.HOLD_KD
        enable[:] = 1.0
