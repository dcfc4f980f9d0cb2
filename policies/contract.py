"""The policy contract: everything a checkpoint must agree on with the robot it drives.

Joint order, default pose, which joints the policy moves, action scale, gains, control period, the
stepping reference actions are residuals on, and the observation layout with its scales. The Gymnasium envs and the runtime build observations and
map actions through the same contract, and a checkpoint carries it (with its hash) so a runtime can
refuse one made for another robot, naming the field that differs.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from robots.g1 import joints
from robots.g1.poses import POSES

LEG_JOINTS = tuple(range(12))
COMMAND_RANGES: tuple[tuple[float, float], ...] = ((-0.5, 1.0), (-0.3, 0.3), (-1.0, 1.0))
"""Forward and lateral speed (m/s) and yaw rate (rad/s) the walking policies are trained over: a
command outside them is refused before the robot moves, never passed through."""


def command_problem(command: tuple[float, ...]) -> str | None:
    """Why a velocity command may not go to a walking policy, or None if it may."""
    names = ("forward speed", "lateral speed", "yaw rate")
    if len(command) != 3:
        return f"a velocity command has three values (VX, VY, WZ), got {len(command)}"
    for value, (low, high), what in zip(command, COMMAND_RANGES, names):
        if not math.isfinite(value):
            return f"the {what} {value} is not a finite number"
        if not low <= value <= high:
            return f"the {what} {value:g} is outside the trained range {low:g} to {high:g}"
    return None


@dataclass(frozen=True)
class PolicyContract:
    robot: str = "unitree_g1_29dof_rev_1_0"
    joint_names: tuple[str, ...] = field(default_factory=lambda: tuple(joints.joint_names()))
    """All motors in DDS order."""
    actuated: tuple[int, ...] = LEG_JOINTS
    """DDS indices the policy's actions drive; the others hold the default pose."""
    default_pose: tuple[float, ...] = field(default_factory=lambda: tuple(float(v) for v in POSES["stand"]))
    action_scale: float = 0.25
    kp: tuple[float, ...] = field(default_factory=lambda: tuple(float(v) for v in _policy_kp()))
    kd: tuple[float, ...] = field(default_factory=lambda: tuple(float(v) for v in _policy_kd()))
    control_dt: float = 0.02
    """Seconds between actions (50 Hz); the PD law runs at every 2 ms physics step in between."""
    gait_period: float = 0.8
    stance_fraction: float = 0.55
    reference_step: tuple[float, float, float] = (-0.25, 0.5, -0.25)
    """Hip pitch, knee and ankle pitch offsets at the top of a swing (rad): actions are residuals on
    the phase-locked stepping reference of `policies/gait.py`."""
    obs_layout: tuple[tuple[str, int], ...] = (
        ("gyro", 3), ("projected_gravity", 3), ("command", 3), ("joint_pos", 12), ("joint_vel", 12),
        ("last_action", 12), ("gait_phase", 2))
    obs_scales: tuple[tuple[str, tuple[float, ...]], ...] = (
        ("gyro", (0.25,)), ("command", (2.0, 2.0, 0.25)), ("joint_vel", (0.05,)))
    stand_still_below: float | None = None
    """A command whose norm is under this stops the stepping reference's clock at the next moment both
    feet are down, so the policy stands still and a hand-over finds both feet on the floor; None: the
    reference steps whatever the command (the first walking policies)."""
    obs_history: int = 1
    """Observation frames the policy sees side by side, oldest first: the current one and those of the
    steps before it. A single frame shows where the body is, not how it has been moving, which a
    shove or the robot's own speed shows only over several."""

    @property
    def frame_size(self) -> int:
        """Values in one observation frame."""
        return sum(n for _, n in self.obs_layout)

    @property
    def obs_size(self) -> int:
        return self.frame_size * self.obs_history

    @property
    def action_size(self) -> int:
        return len(self.actuated)

    def as_dict(self) -> dict:
        """Fields added after the first policies are left out while they hold the behaviour those
        policies were trained with, so their contracts and hashes stay as they were."""
        values = json.loads(json.dumps(asdict(self)))
        return {k: v for k, v in values.items() if not (k in LATER_FIELDS and v == LATER_FIELDS[k])}

    def hash(self) -> str:
        return hashlib.sha256(json.dumps(self.as_dict(), sort_keys=True).encode()).hexdigest()[:16]

    def mismatch(self, other: dict) -> str | None:
        """The first field in which a checkpoint's contract differs from this one, or None; the
        policy's own choices (`POLICY_CHOICES`) are not the robot's to refuse."""
        mine = self.as_dict()
        for key, value in mine.items():
            if key in POLICY_CHOICES:
                continue
            if key not in other:
                return f"{key} (missing from the checkpoint)"
            if other[key] != value:
                return f"{key} (checkpoint {other[key]!r}, robot {value!r})"
        return None

    def with_choices_of(self, stored: dict) -> PolicyContract:
        """This robot's contract with the policy choices a stored contract made (absent: the first
        policies' behaviour)."""
        return replace(self, **{k: stored.get(k, LATER_FIELDS.get(k)) for k in POLICY_CHOICES})


LATER_FIELDS: dict[str, object] = {"stand_still_below": None, "obs_history": 1}
"""Contract fields added later, with the value that reproduces the policies trained before them."""
POLICY_CHOICES = ("stand_still_below", "obs_history")
"""Fields a policy chooses for itself: a runtime takes them from the policy's file."""


def _policy_kp() -> np.ndarray:
    """Unitree's locomotion-deploy gains on the legs; the hold gains on waist and arms."""
    kp = joints.HOLD_KP.copy()
    kp[list(LEG_JOINTS)] = joints.DEFAULT_KP[list(LEG_JOINTS)]
    return kp


def _policy_kd() -> np.ndarray:
    kd = joints.HOLD_KD.copy()
    kd[list(LEG_JOINTS)] = joints.DEFAULT_KD[list(LEG_JOINTS)]
    return kd
