"""The policy contract as the policy node sees it: state in, joint targets out, at the policy's rate."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from robots.interface import RobotState


class Policy(Protocol):
    name: str
    rate_hz: float

    def act(self, state: RobotState, t: float, targets: np.ndarray) -> None:
        """Fill `targets`, a (6, n) array of rows q, dq, tau, kp, kd, enable in DDS order."""
        ...
