"""Many G1 walk envs stepped together: MuJoCo's multithreaded rollout keeps Python out of physics.

A step is: targets of every action in one numpy call, one `rollout` call that runs the 10 physics
steps of every robot across threads, then observations, rewards and resets as batch arrays. The
single env (`G1WalkEnv`) and this one share the observation builder, action mapping and reward, so
a policy trained here sees what deployment sees. Finished robots reset in the same step
(`final_obs` and `final_index` in the info), Gymnasium's same-step autoreset.

With a `Randomization`, each robot steps on one of a set of randomized model copies, its new
targets reach the motors a few physics steps late, it is pushed now and then, and its waist and arms
move as an operator's would (`upper_body.py`); without one, every
robot is the nominal deployment model (what the equivalence test with the single env checks).
With a `ForeignG1` (`sim/foreign_g1.py`), every robot is that other G1 model instead (sim-to-sim
evaluation): its joints are found by name, so its qpos order need not be DDS order.
"""

from __future__ import annotations

import os
import time

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium.vector.utils import batch_space
from mujoco import rollout

from policies.arrays import namespace
from policies.contract import PolicyContract
from policies.gait import GaitClock
from policies.observation import ObservationHistory
from sim.envs.feet import FootSensors
from sim.envs.g1_walk import (NOT_PUSHED, G1WalkEnv, LegJoints, WalkBatch, WalkConfig, average_velocity, gait_targets,
                              recovering, sample_commands, walk_rewards)
from sim.envs.randomization import Randomization, model_variants
from sim.envs.upper_body import UpperBodyTargets
from sim.foreign_g1 import ForeignG1

PRIVILEGED_SIZE = 9
"""Critic-only observation: base velocity (3), base height, foot contacts (2), sole heights (2), friction."""


def rotate_into_body(quat: np.ndarray, v: np.ndarray) -> np.ndarray:
    """World-frame vectors expressed in the body frames of w-x-y-z orientations (row by row)."""
    cross = namespace(quat).linalg.cross
    w, u = quat[:, :1], -quat[:, 1:]
    t = 2.0 * cross(u, v)
    return v + w * t + cross(u, t)


def observation_noise(contract: PolicyContract, levels: dict[str, float]) -> np.ndarray:
    """Per-dimension noise amplitude of the policy observation, in observation units."""
    scales = dict(contract.obs_scales)
    parts = [np.full(n, levels.get(name, 0.0)) * np.array(scales.get(name, (1.0,))) for name, n in contract.obs_layout]
    return np.concatenate(parts)


def sensor_slice(model: mujoco.MjModel, name: str) -> slice:
    """Where a named sensor's values lie in `sensordata`."""
    sid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SENSOR, name)
    return slice(int(model.sensor_adr[sid]), int(model.sensor_adr[sid] + model.sensor_dim[sid]))


class G1WalkVectorEnv(gym.vector.VectorEnv):
    metadata = {"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP}

    def __init__(self, num_envs: int, config: WalkConfig | None = None, contract: PolicyContract | None = None,
                 threads: int | None = None, randomization: Randomization | None = None, seed: int = 0,
                 foreign: ForeignG1 | None = None) -> None:
        self.template = G1WalkEnv(config, contract)
        self.config, self.contract = self.template.config, self.template.contract
        self.randomization = randomization or Randomization.none()
        self.num_envs = num_envs
        self.single_observation_space = self.template.observation_space
        self.single_action_space = self.template.action_space
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        robot = self.template.robot
        robot.write(self.template.actions.command)
        self.model = robot.model if foreign is None else foreign.model
        self.substeps = round(self.contract.control_dt / self.model.opt.timestep)
        if self.model.nu != len(self.contract.joint_names) or self.substeps < 1:
            raise ValueError("the vector env needs every motor of the contract in the model (the 29-DoF G1)")
        self.threads = threads or os.cpu_count() or 1
        self._rng = np.random.default_rng(seed)
        self.variants = model_variants(self.model, np.array(self.contract.kp), np.array(self.contract.kd),
                                       self.randomization, self._rng)
        self.variant = np.zeros(num_envs, dtype=np.int64)
        self._models = [self.model] * num_envs
        self._datas = [mujoco.MjData(self.model) for _ in range(self.threads)]
        self._pool = rollout.Rollout(nthread=self.threads)
        self._spec = mujoco.mjtState.mjSTATE_FULLPHYSICS
        self._nq, self._nv = self.model.nq, self.model.nv
        self.states = np.zeros((num_envs, mujoco.mj_stateSize(self.model, self._spec)))
        self._trajectory = np.zeros((num_envs, self.substeps, self.states.shape[1]))
        self._sensors = np.zeros((num_envs, self.substeps, self.model.nsensordata))
        self.commands = np.zeros((num_envs, 3))
        self.mean_velocity = np.zeros((num_envs, 3))
        self.last_actions = np.zeros((num_envs, self.contract.action_size), dtype=np.float32)
        self.steps = np.zeros(num_envs, dtype=np.int64)
        self.gait = GaitClock(self.contract, np.zeros(num_envs, dtype=np.int64))
        self.history = ObservationHistory(self.contract.obs_history)
        self.physics_seconds = 0.0
        """Time spent inside MuJoCo's rollout: the physics ceiling of the very steps taken."""
        nu = self.model.nu
        self._kp, self._kd = np.zeros((num_envs, nu)), np.zeros((num_envs, nu))
        self._targets = np.zeros((num_envs, nu))
        self._latency = np.zeros(num_envs, dtype=np.int64)
        self._next_push = np.zeros(num_envs, dtype=np.int64)
        self._pushed_at = np.full(num_envs, NOT_PUSHED, dtype=np.int64)
        self._effort = self.model.actuator_forcerange[:, 1].copy()
        self._max_steps = round(self.config.episode_seconds / self.contract.control_dt)
        self._command_steps = round(self.config.command_seconds / self.contract.control_dt)
        self._act = np.array(self.contract.actuated)
        joints = [mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_JOINT, name) for name in self.contract.joint_names]
        self._qadr = self.model.jnt_qposadr[joints].copy()
        self._vadr = self.model.jnt_dofadr[joints].copy()
        """qpos and qvel addresses of the contract's joints, DDS order."""
        self._legs = LegJoints.of(self.contract, self.config.soft_limit_fraction)
        self._feet = FootSensors(self.model)
        self._imu_quat, self._imu_gyro = sensor_slice(self.model, "pelvis_quat"), sensor_slice(self.model, "pelvis_gyro")
        self.quat = np.zeros((num_envs, 4))
        self.gyro = np.zeros((num_envs, 3))
        """The pelvis IMU as the single env reads it: the sensors of the last physics step."""
        self.privileged = np.zeros((num_envs, PRIVILEGED_SIZE), dtype=np.float32)
        self.noise = observation_noise(self.contract, dict(self.randomization.obs_noise))
        self._friction = np.array([v.friction for v in self.variants])
        if foreign is None:
            robot.reset(np.array(self.contract.default_pose))
            standing = robot.data
        else:
            standing = foreign.standing(np.array(self.contract.default_pose))
        self._initial_state = np.zeros(self.states.shape[1])
        mujoco.mj_getState(self.model, standing, self._initial_state, self._spec)
        self._default_q = np.array(self.contract.default_pose)
        mapper = self.template.actions
        self._upper = np.array([i for i in range(self.model.nu) if i not in set(self.contract.actuated)])
        self.upper_body = UpperBodyTargets(num_envs, [self.contract.joint_names[i] for i in self._upper],
                                            self._default_q[self._upper], mapper.lower[self._upper],
                                            mapper.upper[self._upper], self.randomization.upper_body,
                                            self.contract.control_dt)

    # -- state layout: [time, qpos, qvel, ...] -------------------------------------------------------
    def _qpos(self) -> np.ndarray:
        return self.states[:, 1 : 1 + self._nq]

    def _qvel(self) -> np.ndarray:
        return self.states[:, 1 + self._nq : 1 + self._nq + self._nv]

    def _push_interval(self, n: int) -> np.ndarray:
        lo, hi = self.randomization.push_seconds
        return np.round(self._rng.uniform(lo, hi, n) / self.contract.control_dt).astype(np.int64)

    def _reset_rows(self, rows: np.ndarray) -> None:
        """Back to the stand pose with joint noise, a new command and new randomization, all rows at once."""
        r = self.randomization
        noise = self._rng.uniform(-1, 1, (len(rows), len(self._act))) * self.config.reset_joint_noise
        self.states[rows] = self._initial_state
        self.states[rows[:, None], 1 + self._qadr[self._act]] += noise
        self.commands[rows] = sample_commands(self._rng, self.config, len(rows), self.gait)
        self.quat[rows] = self._initial_state[1 + 3 : 1 + 7]
        self.gyro[rows] = 0.0
        self.last_actions[rows] = 0.0
        self.mean_velocity[rows] = 0.0
        self.steps[rows] = 0
        self.gait.reset(rows)
        self.variant[rows] = self._rng.integers(0, len(self.variants), len(rows))
        for row in rows:
            v = self.variants[self.variant[row]]
            self._models[row] = v.model
            self._kp[row], self._kd[row] = v.kp, v.kd
        self._targets[rows] = self._default_q
        self.upper_body.reset(rows, self._rng)
        self._latency[rows] = self._rng.integers(r.latency_steps[0], r.latency_steps[1] + 1, len(rows))
        self._next_push[rows] = self._push_interval(len(rows))
        self._pushed_at[rows] = NOT_PUSHED
        self.privileged[rows] = 0.0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._reset_rows(np.arange(self.num_envs))
        return self.restart_observations(), {"command": self.commands.copy()}

    def restart_observations(self, rows: np.ndarray | None = None) -> np.ndarray:
        """The observations of robots whose history starts now (all if `rows` is None): reset, or placed
        anew by an evaluation."""
        return self.history.start(self._frame(), rows)

    @property
    def history_frames(self) -> np.ndarray:
        return self.history.buffer

    def _frame(self) -> np.ndarray:
        qpos, qvel = self._qpos(), self._qvel()
        obs = self.template.observations.build(self.gyro, self.quat, qpos[:, self._qadr], qvel[:, self._vadr],
                                               self.commands, self.last_actions, self.gait.t)
        if self.noise.any():
            obs += (self._rng.uniform(-1, 1, obs.shape) * self.noise).astype(np.float32)
        return obs

    def push(self, rows: np.ndarray, velocity: np.ndarray) -> None:
        """Add a horizontal base velocity (world frame, (len(rows), 2) m/s) to some robots: a shove."""
        start = 1 + self._nq
        self.states[rows, start : start + 2] += velocity
        self._pushed_at[rows] = self.steps[rows]

    def _random_pushes(self) -> None:
        due = np.flatnonzero(self.steps >= self._next_push)
        if due.size == 0:
            return
        angle = self._rng.uniform(0, 2 * np.pi, due.size)
        speed = self._rng.uniform(0, self.randomization.push_speed, due.size)
        self.push(due, np.column_stack((speed * np.cos(angle), speed * np.sin(angle))))
        self._next_push[due] = self.steps[due] + self._push_interval(due.size)

    def base_position(self) -> np.ndarray:
        """World position of every pelvis, (n, 3)."""
        return self._qpos()[:, :3].copy()

    def base_velocity(self) -> tuple[np.ndarray, np.ndarray]:
        """Linear and angular base velocity of every robot in its body frame, (n, 3) each."""
        qpos, qvel = self._qpos(), self._qvel()
        return rotate_into_body(qpos[:, 3:7], qvel[:, 0:3]), qvel[:, 3:6].copy()

    def step(self, actions):
        c = self.config
        actions = np.clip(np.asarray(actions, dtype=np.float32), -c.max_action, c.max_action)
        q_des = self.template.actions.targets(actions, self.gait.t)
        q_des[:, self._upper] = self.upper_body.step(self.steps, self._rng)
        late = np.arange(self.substeps)[None, :] < self._latency[:, None]
        targets = np.where(late[:, :, None], self._targets[:, None, :], q_des[:, None, :])
        control = self._kp[:, None, :] * targets
        self._targets[:] = q_des
        self._random_pushes()
        start = time.perf_counter()
        self._pool.rollout(self._models, self._datas, self.states, control, nstep=self.substeps,
                           state=self._trajectory, sensordata=self._sensors, skip_checks=True)
        self.physics_seconds += time.perf_counter() - start
        self.states[:] = self._trajectory[:, -1]
        sensors = self._sensors[:, -1]
        self.quat[:] = sensors[:, self._imu_quat]
        self.gyro[:] = sensors[:, self._imu_gyro]
        self.steps += 1
        resample = np.flatnonzero(self.steps % self._command_steps == 0)
        if resample.size:
            self.commands[resample] = sample_commands(self._rng, c, resample.size, self.gait)
        self.gait.advance(self.commands)
        qpos, qvel = self._qpos(), self._qvel()
        lin = rotate_into_body(qpos[:, 3:7], qvel[:, 0:3])
        q, dq = qpos[:, self._qadr], qvel[:, self._vadr]
        tau = np.clip(self._kp * (q_des - q) - self._kd * dq, -self._effort, self._effort)
        foot_pos, foot_vel, contact = self._feet.read(sensors)
        gait = gait_targets(self.contract, self._legs, self.gait.t)
        average_velocity(self.mean_velocity, lin, qvel[:, 3:6], c, self.contract.control_dt)
        batch = WalkBatch(self.commands, lin, qvel[:, 3:6], self.quat, qpos[:, 2], q[:, self._act], dq[:, self._act],
                          tau[:, self._act], actions, self.last_actions, foot_pos, foot_vel, contact, *gait,
                          self.mean_velocity, recovering(self.steps, self._pushed_at, c, self.contract.control_dt))
        rewards, terms = walk_rewards(c, self.contract.control_dt, batch, self._legs)
        self.last_actions[:] = actions
        self.privileged[:] = np.column_stack((lin, qpos[:, 2], contact, foot_pos[:, :, 2], self._friction[self.variant]))
        tilt = np.arccos(np.clip(1.0 - 2.0 * (self.quat[:, 1] ** 2 + self.quat[:, 2] ** 2), -1.0, 1.0))
        frame = self._frame()
        obs = self.history.add(frame)
        terminated = (qpos[:, 2] < c.fall_height) | (tilt > c.max_tilt) | ~np.isfinite(frame).all(axis=1)
        truncated = self.steps >= self._max_steps
        info = dict(terms)
        done = np.flatnonzero(terminated | truncated)
        if done.size:
            info["final_obs"] = obs[done].copy()
            info["final_index"] = done
            self._reset_rows(done)
            obs = self.restart_observations(done)
        return obs, rewards, terminated, truncated, info

    _SNAPSHOT = ("states", "commands", "last_actions", "steps", "gait_steps", "gait_quiet", "variant", "quat",
                 "gyro", "privileged", "_kp", "_kd", "_targets", "_latency", "_next_push",
                 "_pushed_at", "history_frames", "mean_velocity")

    @property
    def gait_quiet(self):
        return self.gait.quiet

    @property
    def gait_steps(self) -> np.ndarray:
        return self.gait.steps

    def snapshot(self) -> dict:
        """Every robot's state and the random stream: a resumed run continues exactly from here."""
        return {"arrays": {k: getattr(self, k).copy() for k in self._SNAPSHOT}, "rng": self._rng.bit_generator.state,
                "upper_body": self.upper_body.snapshot()}

    def restore(self, snapshot: dict) -> None:
        arrays = snapshot["arrays"]
        if "gait_steps" not in arrays:  # a run from before the gait clock, whose clock was each robot's steps
            arrays = {**arrays, "gait_steps": arrays["steps"]}
        if "gait_quiet" not in arrays:  # a run from before stepping in place ahead of a stop
            arrays = {**arrays, "gait_quiet": np.full_like(self.gait.quiet, self.gait.period)}
        for key, value in arrays.items():
            if getattr(self, key).shape != value.shape:
                raise ValueError(f"snapshot of {key} has shape {value.shape}, this env {getattr(self, key).shape}")
            getattr(self, key)[...] = value
        self._rng.bit_generator.state = snapshot["rng"]
        self.upper_body.restore(snapshot["upper_body"])
        self._models = [self.variants[i].model for i in self.variant]

    def close_extras(self, **kwargs) -> None:
        self._pool.close()
        self.template.close()
