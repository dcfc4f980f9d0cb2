"""A scripted run of the stack: damp, a sequence of FSM moves, then hold.

`ScriptedRun` drives any backend (`bessemer deploy`); `SimSession` adds what the simulation has:
spawning, the elastic band, and the pelvis height. The script is checked against the FSM's
transition table before anything moves, so a bad sequence fails at once with the reason.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bessemer.runtime.low_level import LowLevel, SimLowLevel
from control.fsm import POSE_OF_STATE, TRANSITIONS, FsmId
from robots.interface import tilt_of, yaw_of

@dataclass(frozen=True)
class SessionConfig:
    sequence: tuple[FsmId, ...] = (FsmId.STAND_UP,)
    duration: float = 10.0
    """Simulated seconds to hold the final state once the sequence is done."""
    hold: float = 1.0
    """Simulated seconds each step holds before the next one is requested."""
    damp_time: float = 0.2
    """Simulated seconds in damp after spawning, before the first step."""
    band: bool = True
    spawn_pose: str = "stand"


def check_sequence(sequence: tuple[FsmId, ...], policy_seated: bool) -> None:
    """Walk the transition table from damp; raise ValueError naming the first impossible step."""
    state = FsmId.DAMP
    for i, target in enumerate(sequence, start=1):
        if target == FsmId.START and not policy_seated:
            raise ValueError(f"step {i}: state 200 (start) needs a policy, and none is configured for this run")
        if target != state and target not in TRANSITIONS[state]:
            allowed = ", ".join(str(int(s)) for s in sorted(TRANSITIONS[state]))
            raise ValueError(f"step {i}: {int(state)} -> {int(target)} is not an allowed transition (from {int(state)}: {allowed})")
        state = target


class ScriptedRun:
    """Drives one scripted run; `tick(k)` is given to the fixed-rate loop and returns False when done."""

    def __init__(self, low: LowLevel, config: SessionConfig, first_step_at: float | None = None) -> None:
        check_sequence(config.sequence, low.policy is not None)
        self.low = low
        self.config = config
        self.observers: list[tuple[int, Callable[[ScriptedRun], None]]] = []
        self.events: list[str] = []
        self.on_event: Callable[[str], None] | None = None
        self.refused: str | None = None
        self.max_tilt_after_standup = 0.0
        self.stood_up_at: float | None = None
        self.stopped_early = False
        self._faults_seen = 0
        self._pending: tuple[float, FsmId] | None = None
        """(time, target) of a hand-over from the walking policy that waits for it to stand still."""
        self._first_step_delay = config.damp_time if first_step_at is None else first_step_at
        self._t0: float | None = None
        self._step = 0
        self._hold_from: float | None = None
        self._done_at: float | None = None
        self._wall_start = time.perf_counter()
        self._wall_end: float | None = None

    def every(self, ticks: int, observer: Callable[[ScriptedRun], None]) -> None:
        """Call `observer(run)` every `ticks` control ticks (video frames, viewer sync, status)."""
        self.observers.append((max(1, ticks), observer))

    @property
    def sequence_done(self) -> bool:
        """Whether the scripted steps are over (the run now holds its final state)."""
        return self._done_at is not None

    @property
    def elapsed(self) -> float:
        """Seconds on the stack's clock since the first tick."""
        return 0.0 if self._t0 is None else self.low.now - self._t0

    def event(self, text: str) -> None:
        line = f"t={self.elapsed:6.2f}s  {text}"
        self.events.append(line)
        if self.on_event is not None:
            self.on_event(line)

    def tick(self, k: int) -> bool:
        low = self.low
        if k == 0:
            self._wall_start = time.perf_counter()
        low.tick()
        if self._t0 is None:
            self._t0 = low.now
        t = self.elapsed
        fsm = low.fsm
        if fsm.faults != self._faults_seen:
            self._faults_seen = fsm.faults
            self.event(f"fault: {fsm.last_fault}; damping")
        if fsm.pending is not None and self._pending is None:
            self._pending = (t, fsm.pending)
        elif fsm.pending is None and self._pending is not None:
            since, target = self._pending
            if fsm.state == target:
                self.event(f"the walker stood still after {t - since:.2f} s: {int(target)} ({target.name.lower()}) takes the robot")
            self._pending = None
        if self.stood_up_at is None and fsm.state == FsmId.STAND_UP and fsm.pose_reached:
            self.stood_up_at = t
            self.event("standing")
        if self.stood_up_at is not None and fsm.state in POSE_OF_STATE:
            tilt = tilt_of(low.controller.state.quat)
            self.max_tilt_after_standup = max(self.max_tilt_after_standup, tilt)
        self._after_tick(t)
        for period, observer in self.observers:
            if k % period == 0:
                observer(self)
        return self._advance_script(t)

    def _after_tick(self, t: float) -> None:
        """Backend-specific work after each tick."""

    def status_extra(self) -> str:
        """What this backend adds to the live status line."""
        return ""


    def _advance_script(self, t: float) -> bool:
        fsm = self.low.fsm
        seq = self.config.sequence
        if self._done_at is not None:
            return t - self._done_at < self.config.duration
        if self._step > 0 and self.refused is None:
            target = seq[self._step - 1]
            if fsm.pending == target:
                return True
            settled = fsm.pose_reached if target in POSE_OF_STATE else True
            if fsm.state != target:
                self.refused = f"step {self._step} ({int(target)}) interrupted: {fsm.last_fault or 'state changed'}"
                self.event(self.refused)
                self._done_at = t
                return True
            if not settled:
                return True
            if self._hold_from is None:
                self._hold_from = t
            if t - self._hold_from < self.config.hold:
                return True
        elif t < self._first_step_delay:
            return True
        if self._step == len(seq):
            self._done_at = t
            self.event(f"sequence done; holding {int(fsm.state)} for {self.config.duration:g} s")
            return True
        target = seq[self._step]
        result = fsm.request(target)
        self.event(f"request {int(target)}: {result.message}")
        self._step += 1
        self._hold_from = None
        if not result.accepted:
            self.refused = result.message
            self._done_at = t
        return True

    def finish(self) -> None:
        self._wall_end = time.perf_counter()

    def summary(self) -> dict:
        low, fsm = self.low, self.low.fsm
        wall = (self._wall_end or time.perf_counter()) - self._wall_start
        tilt = tilt_of(low.controller.state.quat)
        timing = low.loop.timing.summary()
        return {
            "variant": low.robot.variant.name,
            "mode": "realtime" if low.config.loop.realtime else "lockstep",
            "elapsed_s": round(self.elapsed, 4),
            "wall_time_s": round(wall, 3),
            "fsm": {
                "visited": list(fsm.visited),
                "final_state": int(fsm.state),
                "final_state_name": fsm.state.name.lower(),
                "faults": fsm.faults,
                "last_fault": fsm.last_fault,
            },
            "sequence": {
                "steps": [int(s) for s in self.config.sequence],
                "completed": self._done_at is not None and self.refused is None,
                "refused": self.refused,
            },
            "standing": fsm.state == FsmId.STAND_UP and fsm.pose_reached and fsm.fault is None and tilt < 0.1,
            "tilt_rad": round(tilt, 4),
            "max_tilt_after_standup_rad": round(self.max_tilt_after_standup, 4) if self.stood_up_at else None,
            "stood_up_at_s": round(self.stood_up_at, 3) if self.stood_up_at is not None else None,
            "stopped_early": self.stopped_early,
            "loop": {
                "period_s": low.config.loop.period,
                "rt_priority_granted": low.loop.rt_granted,
                **{k: (round(v, 2) if isinstance(v, float) else v) for k, v in timing.as_dict().items()},
            },
            "events": list(self.events),
        }


class SimSession(ScriptedRun):
    """A scripted run in the in-process simulation, which it spawns first."""

    def __init__(self, low: SimLowLevel, config: SessionConfig) -> None:
        super().__init__(low, config, first_step_at=config.damp_time if config.band else 0.0)
        low.spawn(band=config.band, pose=config.spawn_pose)
        self._told_band = False
        self.nominal_height = low.nominal_stand_height()
        self._drive_from: tuple[float, np.ndarray] | None = None
        """(time, pelvis pose) at the FSM's hand-over to the policy; `_drive_to` at the latest tick in 200."""
        self._drive_to: tuple[float, np.ndarray] | None = None

    def _after_tick(self, t: float) -> None:
        if self.low.band_released_at is not None and not self._told_band:
            self._told_band = True
            self.event("elastic band released")
        if self.low.fsm.state == FsmId.START:
            self._drive_to = (t, self.low.robot.data.qpos[:7].copy())
            if self._drive_from is None:
                self._drive_from = self._drive_to

    def status_extra(self) -> str:
        return f"base {self.low.robot.base_height:.3f} m | "

    def _drive_summary(self) -> dict | None:
        """How the robot moved while the policy drove: the figures a walking run is judged by."""
        if self._drive_from is None or self._drive_to is None:
            return None
        (t0, p0), (t1, p1) = self._drive_from, self._drive_to
        seconds = t1 - t0
        heading = float(yaw_of(p0[3:7]))
        dx, dy = p1[:2] - p0[:2]
        forward = dx * math.cos(heading) + dy * math.sin(heading)
        lateral = -dx * math.sin(heading) + dy * math.cos(heading)
        turn = math.remainder(float(yaw_of(p1[3:7])) - heading, 2 * math.pi)
        return {"seconds": round(seconds, 3), "distance_m": round(math.hypot(dx, dy), 3),
                "forward_mps": round(forward / seconds, 4) if seconds else 0.0,
                "lateral_mps": round(lateral / seconds, 4) if seconds else 0.0,
                "yaw_change_rad": round(turn, 4), "final_base_height_m": round(float(p1[2]), 4)}

    def summary(self) -> dict:
        summary = super().summary()
        robot = self.low.robot
        height = robot.base_height
        summary["standing"] = summary["standing"] and abs(height - self.nominal_height) < 0.02
        summary["sim_time_s"] = round(robot.time, 4)
        summary["realtime_factor"] = round(robot.time / summary["wall_time_s"], 3) if summary["wall_time_s"] else None
        summary["base_height_m"] = round(height, 4)
        summary["base_height_nominal_m"] = round(self.nominal_height, 4)
        summary["policy_drive"] = self._drive_summary()
        return summary
