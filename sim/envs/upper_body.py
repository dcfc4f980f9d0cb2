"""An operator's arms and waist while the policy walks: targets that wander, so arm use never tips the walker.

The joints the walking policy does not drive (waist and arms) move toward random goals inside part
of their ranges, drawn anew every few seconds and reached at a bounded speed, as an operator's
`rt/arm_sdk` targets would move them; a share of the robots keep the default pose. The policy does
not see these targets, only what they do to the body, which is what it meets on the robot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class UpperBodyConfig:
    share: float = 0.7
    """Share of episodes whose upper body moves; the others hold the default pose."""
    range_fraction: float = 0.6
    """Goals lie within this fraction of each joint's range about the default pose (clipped to it)."""
    waist_range_fraction: float = 0.25
    """The same for the waist, whose full reach (yaw +-150 deg, roll and pitch +-30 deg) swings the
    torso, two fifths of the robot's mass: an operator turns or leans it by tens of degrees, not that."""
    hold_seconds: tuple[float, float] = (0.5, 3.0)
    speed: float = 2.0
    """Largest joint speed (rad/s) of the targets on their way to a goal."""


class UpperBodyTargets:
    """Position targets of the upper-body joints of a batch of robots, one row each."""

    _STATE = ("now", "goal", "next_draw", "moving")

    def __init__(self, num: int, names: list[str], default: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                 config: UpperBodyConfig, dt: float) -> None:
        self.config, self.dt = config, dt
        self.default = default
        waist = np.array(["waist" in name for name in names])
        half = (upper - lower) / 2 * np.where(waist, config.waist_range_fraction, config.range_fraction)
        self._lo, self._hi = np.maximum(default - half, lower), np.minimum(default + half, upper)
        self.now = np.tile(default, (num, 1))
        self.goal = self.now.copy()
        self.next_draw = np.zeros(num, dtype=np.int64)
        self.moving = np.zeros(num, dtype=bool)

    def reset(self, rows: np.ndarray, rng: np.random.Generator) -> None:
        self.now[rows] = self.default
        self.goal[rows] = self.default
        if self.config.share > 0:
            self.moving[rows] = rng.uniform(size=len(rows)) < self.config.share
        self.next_draw[rows] = 0

    def step(self, steps: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Targets at the policy steps `steps` (one per robot); goals are redrawn where due."""
        due = np.flatnonzero(self.moving & (steps >= self.next_draw))
        if due.size:
            self.goal[due] = rng.uniform(self._lo, self._hi, (due.size, self.default.size))
            hold = rng.uniform(*self.config.hold_seconds, due.size)
            self.next_draw[due] = steps[due] + np.round(hold / self.dt).astype(np.int64)
        reach = self.config.speed * self.dt
        self.now += np.clip(self.goal - self.now, -reach, reach)
        return self.now

    def snapshot(self) -> dict:
        return {k: getattr(self, k).copy() for k in self._STATE}

    def restore(self, snapshot: dict) -> None:
        for key in self._STATE:
            getattr(self, key)[...] = snapshot[key]
