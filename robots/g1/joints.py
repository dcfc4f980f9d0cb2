"""The G1's joint table in DDS motor order, built from the shipped reference description.

Limits and armature are per-motor facts of the 29-DoF rev 1.0 robot. Default gains are those of
Unitree's locomotion deploy (a policy balances the robot with them). Holding a pose with PD alone
needs stiffer legs: the robot is an inverted pendulum on its ankles, so their stiffness must beat
m g h (about 33 kg * 9.81 * 0.75 m = 240 N m/rad) and knees must not sag the centre of mass off the
feet in a squat; `HOLD_KP`/`HOLD_KD` are those gains. Damping is the kp 0 / kd 8 command several G1
stacks use.

Joint friction loss and passive damping come from Unitree's own MuJoCo model of the G1
(`unitree_mujoco`, `g1_29dof.xml`: 0.2 N m on every joint but the 4010-driven wrist pitch and yaw,
0.1 N m; damping 0.05 N m s/rad). No public identification of a real G1's joint friction exists;
MuJoCo Playground and Menagerie use 0.1-0.3 N m, so training randomizes friction x0.5-2. Without it
a limp simulated robot never settles: its waist and shoulders swing for tens of seconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

REFERENCE_PATH = Path(__file__).with_name("g1_29dof_reference.json")
NUM_MOTORS = 29

_LEG_KP = (100.0, 100.0, 100.0, 150.0, 40.0, 40.0)
_LEG_KD = (2.0, 2.0, 2.0, 4.0, 2.0, 2.0)
_WAIST_KP = (300.0, 300.0, 300.0)
_WAIST_KD = (3.0, 3.0, 3.0)
_ARM_KP = (100.0, 100.0, 50.0, 50.0, 20.0, 20.0, 20.0)
_ARM_KD = (2.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0)
DEFAULT_KP = np.array(_LEG_KP * 2 + _WAIST_KP + _ARM_KP * 2)
DEFAULT_KD = np.array(_LEG_KD * 2 + _WAIST_KD + _ARM_KD * 2)
_HOLD_LEG_KP = (250.0, 250.0, 250.0, 350.0, 400.0, 150.0)
_HOLD_LEG_KD = (5.0, 5.0, 5.0, 7.0, 8.0, 4.0)
HOLD_KP = np.array(_HOLD_LEG_KP * 2 + _WAIST_KP + _ARM_KP * 2)
HOLD_KD = np.array(_HOLD_LEG_KD * 2 + _WAIST_KD + _ARM_KD * 2)
DAMP_KD = 8.0
FRICTION_LOSS = {"4010": 0.1}
"""Joint friction loss (N m) by motor model; every other motor's joint has `DEFAULT_FRICTION_LOSS`."""
DEFAULT_FRICTION_LOSS = 0.2
JOINT_DAMPING = 0.05


@dataclass(frozen=True)
class JointSpec:
    name: str
    dds_index: int
    body: str
    axis: tuple[float, float, float]
    lower: float
    upper: float
    effort_limit: float
    velocity_limit: float
    armature: float
    frictionloss: float
    damping: float
    kp: float
    kd: float


@cache
def reference() -> dict:
    """The robot's numbers (frames, inertials, limits, collision set) as shipped with the project."""
    return json.loads(REFERENCE_PATH.read_text())


@cache
def joint_table() -> tuple[JointSpec, ...]:
    joints = sorted(reference()["joints"], key=lambda j: j["dds_index"])
    if [j["dds_index"] for j in joints] != list(range(NUM_MOTORS)):
        raise ValueError(f"{REFERENCE_PATH} must list DDS indices 0..{NUM_MOTORS - 1} exactly once")
    return tuple(
        JointSpec(
            name=j["name"],
            dds_index=j["dds_index"],
            body=j["body"],
            axis=tuple(j["axis"]),
            lower=j["range"][0],
            upper=j["range"][1],
            effort_limit=j["effort_limit"],
            velocity_limit=j["velocity_limit"],
            armature=j["armature"],
            frictionloss=FRICTION_LOSS.get(j["motor"], DEFAULT_FRICTION_LOSS),
            damping=JOINT_DAMPING,
            kp=float(DEFAULT_KP[j["dds_index"]]),
            kd=float(DEFAULT_KD[j["dds_index"]]),
        )
        for j in joints
    )


def joint_names() -> list[str]:
    return [j.name for j in joint_table()]


def joint_index(name: str) -> int:
    """DDS index of a joint; accepts the name with or without the `_joint` suffix."""
    full = name if name.endswith("_joint") else f"{name}_joint"
    for j in joint_table():
        if j.name == full:
            return j.dds_index
    raise KeyError(f"unknown G1 joint {name!r}; known: {', '.join(joint_names())}")


def limits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(lower, upper, effort, velocity) arrays in DDS order."""
    table = joint_table()
    return (
        np.array([j.lower for j in table]),
        np.array([j.upper for j in table]),
        np.array([j.effort_limit for j in table]),
        np.array([j.velocity_limit for j in table]),
    )
