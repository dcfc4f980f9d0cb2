"""Joint targets from outside the loop (the policy process): newest only, each with a deadline.

The FSM applies them in state 200 only while the newest is unexpired; once it expires (the policy
stopped, stalled or fell behind) the controller treats it as a fault and damps. A target past its
deadline is never applied.
"""

from __future__ import annotations

import time

import numpy as np


class ExternalTargets:
    def __init__(self, num_motors: int) -> None:
        self.values = np.zeros((6, num_motors))
        """Rows q, dq, tau, kp, kd, enable, as in JointCommand.values."""
        self.deadline = 0.0
        self.seq = -1
        self.received = 0

    def offer(self, seq: int, deadline: float, values: np.ndarray) -> bool:
        """Take targets if they are newer than the ones held; False for a repeat or an older one."""
        if seq <= self.seq:
            return False
        np.copyto(self.values, values)
        self.seq, self.deadline = seq, deadline
        self.received += 1
        return True

    def fresh(self, now: float | None = None) -> bool:
        return (time.monotonic() if now is None else now) < self.deadline
