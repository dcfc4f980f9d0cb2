"""Named whole-body poses of the G1 in DDS order.

`stand` is the default pose of Unitree's locomotion deploy for the legs (hip pitch -0.1, knee 0.3,
ankle pitch -0.2) with the arms relaxed at the sides. `squat` and `sit` keep the feet flat and the
centre of mass over the feet (found once with the model's kinematics, then written down here), so
a PD-held move into them is statically balanced.
"""

from __future__ import annotations

import numpy as np

from robots.g1.joints import NUM_MOTORS, joint_index


def _pose(values: dict[str, float]) -> np.ndarray:
    q = np.zeros(NUM_MOTORS)
    for name, value in values.items():
        q[joint_index(name)] = value
    q.setflags(write=False)
    return q


def _legs(hip_pitch: float, knee: float, ankle_pitch: float) -> dict[str, float]:
    out = {}
    for side in ("left", "right"):
        out |= {f"{side}_hip_pitch": hip_pitch, f"{side}_knee": knee, f"{side}_ankle_pitch": ankle_pitch}
    return out


_ARMS = {
    "left_shoulder_pitch": 0.2, "left_shoulder_roll": 0.2, "left_elbow": 1.0,
    "right_shoulder_pitch": 0.2, "right_shoulder_roll": -0.2, "right_elbow": 1.0,
}

POSES: dict[str, np.ndarray] = {
    "zero": _pose({}),
    "stand": _pose(_legs(-0.1, 0.3, -0.2) | _ARMS),
    "squat": _pose(_legs(-0.48, 1.2, -0.71) | _ARMS),
    "sit": _pose(_legs(-1.19, 1.7, -0.8) | {"waist_pitch": 0.4} | _ARMS),
}


def get_pose(name: str) -> np.ndarray:
    try:
        return POSES[name]
    except KeyError:
        raise ValueError(f"unknown pose {name!r}: choose one of {', '.join(POSES)}") from None
