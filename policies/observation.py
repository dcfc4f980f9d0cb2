"""Observations and actions through the policy contract: one builder for the envs and the runtime.

The observation uses only what a real G1 reports (IMU and joint encoders) plus the velocity
command, the last action and the gait phase, so a policy trained on it can run on the robot.
"""

from __future__ import annotations

import math

import numpy as np

from policies.contract import PolicyContract
from robots.interface import JointCommand, RobotState


def projected_gravity(quat: np.ndarray, out: np.ndarray) -> None:
    """World gravity direction (0, 0, -1) in the body frame of a w-x-y-z orientation."""
    w, x, y, z = quat
    out[0] = -2.0 * (x * z - w * y)
    out[1] = -2.0 * (y * z + w * x)
    out[2] = -(1.0 - 2.0 * (x * x + y * y))


class ObservationBuilder:
    def __init__(self, contract: PolicyContract) -> None:
        self.contract = contract
        self.obs = np.zeros(contract.obs_size, dtype=np.float32)
        offsets, start = {}, 0
        for name, size in contract.obs_layout:
            offsets[name] = slice(start, start + size)
            start += size
        self._slices = offsets
        self._scales = {name: np.array(scale) for name, scale in contract.obs_scales}
        self._act = np.array(contract.actuated)
        self._default = np.array(contract.default_pose)
        self._gravity = np.zeros(3)

    def build(self, state: RobotState, command: np.ndarray, last_action: np.ndarray, t: float) -> np.ndarray:
        s, o = self._slices, self.obs
        sc = self._scales
        o[s["gyro"]] = state.gyro * sc.get("gyro", 1.0)
        projected_gravity(state.quat, self._gravity)
        o[s["projected_gravity"]] = self._gravity
        o[s["command"]] = command * sc.get("command", 1.0)
        o[s["joint_pos"]] = state.q[self._act] - self._default[self._act]
        o[s["joint_vel"]] = state.dq[self._act] * sc.get("joint_vel", 1.0)
        o[s["last_action"]] = last_action
        phase = 2.0 * math.pi * (t % self.contract.gait_period) / self.contract.gait_period
        o[s["gait_phase"]] = (math.sin(phase), math.cos(phase))
        return o


class ActionMapper:
    """Action -> joint command: q_des = default + scale * action on the actuated joints."""

    def __init__(self, contract: PolicyContract) -> None:
        self.contract = contract
        self.command = JointCommand(len(contract.joint_names))
        self.command.q[:] = contract.default_pose
        self.command.kp[:] = contract.kp
        self.command.kd[:] = contract.kd
        self.command.enable[:] = 1.0
        self._act = np.array(contract.actuated)
        self._default = np.array(contract.default_pose)[self._act]

    def map(self, action: np.ndarray) -> JointCommand:
        self.command.q[self._act] = self._default + self.contract.action_scale * np.asarray(action)
        return self.command
