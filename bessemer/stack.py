"""The low-level stack on the in-process simulation: robot, safety, FSM, controller, loop."""

from __future__ import annotations

from dataclasses import dataclass, field

from control.controller import CommandLimits, LowLevelController
from control.fsm import Fsm, FsmGains
from control.loop import FixedRateLoop, LoopConfig
from control.motion import MoveLimits
from control.safety import SafetyConfig, SafetyMonitors
from robots.g1 import joints
from robots.g1.poses import POSES, get_pose
from sim.robot import SimRobot
from sim.world import WorldConfig


@dataclass(frozen=True)
class StackConfig:
    world: WorldConfig = field(default_factory=WorldConfig)
    loop: LoopConfig = field(default_factory=LoopConfig)
    safety: SafetyConfig = field(default_factory=SafetyConfig)
    moves: MoveLimits = field(default_factory=MoveLimits)


class SimStack:
    """Everything `bessemer sim` runs; `tick()` is one 2 ms control period of it."""

    def __init__(self, config: StackConfig | None = None) -> None:
        self.config = config or StackConfig()
        self.robot = SimRobot(self.config.world, control_period=self.config.loop.period)
        gains = FsmGains(joints.HOLD_KP, joints.HOLD_KD, joints.DAMP_KD, self.robot.variant.active_mask)
        self.fsm = Fsm(dict(POSES), gains, self.config.moves)
        lower, upper, effort, _ = joints.limits()
        self.controller = LowLevelController(self.robot, self.fsm, SafetyMonitors(self.config.safety),
                                             CommandLimits(lower, upper, effort))
        self.loop = FixedRateLoop(self.config.loop)

    def spawn(self, band: bool, pose: str = "stand") -> None:
        """Place the G1 in a named pose, feet on the floor; the band, if asked, holds it at stand height."""
        self.robot.reset(get_pose(pose), band=band, band_pose=POSES["stand"])

    def nominal_stand_height(self) -> float:
        return self.robot.standing_height(POSES["stand"])

    def tick(self) -> None:
        self.controller.tick()
        self.robot.advance()
