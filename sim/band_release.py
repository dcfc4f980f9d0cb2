"""Letting the elastic band go once the robot carries itself, as a user lowering it would."""

from __future__ import annotations

from robots.interface import tilt_of
from sim.robot import SimRobot

RELEASE_LOAD = 0.25
"""The band lets go when it carries less than this fraction of the robot's weight (a robot stood
up from a sit carries all but about 14 % of its weight while the band is still on)..."""
UPRIGHT_TILT = 0.1
RELEASE_HOLD = 0.5
"""...for this many seconds, with the robot upright (tilt under 0.1 rad). Its sway does not matter:
a robot that carries most of its weight upright stands, as a user lowering the band sees."""


class SelfSupportRelease:
    def __init__(self, robot: SimRobot) -> None:
        self.robot = robot
        self.weight = float(robot.model.body_subtreemass[1]) * 9.81
        self._since: float | None = None

    def update(self) -> bool:
        """Call each tick while the band is engaged; True on the tick it is released."""
        robot = self.robot
        upright = tilt_of(robot.state.quat.tolist()) < UPRIGHT_TILT
        if robot.band_tension() < RELEASE_LOAD * self.weight and upright:
            if self._since is None:
                self._since = robot.time
            elif robot.time - self._since >= RELEASE_HOLD:
                robot.release_band()
                return True
        else:
            self._since = None
        return False
