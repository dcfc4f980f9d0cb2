"""One tick of the low-level controller: read, check, decide, shape, write.

This is the 500 Hz hot path, so it allocates nothing per tick: the state and command objects are
reused and every array operation writes into a preallocated buffer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from control.fsm import Fsm, FsmId
from control.safety import SafetyMonitors
from robots.interface import JointCommand, Robot, RobotState


@dataclass(frozen=True)
class CommandLimits:
    """Every command leaving the controller stays inside these (DDS order)."""

    q_lower: np.ndarray
    q_upper: np.ndarray
    effort: np.ndarray


class LowLevelController:
    def __init__(self, robot: Robot, fsm: Fsm, safety: SafetyMonitors, limits: CommandLimits) -> None:
        self.robot = robot
        self.fsm = fsm
        self.safety = safety
        self.limits = limits
        self._neg_effort = -limits.effort
        self.state: RobotState | None = None

    @property
    def command(self) -> JointCommand:
        """The command written on the last tick."""
        return self.fsm.command

    def tick(self) -> RobotState:
        """One control period; the FSM's clock is the state's stamp (the backend's clock)."""
        state = self.robot.read()
        fsm = self.fsm
        fault = self.safety.check(state, policy_driving=fsm.state == FsmId.START)
        if fault is not None:
            fsm.on_fault(fault)
        elif fsm.fault is not None:
            fsm.clear_fault()
        cmd = fsm.step(state, state.stamp)
        lim = self.limits
        np.minimum(cmd.q, lim.q_upper, out=cmd.q)
        np.maximum(cmd.q, lim.q_lower, out=cmd.q)
        np.minimum(cmd.tau, lim.effort, out=cmd.tau)
        np.maximum(cmd.tau, self._neg_effort, out=cmd.tau)
        self.robot.write(cmd)
        self.state = state
        return state
