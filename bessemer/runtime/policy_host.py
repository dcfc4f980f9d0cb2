"""Hosting a policy: the rules every host shares, and the host inside the loop's own process.

`PolicyStep` is what the policy node and the in-process host both do each policy period: the policy's
clock stands at zero until the FSM hands it the robot (state 200), so the targets waiting at the
hand-over are those of its first instant and its motion starts from rest; each set of targets is
numbered and stays valid for 2.5 policy periods, so a policy that stops or stalls leaves its seat
empty and the robot damps. A walking policy that can stand still is brought to a zero command when
the FSM wants the robot back, and says when it stands still with both feet down.

`InProcessPolicy` (`bessemer sim`, `bessemer deploy`) runs it every `1 / rate` seconds of loop time
and offers the targets to the policy seat on the low level's clock (simulated time in lock-step),
so state 200 behaves as with the node, without a ZMQ hop.
"""

from __future__ import annotations

import numpy as np

from bessemer.runtime.session import ScriptedRun
from control.fsm import FsmId
from control.upper_body import UpperBodyOverride
from policies.interface import Policy, StandsStill
from robots.interface import RobotState

DEADLINE_PERIODS = 2.5


class PolicyStep:
    def __init__(self, policy: Policy, num_motors: int, period: float | None = None,
                 deadline: float | None = None, upper_body: UpperBodyOverride | None = None) -> None:
        """`upper_body`, if given, lays the user's waist and arm targets over the policy's."""
        self.policy = policy
        self.upper_body = upper_body
        self.period = 1.0 / policy.rate_hz if period is None else period
        self.deadline = DEADLINE_PERIODS * self.period if deadline is None else deadline
        """Seconds each set of targets stays valid: how long the robot waits for the policy before it damps."""
        self.targets = np.zeros((6, num_motors))
        self.seq = 0
        self.started_at: float | None = None
        """When the FSM handed the robot to the policy, on the host's clock."""
        self.stoppable = policy if isinstance(policy, StandsStill) and policy.can_stand_still else None

    @property
    def stands_still(self) -> bool:
        """Whether the policy can be told to stop; one that cannot is handed over at once."""
        return self.stoppable is not None

    @property
    def standing(self) -> bool:
        return self.stoppable is not None and self.stoppable.standing

    def __call__(self, state: RobotState, fsm_state: int, now: float, stop_requested: bool = False) -> tuple[int, float]:
        """Run the policy on `state` into `targets`; return their number and deadline. `stop_requested`:
        the FSM waits to take the robot back, so a policy that can stand still gets a zero command."""
        if stop_requested and self.stoppable is not None:
            self.stoppable.command[:] = 0.0
        if fsm_state != FsmId.START:
            self.started_at = None
        elif self.started_at is None:
            self.started_at = now
        self.policy.act(state, 0.0 if self.started_at is None else now - self.started_at, self.targets)
        if self.upper_body is not None:
            self.upper_body.apply(self.targets, self.period)
        self.seq += 1
        return self.seq, now + self.deadline


class InProcessPolicy:
    def __init__(self, policy: Policy, run: ScriptedRun, upper_body: UpperBodyOverride | None = None) -> None:
        low = run.low
        if low.policy is None:
            raise ValueError("this low level seats no policy: build it with policy_alive")
        period = low.config.loop.period
        self.every_ticks = max(1, round(1.0 / (policy.rate_hz * period)))
        self.step = PolicyStep(policy, low.robot.num_motors, period=self.every_ticks * period, upper_body=upper_body)
        self.seat = low.policy
        self.seat.stands_still = self.step.stands_still
        run.every(self.every_ticks, self._step)

    def _step(self, run: ScriptedRun) -> None:
        low = run.low
        seq, deadline = self.step(low.controller.state, low.fsm.state, low.now, self.seat.stop_requested)
        self.seat.standing = self.step.standing
        self.seat.targets.offer(seq, deadline, self.step.targets)
