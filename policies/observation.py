"""Observations and actions through the policy contract: one builder for the envs and the runtime.

The observation uses only what a real G1 reports (IMU and joint encoders) plus the velocity
command, the last action and the gait phase, so a policy trained on it can run on the robot. The
builder works on batches (one row per robot), so a single env and the batched vector env share it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from policies.arrays import like, namespace
from policies.contract import PolicyContract
from policies.gait import reference_offsets
from robots.g1.joints import joint_index, limits
from robots.interface import JointCommand


def projected_gravity(quat: np.ndarray) -> np.ndarray:
    """World gravity direction (0, 0, -1) in the body frame of w-x-y-z orientations, shape (..., 3)."""
    w, x, y, z = (quat[..., i] for i in range(4))
    return namespace(quat).stack((-2.0 * (x * z - w * y), -2.0 * (y * z + w * x), -(1.0 - 2.0 * (x * x + y * y))),
                                 axis=-1)


class ObservationBuilder:
    def __init__(self, contract: PolicyContract) -> None:
        self.contract = contract
        scales = dict(contract.obs_scales)
        self._parts = [(name, size, np.array(scales.get(name, (1.0,)))) for name, size in contract.obs_layout]
        self._act = np.array(contract.actuated)
        self._default = np.array(contract.default_pose)[self._act]

    def build(self, gyro: np.ndarray, quat: np.ndarray, q: np.ndarray, dq: np.ndarray, command: np.ndarray,
              last_action: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Observations of a batch: every argument has one row per robot (t: one time per robot)."""
        xp = namespace(q)
        phase = 2.0 * np.pi * (t % self.contract.gait_period) / self.contract.gait_period
        act = like(self._act, q)
        values = {
            "gyro": gyro, "projected_gravity": projected_gravity(quat), "command": command,
            "joint_pos": q[..., act] - like(self._default, q), "joint_vel": dq[..., act],
            "last_action": last_action, "gait_phase": xp.stack((xp.sin(phase), xp.cos(phase)), axis=-1),
        }
        parts = [values[name] * like(scale, values[name]) for name, _, scale in self._parts]
        return xp.astype(xp.concat(parts, axis=-1), xp.float32)


class ActionMapper:
    """Action -> joint targets: q = default + reference step(t) + scale * action on the actuated joints,
    inside the joints' ranges, as the low-level controller clamps them: training, evaluation and the
    robot see the same targets."""

    def __init__(self, contract: PolicyContract) -> None:
        self.contract = contract
        self.command = JointCommand(len(contract.joint_names))
        self.command.q[:] = contract.default_pose
        self.command.kp[:] = contract.kp
        self.command.kd[:] = contract.kd
        self.command.enable[:] = 1.0
        self._act = np.array(contract.actuated)
        self._default = np.array(contract.default_pose)
        lower, upper, _, _ = limits()
        rows = [joint_index(name) for name in contract.joint_names]
        self.lower, self.upper = lower[rows], upper[rows]

    def targets(self, actions: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Joint position targets of a batch of actions taken at policy times `t`, shape (n, joints)."""
        offsets = reference_offsets(self.contract, t)
        xp = namespace(offsets)
        q = xp.tile(like(self._default, offsets), (actions.shape[0], 1))
        q[:, like(self._act, q)] += offsets + self.contract.action_scale * actions
        return xp.clip(q, like(self.lower, q), like(self.upper, q))

    def map(self, action: np.ndarray, t: float) -> JointCommand:
        self.command.q[:] = self.targets(np.asarray(action)[None], np.array([t]))[0]
        return self.command


class ObservationHistory:
    """The contract's `obs_history` frames of a batch side by side, oldest first, so the current frame
    ends each row as it does in a single-frame policy. Works on numpy or torch frames."""

    def __init__(self, frames: int) -> None:
        self.frames = frames
        self.buffer: Any = None
        """(robots, frames, frame size): the frames the policy last saw."""

    def start(self, frame: Any, rows: Any = None) -> Any:
        """Every robot in `rows` (all if None) starts afresh: its history is `frame` repeated, as a robot
        that stood still would have seen. Returns the batch's stacked observations."""
        xp = namespace(frame)
        fresh = xp.stack([frame] * self.frames, axis=1)
        if self.buffer is None or rows is None:
            self.buffer = fresh
        else:
            self.buffer[rows] = fresh[rows]
        return self._stacked()

    def add(self, frame: Any) -> Any:
        """The step's frames enter, the oldest leave; returns the stacked observations."""
        xp = namespace(frame)
        self.buffer = xp.concat((self.buffer[:, 1:], frame[:, None]), axis=1)
        return self._stacked()

    def _stacked(self) -> Any:
        """A copy: observations handed out stay as they were when the history moves on or restarts."""
        xp = namespace(self.buffer)
        return xp.asarray(xp.reshape(self.buffer, (self.buffer.shape[0], -1)), copy=True)
