"""Many G1 walk envs stepped together: MuJoCo's multithreaded rollout keeps Python out of physics.

Every robot shares one model (the policy contract fixes the gains, so the PD law's bias terms are
the same for all), so a step is: targets of every action in one numpy call, one `rollout` call that
runs the 10 physics steps of every robot across threads, then observations, rewards and resets as
batch arrays. The single env (`G1WalkEnv`) and this one share the observation builder, action
mapping and reward, so a policy trained here sees what deployment sees. Finished robots reset in
the same step (`final_obs` and `final_info` in the info), Gymnasium's same-step autoreset.
"""

from __future__ import annotations

import os
import time

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium.vector.utils import batch_space
from mujoco import rollout

from policies.contract import PolicyContract
from sim.envs.g1_walk import G1WalkEnv, WalkConfig, walk_rewards


def rotate_into_body(quat: np.ndarray, v: np.ndarray) -> np.ndarray:
    """World-frame vectors expressed in the body frames of w-x-y-z orientations (row by row)."""
    w, u = quat[:, :1], -quat[:, 1:]
    t = 2.0 * np.cross(u, v)
    return v + w * t + np.cross(u, t)


class G1WalkVectorEnv(gym.vector.VectorEnv):
    metadata = {"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP}

    def __init__(self, num_envs: int, config: WalkConfig | None = None, contract: PolicyContract | None = None,
                 threads: int | None = None) -> None:
        self.template = G1WalkEnv(config, contract)
        self.config, self.contract = self.template.config, self.template.contract
        self.num_envs = num_envs
        self.single_observation_space = self.template.observation_space
        self.single_action_space = self.template.action_space
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        robot = self.template.robot
        robot.write(self.template.actions.command)
        self.model = robot.model
        if self.model.nu != len(self.contract.joint_names) or robot.substeps < 1:
            raise ValueError("the vector env needs every motor of the contract in the model (the 29-DoF G1)")
        self.substeps = robot.substeps
        self.threads = threads or os.cpu_count() or 1
        self._datas = [mujoco.MjData(self.model) for _ in range(self.threads)]
        self._pool = rollout.Rollout(nthread=self.threads)
        self._spec = mujoco.mjtState.mjSTATE_FULLPHYSICS
        self._nq, self._nv = self.model.nq, self.model.nv
        self.states = np.zeros((num_envs, mujoco.mj_stateSize(self.model, self._spec)))
        self._trajectory = np.zeros((num_envs, self.substeps, self.states.shape[1]))
        self._sensors = np.zeros((num_envs, self.substeps, self.model.nsensordata))
        self.commands = np.zeros((num_envs, 3))
        self.last_actions = np.zeros((num_envs, self.contract.action_size), dtype=np.float32)
        self.steps = np.zeros(num_envs, dtype=np.int64)
        self.physics_seconds = 0.0
        """Time spent inside MuJoCo's rollout: the physics ceiling of the very steps taken."""
        self._kp, self._kd = np.array(self.contract.kp), np.array(self.contract.kd)
        self._effort = robot.model.actuator_forcerange[:, 1].copy()
        self._max_steps = round(self.config.episode_seconds / self.contract.control_dt)
        self._rng = np.random.default_rng()
        self._actuated = np.array(self.contract.actuated)
        self._imu_quat, self._imu_gyro = robot._quat, robot._gyro
        self.quat = np.zeros((num_envs, 4))
        self.gyro = np.zeros((num_envs, 3))
        """The pelvis IMU as the single env reads it: the sensors of the last physics step."""
        robot.reset(np.array(self.contract.default_pose))
        self._initial_state = np.zeros(self.states.shape[1])
        mujoco.mj_getState(self.model, robot.data, self._initial_state, self._spec)

    # -- state layout: [time, qpos, qvel, ...] -------------------------------------------------------
    def _qpos(self) -> np.ndarray:
        return self.states[:, 1 : 1 + self._nq]

    def _qvel(self) -> np.ndarray:
        return self.states[:, 1 + self._nq : 1 + self._nq + self._nv]

    def _reset_rows(self, rows: np.ndarray) -> None:
        """Back to the stand pose with joint noise and a new command, all rows at once."""
        noise = self._rng.uniform(-1, 1, (len(rows), len(self.contract.actuated))) * self.config.reset_joint_noise
        self.states[rows] = self._initial_state
        self.states[rows[:, None], 1 + 7 + self._actuated] += noise
        ranges = np.array(self.config.command_ranges)
        self.commands[rows] = self._rng.uniform(ranges[:, 0], ranges[:, 1], (len(rows), 3))
        self.quat[rows] = self._initial_state[1 + 3 : 1 + 7]
        self.gyro[rows] = 0.0
        self.last_actions[rows] = 0.0
        self.steps[rows] = 0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._reset_rows(np.arange(self.num_envs))
        return self._observe(), {"command": self.commands.copy()}

    def _observe(self) -> np.ndarray:
        qpos, qvel = self._qpos(), self._qvel()
        t = self.steps * self.contract.control_dt
        return self.template.observations.build(self.gyro, self.quat, qpos[:, 7:], qvel[:, 6:], self.commands,
                                                self.last_actions, t)

    def step(self, actions):
        c = self.config
        actions = np.clip(np.asarray(actions, dtype=np.float32), -c.max_action, c.max_action)
        q_des = self.template.actions.targets(actions)
        control = np.repeat((self._kp * q_des)[:, None, :], self.substeps, axis=1)
        start = time.perf_counter()
        self._pool.rollout([self.model] * self.num_envs, self._datas, self.states, control, nstep=self.substeps,
                           state=self._trajectory, sensordata=self._sensors, skip_checks=True)
        self.physics_seconds += time.perf_counter() - start
        self.states[:] = self._trajectory[:, -1]
        self.quat[:] = self._sensors[:, -1, self._imu_quat]
        self.gyro[:] = self._sensors[:, -1, self._imu_gyro]
        self.steps += 1
        qpos, qvel = self._qpos(), self._qvel()
        lin = rotate_into_body(qpos[:, 3:7], qvel[:, 0:3])
        tau = np.clip(self._kp * (q_des - qpos[:, 7:]) - self._kd * qvel[:, 6:], -self._effort, self._effort)
        rewards, terms = walk_rewards(c, self.contract.control_dt, self.commands, lin, qvel[:, 3:6], self.quat,
                                      qpos[:, 2], tau, qvel[:, 6:], actions, self.last_actions)
        self.last_actions[:] = actions
        tilt = np.arccos(np.clip(1.0 - 2.0 * (self.quat[:, 1] ** 2 + self.quat[:, 2] ** 2), -1.0, 1.0))
        obs = self._observe()
        terminated = (qpos[:, 2] < c.fall_height) | (tilt > c.max_tilt) | ~np.isfinite(obs).all(axis=1)
        truncated = self.steps >= self._max_steps
        info = {k: v for k, v in terms.items()}
        done = np.flatnonzero(terminated | truncated)
        if done.size:
            info["final_obs"] = obs[done].copy()
            info["final_index"] = done
            self._reset_rows(done)
            obs = self._observe()
        return obs, rewards, terminated, truncated, info

    def close_extras(self, **kwargs) -> None:
        self._pool.close()
        self.template.close()
