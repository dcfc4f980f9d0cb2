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

from control.external_targets import PolicySeat
from control.motion import MoveLimits, PoseMove, min_jerk
from robots.interface import JointCommand, RobotState


class FsmId(IntEnum):
    ZERO_TORQUE = 0
    DAMP = 1
    SQUAT = 2
    SIT = 3
    STAND_UP = 4
    START = 200


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
    """Owns the command it produces: constant parts are set on entering a state, so a tick only
    rewrites the joint targets of a move in progress."""

    def __init__(self, poses: dict[str, np.ndarray], gains: FsmGains, limits: MoveLimits | None = None,
                 policy: PolicySeat | None = None) -> None:
        self.poses = poses
        self.gains = gains
        self.limits = limits or MoveLimits()
        self.policy = policy
        """Where state 200's targets come from; without one, 200 is refused."""
        self.command = JointCommand(len(gains.kp))
        self._handed_over = np.zeros_like(self.command.values)
        """The command at the moment state 200 was entered: where the policy ramp starts."""
        self._ramp = np.zeros_like(self.command.values)
        self.pending: FsmId | None = None
        """A pose state requested in 200, entered once the walking policy stands still."""
        self._pending_since: float | None = None
        self.fault: str | None = None
        """The fault present on the last tick, if any; requests to drive are refused meanwhile."""
        self.last_fault: str | None = None
        self.faults = 0
        self.visited: list[int] = []
        self._enter(FsmId.DAMP)

    @property
    def policy_alive(self) -> bool:
        """Whether a request for state 200 would find a policy to hand the robot to."""
        return self.policy is not None and self.policy.alive()

    @property
    def pose_reached(self) -> bool:
        """True once a pose state has finished its move."""
        return self.state in POSE_OF_STATE and self._move_done

    def request(self, target: int | FsmId) -> RequestResult:
        target = parse_state_id(target)
        if target == self.state:
            if self.pending is not None:
                self.pending, self.policy.stop_requested = None, False
                return RequestResult(True, f"staying in {target.value} ({target.name.lower()}): the pending hand-over is off")
            return RequestResult(True, f"already in {target.value} ({target.name.lower()})")
        if target not in TRANSITIONS[self.state]:
            allowed = ", ".join(str(int(s)) for s in sorted(TRANSITIONS[self.state]))
            return RequestResult(
                False, f"{int(self.state)} ({self.state.name.lower()}) -> {int(target)} ({target.name.lower()}) "
                f"is not allowed; from here: {allowed}")
        if target == FsmId.START and self.policy is None:
            return RequestResult(False, "state 200 (start) refused: no policy is configured for this run")
        if target == FsmId.START and not self.policy.alive():
            return RequestResult(False, "state 200 (start) refused: the policy is not running (no recent heartbeat)")
        if self.fault is not None and target not in PASSIVE_STATES:
            return RequestResult(False, f"refused while the fault persists: {self.fault}")
        if self.state == FsmId.START and target in POSE_OF_STATE and self.policy.stands_still:
            self.pending, self._pending_since = target, None
            self.policy.stop_requested = True
            return RequestResult(True, f"-> {int(target)} ({target.name.lower()}) once the walker stands still")
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
        """Switch state and load the command parts that stay constant in it.

        Passive states never take joint targets from the state: it may be the NaN that faulted.
        """
        if target == FsmId.START:
            np.copyto(self._handed_over, self.command.values)
            self._start_t: float | None = None
        self.pending = None
        if self.policy is not None:
            self.policy.stop_requested = False
        self.state = target
        self.move: PoseMove | None = None
        self._move_done = False
        self.visited.append(int(target))
        cmd, g = self.command, self.gains
        cmd.q.fill(0.0)
        cmd.dq.fill(0.0)
        cmd.tau.fill(0.0)
        np.copyto(cmd.enable, g.enable)
        if target in POSE_OF_STATE:
            np.copyto(cmd.kp, g.kp)
            np.copyto(cmd.kd, g.kd)
        elif target == FsmId.DAMP:
            cmd.kp.fill(0.0)
            cmd.kd.fill(g.damp_kd)
        else:
            cmd.kp.fill(0.0)
            cmd.kd.fill(0.0)

    def step(self, state: RobotState, t: float) -> JointCommand:
        """The command for this tick, from the state read this tick."""
        if self.state in POSE_OF_STATE and not self._move_done:
            if self.move is None:
                self.move = PoseMove(state.q, self.poses[POSE_OF_STATE[self.state]], t, self.limits)
            self.move.sample(t, self.command.q)
            self._move_done = self.move.done(t)
        elif self.state == FsmId.START:
            if self.pending is not None:
                if self._pending_since is None:
                    self._pending_since = t
                if self.policy.standing or t - self._pending_since >= self.limits.policy_stop:
                    self._enter(self.pending)
                    return self.step(state, t)
            if self._start_t is None:
                self._start_t = t
            s = min_jerk((t - self._start_t) / self.limits.policy_ramp) if self.limits.policy_ramp > 0 else 1.0
            values = self.command.values
            np.copyto(values, self.policy.targets.values)
            if s < 1.0:
                np.multiply(self._handed_over, 1.0 - s, out=self._ramp)
                values *= s
                values += self._ramp
        return self.command
