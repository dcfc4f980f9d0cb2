"""Velocity-tracking walk for the G1, as a Gymnasium env that is the deployment seen through Gym.

Same model, same motor PD law at every 2 ms physics step (the action is held for the 20 ms control
period, as the 500 Hz loop holds a 50 Hz policy's targets), same observation builder and action
mapping as the runtime (`policies/`). The observation is what a real G1 reports; the reward may
use the simulator's privileged base velocity. Every knob is in `WalkConfig` below.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import gymnasium as gym
import mujoco
import numpy as np

from policies.contract import PolicyContract
from policies.observation import ActionMapper, ObservationBuilder, projected_gravity
from robots.interface import tilt_of
from sim.robot import SimRobot
from sim.world import WorldConfig


@dataclass(frozen=True)
class RewardWeights:
    tracking_lin_vel: float = 1.0
    tracking_ang_vel: float = 0.5
    alive: float = 0.15
    lin_vel_z: float = -2.0
    ang_vel_xy: float = -0.05
    orientation: float = -1.0
    base_height: float = -10.0
    torques: float = -1e-5
    action_rate: float = -0.01
    joint_vel: float = -1e-3


@dataclass(frozen=True)
class WalkConfig:
    command_ranges: tuple[tuple[float, float], ...] = ((-0.5, 1.0), (-0.3, 0.3), (-0.5, 0.5))
    """Ranges of the commanded forward and lateral speed (m/s) and yaw rate (rad/s)."""
    episode_seconds: float = 20.0
    reset_joint_noise: float = 0.05
    tracking_sigma: float = 0.25
    base_height_target: float = 0.78
    fall_height: float = 0.45
    max_tilt: float = 1.0
    """The same threshold as the low-level safety monitor: the env ends where deployment would damp."""
    max_action: float = 4.0
    rewards: RewardWeights = field(default_factory=RewardWeights)
    world: WorldConfig = field(default_factory=WorldConfig)


def walk_rewards(config: WalkConfig, dt: float, command, lin, ang, quat, height, tau, dq, action, last_action):
    """Reward of a batch of robots (one row each): the total per robot and each weighted term."""
    c, w = config, config.rewards
    gravity = projected_gravity(quat)
    terms = {
        "tracking_lin_vel": w.tracking_lin_vel * np.exp(-np.sum((command[:, :2] - lin[:, :2]) ** 2, axis=1) / c.tracking_sigma),
        "tracking_ang_vel": w.tracking_ang_vel * np.exp(-((command[:, 2] - ang[:, 2]) ** 2) / c.tracking_sigma),
        "alive": np.full(len(command), w.alive),
        "lin_vel_z": w.lin_vel_z * lin[:, 2] ** 2,
        "ang_vel_xy": w.ang_vel_xy * np.sum(ang[:, :2] ** 2, axis=1),
        "orientation": w.orientation * np.sum(gravity[:, :2] ** 2, axis=1),
        "base_height": w.base_height * (height - c.base_height_target) ** 2,
        "torques": w.torques * np.sum(tau**2, axis=1),
        "action_rate": w.action_rate * np.sum((action - last_action) ** 2, axis=1),
        "joint_vel": w.joint_vel * np.sum(dq**2, axis=1),
    }
    return sum(terms.values()) * dt, terms


class G1WalkEnv(gym.Env):
    metadata = {"render_modes": ["rgb_array"], "render_fps": 50}

    def __init__(self, config: WalkConfig | None = None, contract: PolicyContract | None = None,
                 render_mode: str | None = None) -> None:
        self.config = config or WalkConfig()
        self.contract = contract or PolicyContract()
        self.render_mode = render_mode
        self.robot = SimRobot(self.config.world, control_period=self.contract.control_dt)
        self.observations = ObservationBuilder(self.contract)
        self.actions = ActionMapper(self.contract)
        n = self.contract.action_size
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (self.contract.obs_size,), np.float32)
        self.action_space = gym.spaces.Box(-self.config.max_action, self.config.max_action, (n,), np.float32)
        self.command = np.zeros(3)
        self.last_action = np.zeros(n, dtype=np.float32)
        self._max_steps = round(self.config.episode_seconds / self.contract.control_dt)
        self._steps = 0
        self._default = np.array(self.contract.default_pose)
        self._renderer: mujoco.Renderer | None = None

    def sample_command(self) -> np.ndarray:
        return np.array([self.np_random.uniform(lo, hi) for lo, hi in self.config.command_ranges])

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        noise = self.np_random.uniform(-1, 1, self._default.size) * self.config.reset_joint_noise
        self.robot.reset(self._default + noise * np.isin(np.arange(noise.size), self.contract.actuated))
        self.command = np.array((options or {}).get("command", self.sample_command()), dtype=float)
        self.last_action[:] = 0.0
        self._steps = 0
        self.robot.write(self.actions.map(self.last_action))
        return self._observe(), {"command": self.command.copy()}

    def _observe(self) -> np.ndarray:
        s = self.robot.read()
        t = np.array([self._steps * self.contract.control_dt])
        return self.observations.build(s.gyro[None], s.quat[None], s.q[None], s.dq[None], self.command[None],
                                       self.last_action[None], t)[0]

    def step(self, action):
        action = np.clip(np.asarray(action, dtype=np.float32), -self.config.max_action, self.config.max_action)
        self.robot.write(self.actions.map(action))
        self.robot.advance()
        self._steps += 1
        reward, terms = self._reward(action)
        self.last_action[:] = action
        obs = self._observe()
        state = self.robot.state
        fallen = self.robot.base_height < self.config.fall_height or tilt_of(state.quat) > self.config.max_tilt
        terminated = bool(fallen or not np.isfinite(obs).all())
        truncated = self._steps >= self._max_steps
        return obs, reward, terminated, truncated, terms

    def base_velocity(self) -> tuple[np.ndarray, np.ndarray]:
        """Linear velocity in the body frame and angular velocity (body frame), from the simulator."""
        d = self.robot.data
        rot = np.zeros(9)
        mujoco.mju_quat2Mat(rot, d.qpos[3:7])
        return rot.reshape(3, 3).T @ d.qvel[0:3], d.qvel[3:6].copy()

    def _reward(self, action: np.ndarray) -> tuple[float, dict]:
        lin, ang = self.base_velocity()
        state = self.robot.read()
        total, terms = walk_rewards(self.config, self.contract.control_dt, self.command[None], lin[None], ang[None],
                                    state.quat[None], np.array([self.robot.base_height]), state.tau_est[None],
                                    state.dq[None], action[None], self.last_action[None])
        return float(total[0]), {k: float(v[0]) for k, v in terms.items()}

    def render(self):
        if self._renderer is None:
            self._renderer = mujoco.Renderer(self.robot.model, 240, 320)
        self._renderer.update_scene(self.robot.data, camera="follow")
        return self._renderer.render()

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
