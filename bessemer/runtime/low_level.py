"""The low level in one process: a robot backend under safety, FSM, controller and the fixed-rate loop.

`LowLevel` works with any backend; `SimLowLevel` adds what only the in-process simulation has
(stepping physics each tick, spawning, the elastic band). A policy's seat (its targets and its
liveness) is fixed at construction, so the FSM and the stale-targets monitor share it from the start.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from control.external_targets import ExternalTargets, PolicySeat
from control.controller import CommandLimits, LowLevelController
from control.fsm import Fsm, FsmGains, FsmId
from control.loop import FixedRateLoop, LoopConfig
from control.motion import MoveLimits
from control.safety import SafetyConfig, SafetyMonitors
from robots.g1 import joints
from robots.g1.poses import POSES, get_pose
from robots.interface import Robot
from sim.band_release import SelfSupportRelease
from sim.robot import SimRobot
from sim.world import WorldConfig


@dataclass(frozen=True)
class LowLevelConfig:
    world: WorldConfig = field(default_factory=WorldConfig)
    loop: LoopConfig = field(default_factory=LoopConfig)
    safety: SafetyConfig = field(default_factory=SafetyConfig)
    moves: MoveLimits = field(default_factory=MoveLimits)


class LowLevel:
    """`tick()` is one control period: read, check, decide, write."""

    def __init__(self, robot: Robot, config: LowLevelConfig, policy_alive: Callable[[], bool] | None = None,
                 policy_clock: Callable[[], float] | None = None) -> None:
        """`policy_alive`, if given, seats a policy: state 200 is allowed while it returns True, and
        targets expire on `policy_clock` (default: this low level's own clock, `now`)."""
        self.config = config
        self.robot = robot
        self.policy: PolicySeat | None = None
        if policy_alive is not None:
            self.policy = PolicySeat(ExternalTargets(robot.num_motors, clock=policy_clock or (lambda: self.now)),
                                     policy_alive)
        gains = FsmGains(joints.HOLD_KP, joints.HOLD_KD, joints.DAMP_KD, robot.variant.active_mask)
        self.fsm = Fsm(dict(POSES), gains, config.moves, policy=self.policy)
        lower, upper, effort, _ = joints.limits()
        safety = SafetyMonitors(config.safety, robot.num_motors, self.policy.targets if self.policy else None)
        self.controller = LowLevelController(robot, self.fsm, safety, CommandLimits(lower, upper, effort))
        self.loop = FixedRateLoop(config.loop)

    def tick(self) -> None:
        self.controller.tick()

    def damp_before_exit(self, seconds: float = 0.1) -> None:
        """Leave the robot damped, not holding the last command on its own, for a few paced ticks."""
        self.fsm.request(FsmId.DAMP)
        for _ in range(round(seconds / self.config.loop.period)):
            self.tick()
            time.sleep(self.config.loop.period)

    @property
    def now(self) -> float:
        """The clock scripts run on: monotonic wall time, which keeps going when states stop coming."""
        return time.monotonic()

    def clock(self) -> float:
        """`now` as a callable, for what keeps time by this low level (services, command expiry)."""
        return self.now


class SimLowLevel(LowLevel):
    """Everything `bessemer sim` runs; physics advances by one control period per tick."""

    def __init__(self, config: LowLevelConfig | None = None, policy_alive: Callable[[], bool] | None = None,
                 policy_clock: Callable[[], float] | None = None) -> None:
        config = config or LowLevelConfig()
        super().__init__(SimRobot(config.world, control_period=config.loop.period), config, policy_alive, policy_clock)
        self.band = SelfSupportRelease(self.robot)
        self.band_released_at: float | None = None
        """Simulated time at which the band let go, once it has."""

    def spawn(self, band: bool, pose: str = "stand") -> None:
        """Place the G1 in a named pose, feet on the floor; the band, if asked, holds it at stand height."""
        self.robot.reset(get_pose(pose), band=band, band_pose=POSES["stand"])
        self.band = SelfSupportRelease(self.robot)
        self.band_released_at = None

    def nominal_stand_height(self) -> float:
        return self.robot.standing_height(POSES["stand"])

    @property
    def now(self) -> float:
        """Simulated time: lock-step runs script in simulated seconds."""
        return self.robot.time

    def tick(self) -> None:
        self.controller.tick()
        self.robot.advance()
        if self.robot.band_engaged and self.band.update():
            self.band_released_at = self.robot.time
