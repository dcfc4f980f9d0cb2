"""A policy inside the loop's own process (`bessemer sim`, `bessemer deploy`): no ZMQ hop.

It runs every `1 / rate` seconds of loop time and hands its targets to the FSM through the same
`ExternalTargets` the policy node feeds, with the same deadline rule on the stack's clock (simulated
time in lock-step), so state 200 behaves as with the node. Its clock stands at zero until the FSM enters 200, so its first targets are those of its
first instant.
"""

from __future__ import annotations


import numpy as np

from bessemer.runtime.session import ScriptedRun
from control.external_targets import ExternalTargets
from control.fsm import FsmId
from policies.interface import Policy

DEADLINE_PERIODS = 2.5


class InProcessPolicy:
    def __init__(self, policy: Policy, run: ScriptedRun) -> None:
        stack = run.stack
        self.policy = policy
        self.external = ExternalTargets(stack.robot.num_motors, clock=lambda: stack.now)
        stack.fsm.external = self.external
        stack.fsm.policy_configured = True
        period = stack.config.loop.period
        self.every_ticks = max(1, round(1.0 / (policy.rate_hz * period)))
        self.deadline = DEADLINE_PERIODS * self.every_ticks * period
        self.targets = np.zeros((6, stack.robot.num_motors))
        self.started_at: float | None = None
        """Loop time at which the FSM handed the robot to the policy."""
        self._seq = 0
        run.every(self.every_ticks, self._step)

    def _step(self, run: ScriptedRun) -> None:
        if run.stack.fsm.state != FsmId.START:
            self.started_at = None
        elif self.started_at is None:
            self.started_at = run.elapsed
        t = 0.0 if self.started_at is None else run.elapsed - self.started_at
        self.policy.act(run.stack.controller.state, t, self.targets)
        self._seq += 1
        self.external.offer(self._seq, run.stack.now + self.deadline, self.targets)
