"""Many G1 walk envs on MuJoCo Warp: the rollout backend's env with its physics, observations and
rewards on a Warp device (a GPU, or Warp's CPU device where tests check it against the rollout backend).

The same model, motor PD law at every physics step, action latency, observation builder, reward and
termination as `G1WalkVectorEnv`: the formulas are the shared ones (`policies/observation.py`,
`sim/envs/g1_walk.py`), run on torch tensors that are Warp's own arrays (`wp.to_torch`, no copy).
Domain randomization writes each robot's variant into per-world model fields at its reset, so one
Warp model holds every robot's physics. Random draws (reset noise, commands, variants, latency,
pushes, the upper body's goals, sensor noise) come from the same numpy stream in the same order as
the rollout backend's, so the two backends see the same randomness; they reach the device as small
arrays each step. MuJoCo Warp computes in float32, the rollout backend in float64: trajectories
agree closely over short horizons and drift apart over long ones, as any two integrators' do.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

import gymnasium as gym
import mujoco
import numpy as np
import torch
from gymnasium.vector.utils import batch_space

from policies.contract import PolicyContract
from policies.gait import GaitClock
from policies.observation import ObservationHistory
from sim.envs.feet import FootSensors
from sim.envs.g1_walk import (NOT_PUSHED, G1WalkEnv, LegJoints, WalkBatch, WalkConfig, average_velocity, gait_targets,
                              recovering, sample_commands, walk_rewards)
from sim.envs.randomization import Randomization, model_variants
from sim.envs.upper_body import UpperBodyTargets
from sim.envs.vector import PRIVILEGED_SIZE, observation_noise, rotate_into_body, sensor_slice
from sim.envs.warp_support import import_warp

_STATE = mujoco.mjtState.mjSTATE_FULLPHYSICS


@dataclass(frozen=True)
class WarpConfig:
    device: str = "cpu"
    """A Warp device: `cpu` or `cuda`, `cuda:1`, ..."""
    contacts_per_world: int = 48
    """Contact slots per robot; a fallen G1 touches the floor at up to ~20 points."""
    constraints_per_world: int = 256
    """Constraint rows per robot (contacts, joint limits, joint friction); a fallen G1 needs ~110."""


class G1WalkWarpEnv(gym.vector.VectorEnv):
    """`G1WalkVectorEnv`'s interface with torch tensors on `warp.device` in and out."""

    metadata = {"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP}

    def __init__(self, num_envs: int, config: WalkConfig | None = None, contract: PolicyContract | None = None,
                 randomization: Randomization | None = None, seed: int = 0, warp: WarpConfig | None = None) -> None:
        wp, mjw = import_warp()
        self.warp = warp or WarpConfig()
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
        self.model = m = robot.model
        self.substeps = round(self.contract.control_dt / m.opt.timestep)
        self._rng = np.random.default_rng(seed)
        self.variants = model_variants(m, np.array(self.contract.kp), np.array(self.contract.kd), self.randomization,
                                       self._rng)
        self.variant = np.zeros(num_envs, dtype=np.int64)
        self.device = torch.device(str(wp.device_to_torch(self.warp.device)))
        self._wp = wp
        self._mjw = mjw
        varied = self._varied_fields(mjw)
        with wp.ScopedDevice(self.warp.device):
            self._wmodel = mjw.put_model(m, batch_sizes={name: num_envs for name in varied})
            self._wmodel.opt.warn_overflow = 0
            self._wdata = mjw.make_data(m, nworld=num_envs, nconmax=self.warp.contacts_per_world,
                                        njmax=self.warp.constraints_per_world)
        d = self._wdata
        self.qpos, self.qvel = wp.to_torch(d.qpos), wp.to_torch(d.qvel)
        self._ctrl, self._sensordata = wp.to_torch(d.ctrl), wp.to_torch(d.sensordata)
        self._warmstart, self._time = wp.to_torch(d.qacc_warmstart), wp.to_torch(d.time)
        self._fields = {name: wp.to_torch(getattr(self._wmodel, name)) for name in varied}
        self._field_tables = {name: torch.as_tensor(np.stack([getattr(v.model, name) for v in self.variants]),
                                                    dtype=field.dtype, device=self.device).reshape(
                                  len(self.variants), *field.shape[1:]) for name, field in self._fields.items()}
        self._kp_table = self._tensor(np.stack([v.kp for v in self.variants]))
        self._kd_table = self._tensor(np.stack([v.kd for v in self.variants]))
        self._friction = self._tensor(np.array([v.friction for v in self.variants]))
        self.physics_seconds = 0.0
        """Time spent inside MuJoCo Warp's steps: the physics ceiling of the very steps taken."""
        self._variant = torch.zeros(num_envs, dtype=torch.int64, device=self.device)
        nu = m.nu
        self.commands = torch.zeros((num_envs, 3), device=self.device)
        self.mean_velocity = torch.zeros((num_envs, 3), device=self.device)
        self.last_actions = torch.zeros((num_envs, self.contract.action_size), device=self.device)
        self.steps = np.zeros(num_envs, dtype=np.int64)
        """Policy steps into each episode, on the host: the random events it times are drawn there."""
        self._steps = torch.zeros(num_envs, dtype=torch.int64, device=self.device)
        self.gait = GaitClock(self.contract, torch.zeros(num_envs, dtype=torch.int64, device=self.device))
        self.history = ObservationHistory(self.contract.obs_history)
        self._kp, self._kd = torch.zeros((num_envs, nu), device=self.device), torch.zeros((num_envs, nu), device=self.device)
        self._targets = torch.zeros((num_envs, nu), device=self.device)
        self._latency = np.zeros(num_envs, dtype=np.int64)
        self._late = torch.zeros((num_envs, self.substeps), dtype=torch.bool, device=self.device)
        self._next_push = np.zeros(num_envs, dtype=np.int64)
        self._pushed_at = np.full(num_envs, NOT_PUSHED, dtype=np.int64)
        self._effort = self._tensor(m.actuator_forcerange[:, 1])
        self._max_steps = round(self.config.episode_seconds / self.contract.control_dt)
        self._command_steps = round(self.config.command_seconds / self.contract.control_dt)
        self._act = np.array(self.contract.actuated)
        joints = [mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, name) for name in self.contract.joint_names]
        self._qadr = torch.as_tensor(m.jnt_qposadr[joints], device=self.device)
        self._vadr = torch.as_tensor(m.jnt_dofadr[joints], device=self.device)
        legs = LegJoints.of(self.contract, self.config.soft_limit_fraction)
        self._legs = LegJoints(*(self._tensor(a) for a in (legs.lower, legs.upper, legs.default)))
        self._feet = FootSensors(m)
        self._imu_quat, self._imu_gyro = sensor_slice(m, "pelvis_quat"), sensor_slice(m, "pelvis_gyro")
        self.quat = torch.zeros((num_envs, 4), device=self.device)
        self.gyro = torch.zeros((num_envs, 3), device=self.device)
        self.privileged = torch.zeros((num_envs, PRIVILEGED_SIZE), device=self.device)
        self.noise = observation_noise(self.contract, dict(self.randomization.obs_noise))
        robot.reset(np.array(self.contract.default_pose))
        initial = np.zeros(mujoco.mj_stateSize(m, _STATE))
        mujoco.mj_getState(m, robot.data, initial, _STATE)
        self._initial_qpos = self._tensor(initial[1 : 1 + m.nq])
        self._initial_qvel = self._tensor(initial[1 + m.nq : 1 + m.nq + m.nv])
        self._default_q = self._tensor(np.array(self.contract.default_pose))
        mapper = self.template.actions
        self._upper = np.array([i for i in range(nu) if i not in set(self.contract.actuated)])
        self._upper_t = torch.as_tensor(self._upper, device=self.device)
        default = np.array(self.contract.default_pose)
        self.upper_body = UpperBodyTargets(num_envs, [self.contract.joint_names[i] for i in self._upper],
                                            default[self._upper], mapper.lower[self._upper],
                                            mapper.upper[self._upper], self.randomization.upper_body,
                                            self.contract.control_dt)

    def _tensor(self, a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(a, dtype=torch.float32, device=self.device)

    def _varied_fields(self, mjw) -> list[str]:
        """The Warp model fields that differ between the model variants: each robot gets its own row.
        Only fields MuJoCo Warp batches per world qualify (their shape starts with `*`); of the others
        the variants differ only in `dof_length`, which only sleeping reads (off in this model)."""
        import dataclasses

        base = self.variants[0].model
        batched = [f.name for f in dataclasses.fields(mjw.Model) if getattr(f.type, "shape", ())[:1] == ("*",)]
        return [name for name in batched if hasattr(base, name) and any(
            not np.array_equal(getattr(v.model, name), getattr(base, name)) for v in self.variants[1:])]

    # -- resets --------------------------------------------------------------------------------------
    def _push_interval(self, n: int) -> np.ndarray:
        lo, hi = self.randomization.push_seconds
        return np.round(self._rng.uniform(lo, hi, n) / self.contract.control_dt).astype(np.int64)

    def _reset_rows(self, rows: np.ndarray) -> None:
        """As the rollout backend resets rows, drawing the same numbers in the same order."""
        r = self.randomization
        dev = torch.as_tensor(rows, device=self.device)
        noise = self._rng.uniform(-1, 1, (len(rows), len(self._act))) * self.config.reset_joint_noise
        qpos = self._initial_qpos.expand(len(rows), -1).clone()
        qpos[:, self._qadr[self._act]] += self._tensor(noise)
        self.qpos[dev] = qpos
        self.qvel[dev] = self._initial_qvel
        self._warmstart[dev] = 0.0
        self._time[dev] = 0.0
        self.commands[dev] = self._tensor(sample_commands(self._rng, self.config, len(rows), self.gait))
        self.quat[dev] = self._initial_qpos[3:7]
        self.gyro[dev] = 0.0
        self.last_actions[dev] = 0.0
        self.mean_velocity[dev] = 0.0
        self.steps[rows] = 0
        self._steps[dev] = 0
        self.gait.reset(dev)
        self.variant[rows] = self._rng.integers(0, len(self.variants), len(rows))
        self._apply_variants(rows)
        self._targets[dev] = self._default_q
        self.upper_body.reset(rows, self._rng)
        self._latency[rows] = self._rng.integers(r.latency_steps[0], r.latency_steps[1] + 1, len(rows))
        self._late[dev] = torch.as_tensor(np.arange(self.substeps)[None, :] < self._latency[rows, None], device=self.device)
        self._next_push[rows] = self._push_interval(len(rows))
        self._pushed_at[rows] = NOT_PUSHED
        self.privileged[dev] = 0.0

    def _apply_variants(self, rows: np.ndarray) -> None:
        dev = torch.as_tensor(rows, device=self.device)
        chosen = torch.as_tensor(self.variant[rows], device=self.device)
        self._variant[dev] = chosen
        for name, field in self._fields.items():
            field[dev] = self._field_tables[name][chosen]
        self._kp[dev], self._kd[dev] = self._kp_table[chosen], self._kd_table[chosen]

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._reset_rows(np.arange(self.num_envs))
        return self.restart_observations(), {"command": self.commands.clone()}

    def restart_observations(self, rows: np.ndarray | None = None) -> torch.Tensor:
        """The observations of robots whose history starts now (all if `rows` is None)."""
        return self.history.start(self._frame(), None if rows is None else torch.as_tensor(rows, device=self.device))

    @property
    def history_frames(self) -> torch.Tensor:
        return self.history.buffer

    # -- one step ------------------------------------------------------------------------------------
    def _q(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Positions and velocities of the contract's joints, DDS order."""
        return self.qpos[:, self._qadr], self.qvel[:, self._vadr]

    def _frame(self) -> torch.Tensor:
        q, dq = self._q()
        obs = self.template.observations.build(self.gyro, self.quat, q, dq, self.commands, self.last_actions,
                                               self.gait.t)
        if self.noise.any():
            obs += self._tensor(self._rng.uniform(-1, 1, tuple(obs.shape)) * self.noise)
        return obs

    def push(self, rows: np.ndarray, velocity: np.ndarray) -> None:
        """Add a horizontal base velocity (world frame, (len(rows), 2) m/s) to some robots: a shove."""
        self.qvel[torch.as_tensor(rows, device=self.device), 0:2] += self._tensor(velocity)
        self._pushed_at[rows] = self.steps[rows]

    def _random_pushes(self) -> None:
        due = np.flatnonzero(self.steps >= self._next_push)
        if due.size == 0:
            return
        angle = self._rng.uniform(0, 2 * np.pi, due.size)
        speed = self._rng.uniform(0, self.randomization.push_speed, due.size)
        self.push(due, np.column_stack((speed * np.cos(angle), speed * np.sin(angle))))
        self._next_push[due] = self.steps[due] + self._push_interval(due.size)

    def base_position(self) -> torch.Tensor:
        return self.qpos[:, :3].clone()

    def base_velocity(self) -> tuple[torch.Tensor, torch.Tensor]:
        return rotate_into_body(self.qpos[:, 3:7], self.qvel[:, 0:3]), self.qvel[:, 3:6].clone()

    def _physics(self, control: torch.Tensor) -> None:
        """The control period's physics steps, each with its PD set-points (`control`: (n, substeps, nu))."""
        start = time.perf_counter()
        with self._wp.ScopedDevice(self.warp.device), self._on_torch_stream():
            for k in range(self.substeps):
                self._ctrl.copy_(control[:, k])
                self._mjw.step(self._wmodel, self._wdata)
            self._wp.synchronize_device(self.warp.device)
        self.physics_seconds += time.perf_counter() - start

    def _on_torch_stream(self):
        """On a GPU, Warp launches on torch's current stream, so its steps and the torch work around
        them run in order without a device-wide wait."""
        if self.device.type != "cuda":
            return contextlib.nullcontext()
        return self._wp.ScopedStream(self._wp.stream_from_torch(torch.cuda.current_stream(self.device)))

    def step(self, actions: torch.Tensor):
        c, dt = self.config, self.contract.control_dt
        actions = torch.clamp(torch.as_tensor(actions, dtype=torch.float32, device=self.device),
                              -c.max_action, c.max_action)
        q_des = self.template.actions.targets(actions, self.gait.t)
        q_des[:, self._upper_t] = self._tensor(self.upper_body.step(self.steps, self._rng))
        targets = torch.where(self._late[:, :, None], self._targets[:, None, :], q_des[:, None, :])
        control = self._kp[:, None, :] * targets
        self._targets[:] = q_des
        self._random_pushes()
        self._physics(control)
        sensors = self._sensordata
        self.quat[:] = sensors[:, self._imu_quat]
        self.gyro[:] = sensors[:, self._imu_gyro]
        self.steps += 1
        self._steps += 1
        resample = np.flatnonzero(self.steps % self._command_steps == 0)
        if resample.size:
            self.commands[torch.as_tensor(resample, device=self.device)] = self._tensor(
                sample_commands(self._rng, c, resample.size, self.gait))
        self.gait.advance(self.commands)
        qpos, qvel = self.qpos, self.qvel
        lin = rotate_into_body(qpos[:, 3:7], qvel[:, 0:3])
        q, dq = self._q()
        tau = torch.clamp(self._kp * (q_des - q) - self._kd * dq, -self._effort, self._effort)
        foot_pos, foot_vel, contact = self._feet.read(sensors)
        gait = gait_targets(self.contract, self._legs, self.gait.t)
        act = self._act
        average_velocity(self.mean_velocity, lin, qvel[:, 3:6], c, dt)
        batch = WalkBatch(self.commands, lin, qvel[:, 3:6], self.quat, qpos[:, 2], q[:, act], dq[:, act], tau[:, act],
                          actions, self.last_actions, foot_pos, foot_vel, contact, *gait, self.mean_velocity,
                          self._tensor(recovering(self.steps, self._pushed_at, c, dt)))
        rewards, terms = walk_rewards(c, dt, batch, self._legs)
        self.last_actions[:] = actions
        self.privileged[:] = torch.cat((lin, qpos[:, 2:3], contact.float(), foot_pos[:, :, 2],
                                        self._friction[self._variant][:, None]), dim=1)
        tilt = torch.arccos(torch.clamp(1.0 - 2.0 * (self.quat[:, 1] ** 2 + self.quat[:, 2] ** 2), -1.0, 1.0))
        frame = self._frame()
        obs = self.history.add(frame)
        terminated = (qpos[:, 2] < c.fall_height) | (tilt > c.max_tilt) | ~torch.isfinite(frame).all(dim=1)
        truncated = self._steps >= self._max_steps
        info = dict(terms)
        done = torch.nonzero(terminated | truncated).flatten()
        if done.numel():
            info["final_obs"] = obs[done].clone()
            info["final_index"] = done
            self._reset_rows(done.cpu().numpy())
            obs = self.restart_observations(done)
        return obs, rewards, terminated, truncated, info

    # -- persistence ---------------------------------------------------------------------------------
    _SNAPSHOT = ("qpos", "qvel", "commands", "last_actions", "steps", "gait_steps", "gait_quiet", "variant",
                 "quat", "gyro", "privileged", "_kp", "_kd", "_targets", "_latency", "_next_push",
                 "_pushed_at", "history_frames", "mean_velocity")

    @property
    def gait_quiet(self):
        return self.gait.quiet

    @property
    def gait_steps(self) -> torch.Tensor:
        return self.gait.steps

    def snapshot(self) -> dict:
        """Every robot's state and the random stream, on the host: a resumed run continues from here."""
        def host(a):
            return a.cpu().clone() if isinstance(a, torch.Tensor) else a.copy()

        return {"arrays": {k: host(getattr(self, k)) for k in self._SNAPSHOT},
                "warmstart": self._warmstart.cpu().clone(), "rng": self._rng.bit_generator.state,
                "upper_body": self.upper_body.snapshot()}

    def restore(self, snapshot: dict) -> None:
        for key, value in snapshot["arrays"].items():
            mine = getattr(self, key)
            if tuple(mine.shape) != tuple(value.shape):
                raise ValueError(f"snapshot of {key} has shape {tuple(value.shape)}, this env {tuple(mine.shape)}")
            if isinstance(mine, torch.Tensor):
                mine.copy_(torch.as_tensor(value))
            else:
                mine[...] = value
        self._warmstart.copy_(snapshot["warmstart"])
        self._steps.copy_(torch.as_tensor(self.steps))
        self._late.copy_(torch.as_tensor(np.arange(self.substeps)[None, :] < self._latency[:, None]))
        self._rng.bit_generator.state = snapshot["rng"]
        self.upper_body.restore(snapshot["upper_body"])
        self._apply_variants(np.arange(self.num_envs))

    def close_extras(self, **kwargs) -> None:
        self.template.close()
