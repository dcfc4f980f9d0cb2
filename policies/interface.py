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
class StandsStill(Protocol):
    """A walking policy that can be told to stop: a host zeroes `command`, then reads `standing`."""

    command: np.ndarray
    can_stand_still: bool
    """Whether this policy stops stepping under a zero command (its contract's `stand_still_below`)."""

    @property
    def standing(self) -> bool:
        """It stands still with both feet down."""
        ...
