"""Hand-overs from the walking policy to the stand (200 -> 4) mid-stride, as an operator makes them.

Each trial stands the simulated G1 up, lets the policy walk at a command, and requests the stand at a
seeded moment spread over one gait period, so the trials meet every phase of the stride. A policy
that can stand still is first brought to a stop by the FSM (see `control/fsm.py`); one that cannot
is handed over at once. A trial stayed up when, `hold_s` after the stand took over, the robot is
still in it with no fault: a fall damps, which is the safe end, but not a hand-over.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bessemer.runtime.low_level import LowLevelConfig, SimLowLevel
from bessemer.runtime.policy_host import InProcessPolicy
from bessemer.runtime.session import SessionConfig, SimSession
from control.external_targets import always
from control.fsm import FsmId
from control.loop import LoopConfig
from policies.inference import LearnedPolicy


@dataclass(frozen=True)
class HandoverConfig:
    command: tuple[float, float, float] = (0.5, 0.0, 0.0)
    walk_s: float = 5.0
    """Walking before the earliest request: long enough to reach the commanded speed."""
    hold_s: float = 10.0
    """How long the stand must keep the robot up after taking it."""


@dataclass(frozen=True)
class HandoverResult:
    seed: int
    speed_mps: float
    """The pelvis's mean horizontal speed over the two seconds before the request."""
    stand_after_s: float | None
    """From the request to the stand taking over; None if the robot fell first."""
    speed_at_stand_mps: float | None
    """The pelvis's horizontal speed as the stand took over: what the walker had not yet braked."""
    up: bool
    fault: str | None


def handover_trial(policy_path: Path, config: HandoverConfig, seed: int) -> HandoverResult:
    policy = LearnedPolicy(policy_path, command=config.command)
    low = SimLowLevel(LowLevelConfig(loop=LoopConfig(realtime=False)), policy_alive=always)
    longest = config.walk_s + policy.contract.gait_period + low.fsm.limits.policy_stop + config.hold_s + 5.0
    session = SimSession(low, SessionConfig(sequence=(FsmId.STAND_UP, FsmId.START), duration=longest))
    InProcessPolicy(policy, session)
    request_at = config.walk_s + np.random.default_rng(seed).uniform(0.0, policy.contract.gait_period)
    trial: dict = {"walking_since": None, "requested": None, "stand": None, "speed_at_stand": None, "held": False,
                   "track": []}
    pelvis, velocity = low.robot.data.qpos, low.robot.data.qvel

    def watch(run: SimSession) -> None:
        t, fsm = run.elapsed, low.fsm
        if fsm.state == FsmId.DAMP and trial["walking_since"] is not None:
            low.loop.stop()
            return
        if trial["requested"] is None:
            if fsm.state != FsmId.START:
                return
            if trial["walking_since"] is None:
                trial["walking_since"] = t
            walked = t - trial["walking_since"]
            if walked >= request_at - 2.0:
                trial["track"].append((t, pelvis[0], pelvis[1]))
            if walked >= request_at:
                trial["requested"] = t
                fsm.request(FsmId.STAND_UP)
            return
        if trial["stand"] is None and fsm.state == FsmId.STAND_UP:
            trial["stand"], trial["speed_at_stand"] = t, float(np.hypot(*velocity[:2]))
        if trial["stand"] is not None and t - trial["stand"] >= config.hold_s:
            trial["held"] = fsm.state == FsmId.STAND_UP and fsm.faults == 0
            low.loop.stop()

    session.every(1, watch)
    low.loop.run(session.tick)
    track, stand = np.array(trial["track"]).reshape(-1, 3), trial["stand"]
    span = track[-1] - track[0] if len(track) > 1 else np.full(3, np.nan)
    return HandoverResult(seed, float(np.hypot(span[1], span[2]) / span[0]),
                          None if stand is None else stand - trial["requested"], trial["speed_at_stand"],
                          trial["held"], low.fsm.last_fault)
