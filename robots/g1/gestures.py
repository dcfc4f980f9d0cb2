"""A few of Unitree's G1 arm gestures as keyframes over the stand pose, by Unitree's action ids.

Each keyframe gives, at a time from the gesture's start, the angles of the joints it moves (the
others keep the stand pose); between keyframes the angles are interpolated linearly, and the
gesture starts and (unless it holds) ends at the stand pose. A holding gesture keeps its last frame
until "release arm" (99). Angles follow the G1's joint axes: shoulder pitch negative lifts the arm
forward, left shoulder roll positive (right negative) lifts it sideways, elbow positive bends it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from robots.g1.joints import joint_index
from robots.g1.poses import POSES

RELEASE_ARM = 99


@dataclass(frozen=True)
class Gesture:
    name: str
    keyframes: tuple[tuple[float, dict[str, float]], ...]
    holds: bool = False

    @property
    def seconds(self) -> float:
        return self.keyframes[-1][0] + (0.0 if self.holds else 1.0)

    def pose(self, t: float) -> np.ndarray:
        """All joint angles (DDS order) `t` seconds into the gesture."""
        stand = POSES["stand"]
        frames = [(0.0, stand)] + [(at, _pose(angles)) for at, angles in self.keyframes]
        if not self.holds:
            frames.append((self.seconds, stand))
        times = [at for at, _ in frames]
        if t >= times[-1]:
            return frames[-1][1].copy()
        i = int(np.searchsorted(times, t, side="right")) - 1
        (t0, q0), (t1, q1) = frames[i], frames[i + 1]
        return q0 + (q1 - q0) * ((t - t0) / (t1 - t0))


def _pose(angles: dict[str, float]) -> np.ndarray:
    q = POSES["stand"].copy()
    for name, angle in angles.items():
        q[joint_index(name)] = angle
    return q


_RIGHT_UP = {"right_shoulder_pitch": -2.3, "right_shoulder_roll": -0.3, "right_elbow": 0.5}
_WAVE_OUT = {"right_shoulder_pitch": -2.2, "right_shoulder_roll": -0.6, "right_elbow": 1.1}

GESTURES: dict[int, Gesture] = {
    15: Gesture("hands up", ((1.5, {"left_shoulder_pitch": -2.6, "right_shoulder_pitch": -2.6, "left_shoulder_roll": 0.3,
                                    "right_shoulder_roll": -0.3, "left_elbow": 0.2, "right_elbow": 0.2}),), holds=True),
    17: Gesture("clap", tuple(
        (1.0 + 0.5 * k, {"left_shoulder_pitch": -1.1, "right_shoulder_pitch": -1.1, "left_shoulder_yaw": 0.3,
                         "right_shoulder_yaw": -0.3, "left_elbow": 1.0, "right_elbow": 1.0,
                         "left_shoulder_roll": 0.35 if k % 2 == 0 else 0.05, "right_shoulder_roll": -0.35 if k % 2 == 0 else -0.05})
        for k in range(7))),
    18: Gesture("high five", ((1.2, _RIGHT_UP), (2.2, _RIGHT_UP))),
    23: Gesture("right hand up", ((1.2, {"right_shoulder_pitch": -2.8, "right_elbow": 0.2}),), holds=True),
    26: Gesture("high wave", ((1.2, _WAVE_OUT), *(
        (1.6 + 0.4 * k, {**_WAVE_OUT, "right_elbow": 0.6 if k % 2 == 0 else 1.1}) for k in range(6)))),
    27: Gesture("shake hand", ((1.2, {"right_shoulder_pitch": -0.9, "right_shoulder_roll": -0.15, "right_elbow": 0.5}),),
                holds=True),
}
