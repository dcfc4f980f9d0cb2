"""The finite-state machine, with Unitree's FSM ids so users' habits carry over.

The transition table is data (`TRANSITIONS`): it is printed in the README and tested whole. Damp
is reachable from every state and is where every fault in a driving state leads; only a deliberate
request leaves it, and not for a driving state while a fault is still present (a robot lying on
the floor stays "tilted", so it may still go limp in zero torque). Pose states move smoothly from wherever the joints are to
their pose, then hold it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from control.motion import MoveLimits, PoseMove
from robots.interface import JointCommand, RobotState


class FsmId(IntEnum):
    ZERO_TORQUE = 0
    DAMP = 1
    SQUAT = 2
    SIT = 3
    STAND_UP = 4
    START = 200


STATE_DESCRIPTIONS: dict[FsmId, str] = {
    FsmId.ZERO_TORQUE: "zero torque: motors on, no torque",
    FsmId.DAMP: "damp: kp 0, kd 8 on every motor; where every fault leads",
    FsmId.SQUAT: "squat: move to the squat pose and hold it",
    FsmId.SIT: "sit: move to the low sit pose and hold it",
    FsmId.STAND_UP: "stand-up: move to the default stand pose and hold it",
    FsmId.START: "start: the configured policy drives",
}

TRANSITIONS: dict[FsmId, frozenset[FsmId]] = {
    FsmId.ZERO_TORQUE: frozenset({FsmId.DAMP}),
    FsmId.DAMP: frozenset({FsmId.ZERO_TORQUE, FsmId.STAND_UP}),
    FsmId.SQUAT: frozenset({FsmId.DAMP, FsmId.STAND_UP}),
    FsmId.SIT: frozenset({FsmId.DAMP, FsmId.STAND_UP}),
    FsmId.STAND_UP: frozenset({FsmId.DAMP, FsmId.SQUAT, FsmId.SIT, FsmId.START}),
    FsmId.START: frozenset({FsmId.DAMP, FsmId.STAND_UP}),
}

PASSIVE_STATES = frozenset({FsmId.DAMP, FsmId.ZERO_TORQUE})
"""States that drive nothing: a fault there is recorded (and blocks leaving) but changes nothing."""

POSE_OF_STATE: dict[FsmId, str] = {FsmId.SQUAT: "squat", FsmId.SIT: "sit", FsmId.STAND_UP: "stand"}


def transition_table_markdown() -> str:
    """The transition table as the README prints it (a test keeps the two equal)."""
    ids = list(FsmId)
    header = "| from \\ to | " + " | ".join(f"{int(s)} {s.name.lower()}" for s in ids) + " |"
    rule = "|---" * (len(ids) + 1) + "|"
    rows = []
    for src in ids:
        cells = ["·" if dst == src else ("yes" if dst in TRANSITIONS[src] else "no") for dst in ids]
        rows.append(f"| **{int(src)} {src.name.lower()}** | " + " | ".join(cells) + " |")
    return "\n".join([header, rule, *rows])


def parse_state_id(value: int | str) -> FsmId:
    try:
        return FsmId(int(value))
    except ValueError:
        known = ", ".join(f"{s.value} {s.name.lower()}" for s in FsmId)
        raise ValueError(f"unknown FSM state id {value!r}: known ids are {known}") from None


@dataclass(frozen=True)
class RequestResult:
    accepted: bool
    message: str


@dataclass(frozen=True)
class FsmGains:
    kp: np.ndarray
    kd: np.ndarray
    damp_kd: float
    enable: np.ndarray
    """1 for motors this robot has; locked joints of a variant stay disabled."""


class Fsm:
    def __init__(self, poses: dict[str, np.ndarray], gains: FsmGains, limits: MoveLimits | None = None,
                 policy_configured: bool = False) -> None:
        self.poses = poses
        self.gains = gains
        self.limits = limits or MoveLimits()
        self.policy_configured = policy_configured
        self.state = FsmId.DAMP
        self.fault: str | None = None
        """The fault present on the last tick, if any; requests to leave damp are refused meanwhile."""
        self.last_fault: str | None = None
        self.faults = 0
        self.move: PoseMove | None = None
        self._pending_move = False
        self._move_done = False
        self.visited: list[int] = [int(FsmId.DAMP)]
        self.transitions = 0

    @property
    def pose_reached(self) -> bool:
        """True once a pose state has finished its move."""
        return self.state in POSE_OF_STATE and self._move_done

    def request(self, target: int | FsmId) -> RequestResult:
        target = parse_state_id(target)
        if target == self.state:
            return RequestResult(True, f"already in {target.value} ({target.name.lower()})")
        if target not in TRANSITIONS[self.state]:
            allowed = ", ".join(str(int(s)) for s in sorted(TRANSITIONS[self.state]))
            return RequestResult(
                False, f"{int(self.state)} ({self.state.name.lower()}) -> {int(target)} ({target.name.lower()}) "
                f"is not allowed; from here: {allowed}")
        if target == FsmId.START and not self.policy_configured:
            return RequestResult(False, "state 200 (start) refused: no policy is configured for this run")
        if self.fault is not None and target not in PASSIVE_STATES:
            return RequestResult(False, f"refused while the fault persists: {self.fault}")
        self._enter(target)
        return RequestResult(True, f"-> {int(target)} ({target.name.lower()})")

    def on_fault(self, reason: str) -> None:
        """Called by the controller on every tick a safety monitor fires."""
        if self.fault is None:
            self.faults += 1
        self.fault = reason
        self.last_fault = reason
        if self.state not in PASSIVE_STATES:
            self._enter(FsmId.DAMP)

    def clear_fault(self) -> None:
        self.fault = None

    def _enter(self, target: FsmId) -> None:
        self.state = target
        self.move = None
        self._move_done = False
        self._pending_move = target in POSE_OF_STATE
        self.visited.append(int(target))
        self.transitions += 1

    def step(self, state: RobotState, t: float, cmd: JointCommand) -> None:
        """Fill `cmd` for the current state from the state read this tick.

        Passive states never copy the state into the command: it may be the NaN that faulted.
        """
        s = self.state
        g = self.gains
        if s in POSE_OF_STATE:
            if self._pending_move:
                self.move = PoseMove(state.q, self.poses[POSE_OF_STATE[s]], t, self.limits)
                self._pending_move = False
            self.move.sample(t, cmd.q)
            self._move_done = self.move.done(t)
            cmd.dq.fill(0.0)
            cmd.tau.fill(0.0)
            np.copyto(cmd.kp, g.kp)
            np.copyto(cmd.kd, g.kd)
            np.copyto(cmd.enable, g.enable)
        elif s == FsmId.DAMP:
            cmd.q.fill(0.0)
            cmd.dq.fill(0.0)
            cmd.tau.fill(0.0)
            cmd.kp.fill(0.0)
            cmd.kd.fill(g.damp_kd)
            np.copyto(cmd.enable, g.enable)
        elif s == FsmId.ZERO_TORQUE:
            cmd.q.fill(0.0)
            cmd.dq.fill(0.0)
            cmd.tau.fill(0.0)
            cmd.kp.fill(0.0)
            cmd.kd.fill(0.0)
            np.copyto(cmd.enable, g.enable)
        else:
            raise RuntimeError(f"state {int(s)} has no command source in this build")
