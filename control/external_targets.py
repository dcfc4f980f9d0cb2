"""Joint targets from outside the loop (the policy process): newest only, each with a deadline.

The FSM applies them in state 200 only while the newest is unexpired; once it expires (the policy
stopped, stalled or fell behind) the controller treats it as a fault and damps. A target past its
deadline is never applied. Deadlines are read on the clock the targets' source sets them by:
CLOCK_MONOTONIC across processes, and the simulation's own clock for a policy inside a lock-step
run, whose wall-clock pace says nothing about the robot's (a frame of video can take longer to
render than a policy period lasts).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


class ExternalTargets:
    def __init__(self, num_motors: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.values = np.zeros((6, num_motors))
        """Rows q, dq, tau, kp, kd, enable, as in JointCommand.values."""
        self.deadline = 0.0
        self.seq = -1
        self.received = 0
        self.non_finite = 0
        """Targets refused for NaN or Inf in them: never applied, so the held ones expire and the robot damps."""

    def offer(self, seq: int, deadline: float, values: np.ndarray) -> bool:
        """Take targets if they are newer than the ones held and finite; False otherwise."""
        if seq <= self.seq:
            return False
        if not np.isfinite(values).all():
            self.non_finite += 1
            return False
        np.copyto(self.values, values)
        self.seq, self.deadline = seq, deadline
        self.received += 1
        return True

    def fresh(self) -> bool:
        return self.clock() < self.deadline


def always() -> bool:
    """The liveness of a policy in the loop's own process: it cannot die apart from the loop."""
    return True


@dataclass
class PolicySeat:
    """The policy as the FSM and the safety monitors see it, fixed when they are built: the targets
    it offers, and whether it is there to take the robot (a policy process whose heartbeat is recent;
    a policy inside the loop's own process always is)."""

    targets: ExternalTargets
    alive: Callable[[], bool] = field(default=always)
    stands_still: bool = False
    """Whether the policy can be told to stop and say when it stands with both feet down; the host
    sets it (the low-level node from each of the policy node's heartbeats). A policy that cannot
    hands the robot over at once when the FSM leaves state 200."""
    stop_requested: bool = False
    """Set by the FSM while it waits to take the robot back: the host brings the command to zero."""
    standing: bool = False
    """Set by the host: the policy stands still with both feet down."""
