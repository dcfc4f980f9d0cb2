"""The policy contract as the policy node sees it: state in, joint targets out, at the policy's rate."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from robots.interface import RobotState


class Policy(Protocol):
    name: str
    rate_hz: float

    def act(self, state: RobotState, t: float, targets: np.ndarray) -> None:
        """Fill `targets`, a (6, n) array of rows q, dq, tau, kp, kd, enable in DDS order."""
        ...


@runtime_checkable
class Walker(Protocol):
    """A policy that walks on a velocity command: it can be brought to a stop, and tells when both
    feet are on the floor, the moment a stand pose may take over."""

    command: np.ndarray

    def feet_down(self, t: float) -> bool:
        """Whether both feet are in stance at policy time `t`."""
        ...
