"""Velocity-tracking walk for the G1, as a Gymnasium env that is the deployment seen through Gym.

Same model, same motor PD law at every 2 ms physics step (the action is held for the 20 ms control
period, as the 500 Hz loop holds a 50 Hz policy's targets), same observation builder and action
mapping as the runtime (`policies/`). The observation is what a real G1 reports; the reward may
use the simulator's privileged base velocity. Every knob is in `WalkConfig` below.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import gymnasium as gym
import mujoco
import numpy as np

from policies.arrays import device, like, namespace
from policies.contract import COMMAND_RANGES, PolicyContract
from policies.gait import LEG_SAGITTAL, GaitClock, leg_phases, reference_offsets, swing_lift
from policies.observation import ActionMapper, ObservationBuilder, ObservationHistory, projected_gravity
from robots.g1.joints import joint_table
from robots.interface import tilt_of
from sim.envs.feet import FootSensors
from sim.robot import SimRobot
from sim.world import WorldConfig


@dataclass(frozen=True)
class RewardWeights:
    """Per-term weights, after the G1 set of Unitree's own RL gym (a phase-locked stepping gait), with
    the swing foot's height referenced to the gait phase. Actions are residuals on the in-place
    reference step, so `joint_reference` is a price on every sagittal residual, the very ones a
    faster stride needs: weighed against tracking, it must leave a 1 m/s stride worth taking."""
    tracking_lin_vel: float = 1.5
    tracking_ang_vel: float = 1.0
    tracking_mean_lin_vel: float = 1.0
    tracking_mean_ang_vel: float = 1.5
    alive: float = 0.15
    lin_vel_z: float = -2.0
    ang_vel_xy: float = -0.05
    orientation: float = -1.0
    base_height: float = -10.0
    torques: float = -1e-5
    action_rate: float = -0.01
    joint_vel: float = -1e-3
    joint_limits: float = -5.0
    hip_pos: float = -1.0
    contact_no_vel: float = -0.2
    feet_swing_height: float = -30.0
    contact: float = 0.18
    joint_reference: float = 0.6


@dataclass(frozen=True)
class WalkConfig:
    command_ranges: tuple[tuple[float, float], ...] = ((COMMAND_RANGES[0][0], 1.2), *COMMAND_RANGES[1:])
    """Ranges of the commanded forward and lateral speed (m/s) and yaw rate (rad/s) trained over. Forward
    reaches past the 1.0 m/s the runtime accepts (`COMMAND_RANGES`): every walker here undershot the
    fastest command it trained on (0.68-0.85 m/s at 1.0), so training to 1.2 makes 1.0 an inner one."""
    standing_fraction: float = 0.2
    """Share of sampled commands that are zero, so the policy also learns to stand, and to stop."""
    axis_zero_fraction: float = 0.3
    """Chance that each of a command's three values is zero on its own: an operator mostly steers one
    stick at a time, and straight walking, turning on the spot and side-stepping are rare among
    commands drawn uniformly over all three axes at once."""
    command_seconds: float = 5.0
    """A new command is drawn this often within an episode: often enough that stopping from a walk,
    which every hand-over to a pose state begins with, is practised in most episodes, not a few."""
    episode_seconds: float = 20.0
    reset_joint_noise: float = 0.05
    tracking_sigma: float = 0.25
    """Width of the tracking rewards' kernel, exp(-error^2 / sigma), legged_gym's: narrower kernels
    give a policy far from its command too little gradient to learn from."""
    mean_tracking_sigma: float = 0.1
    """Width of the mean-tracking rewards' kernel. On the wide kernel a 0.1 m/s miss costs 4 % of the
    term, too little to close; on this one it costs 10 %, a 0.15 rad/s miss 20 %."""
    mean_velocity_seconds: float = 0.8
    """Time constant of the velocity average the mean-tracking terms judge: a gait period, so the sway
    within every step (0.1-0.3 m/s and rad/s, step to step) is not priced as a miss, and a narrow
    kernel on instant velocity does not teach the policy to sway less instead of tracking better."""
    base_height_target: float = 0.78
    swing_height: float = 0.07
    """Peak sole height (m) of the swing: each foot follows the reference step's half sine (see
    `policies/gait.py`), on the floor in stance, so the reward says when to lift a foot."""
    recovery_seconds: float = 1.0
    """After a push, the stepping reference's terms (`contact`, `feet_swing_height`, `joint_reference`)
    are off for this long. The reference is a prior for walking, not for catching a fall: a shoved
    robot must put a foot where its weight is going, whatever the gait's phase says."""
    soft_limit_fraction: float = 0.9
    fall_height: float = 0.45
    max_tilt: float = 1.0
    """The same threshold as the low-level safety monitor: the env ends where deployment would damp."""
    max_action: float = 4.0
    rewards: RewardWeights = field(default_factory=RewardWeights)
    world: WorldConfig = field(default_factory=WorldConfig)

    def holding(self, command: tuple[float, float, float]) -> WalkConfig:
        """This config with one command, never zeroed or redrawn: what an evaluation asks of a policy."""
        return replace(self, command_ranges=tuple((v, v) for v in command), standing_fraction=0.0,
                       axis_zero_fraction=0.0, command_seconds=1e9)


HIP_ROLL_YAW = (1, 2, 7, 8)
"""Leg joints (policy action order) that a straight gait keeps near zero."""
_HIP_ROLL_YAW, _SAGITTAL = np.array(HIP_ROLL_YAW), LEG_SAGITTAL.ravel()


@dataclass
class WalkBatch:
    """What the reward sees of a batch of robots, one row each (privileged simulator values included)."""
    command: np.ndarray
    lin: np.ndarray
    """Base linear velocity in the body frame."""
    ang: np.ndarray
    quat: np.ndarray
    height: np.ndarray
    q: np.ndarray
    """Positions of the actuated joints."""
    dq: np.ndarray
    tau: np.ndarray
    action: np.ndarray
    last_action: np.ndarray
    foot_pos: np.ndarray
    foot_vel: np.ndarray
    contact: np.ndarray
    stance: np.ndarray
    """(n, 2): whether each leg's gait phase is stance."""
    lift: np.ndarray
    """(n, 2): each leg's swing lift, 0 in stance, up to 1 mid-swing."""
    reference: np.ndarray
    """Positions of the actuated joints in the reference step."""
    mean_velocity: np.ndarray
    """(n, 3): forward and lateral speed and yaw rate, averaged over `mean_velocity_seconds`."""
    recovering: np.ndarray | None = None
    """(n,): whether each robot is within `recovery_seconds` of a push; None: no robot was pushed."""


@dataclass(frozen=True)
class LegJoints:
    """The actuated joints' soft limits (shrunk about their middle) and default pose, for the reward."""
    lower: np.ndarray
    upper: np.ndarray
    default: np.ndarray

    @classmethod
    def of(cls, contract: PolicyContract, fraction: float) -> LegJoints:
        table = joint_table()
        lo = np.array([table[i].lower for i in contract.actuated])
        hi = np.array([table[i].upper for i in contract.actuated])
        mid, half = (lo + hi) / 2, (hi - lo) / 2 * fraction
        return cls(mid - half, mid + half, np.array(contract.default_pose)[list(contract.actuated)])


def gait_targets(contract: PolicyContract, legs: LegJoints, t: np.ndarray) -> tuple[np.ndarray, ...]:
    """Stance flags, swing lift and reference joint positions at policy times `t`, for `WalkBatch`."""
    phases = leg_phases(contract, t)
    reference = like(legs.default, phases) + reference_offsets(contract, t)
    return phases < contract.stance_fraction, swing_lift(contract, phases), reference


def walk_rewards(config: WalkConfig, dt: float, b: WalkBatch, legs: LegJoints) -> tuple[np.ndarray, dict]:
    """Reward of a batch of robots: the total per robot and each weighted term."""
    c, w, xp = config, config.rewards, namespace(b.q)
    gravity = projected_gravity(b.quat)
    swing_target = c.swing_height * b.lift
    beyond = xp.clip(like(legs.lower, b.q) - b.q, 0, None) + xp.clip(b.q - like(legs.upper, b.q), 0, None)
    miss = xp.linalg.vector_norm((b.q - b.reference)[:, like(_SAGITTAL, b.q)], axis=1)
    mean_error = (b.command - b.mean_velocity) ** 2
    terms = {
        "tracking_lin_vel": w.tracking_lin_vel * xp.exp(-xp.sum((b.command[:, :2] - b.lin[:, :2]) ** 2, axis=1) / c.tracking_sigma),
        "tracking_ang_vel": w.tracking_ang_vel * xp.exp(-((b.command[:, 2] - b.ang[:, 2]) ** 2) / c.tracking_sigma),
        "tracking_mean_lin_vel": w.tracking_mean_lin_vel * xp.exp(-(mean_error[:, 0] + mean_error[:, 1]) / c.mean_tracking_sigma),
        "tracking_mean_ang_vel": w.tracking_mean_ang_vel * xp.exp(-mean_error[:, 2] / c.mean_tracking_sigma),
        "alive": xp.full(b.command.shape[0], w.alive, dtype=b.command.dtype, device=device(b.command)),
        "lin_vel_z": w.lin_vel_z * b.lin[:, 2] ** 2,
        "ang_vel_xy": w.ang_vel_xy * xp.sum(b.ang[:, :2] ** 2, axis=1),
        "orientation": w.orientation * xp.sum(gravity[:, :2] ** 2, axis=1),
        "base_height": w.base_height * (b.height - c.base_height_target) ** 2,
        "torques": w.torques * xp.sum(b.tau**2, axis=1),
        "action_rate": w.action_rate * xp.sum((b.action - b.last_action) ** 2, axis=1),
        "joint_vel": w.joint_vel * xp.sum(b.dq**2, axis=1),
        "joint_limits": w.joint_limits * xp.sum(beyond, axis=1),
        "hip_pos": w.hip_pos * xp.sum(b.q[:, like(_HIP_ROLL_YAW, b.q)] ** 2, axis=1),
        "contact_no_vel": w.contact_no_vel * xp.sum(xp.sum(b.foot_vel**2, axis=2) * b.contact, axis=1),
        "feet_swing_height": w.feet_swing_height * xp.sum((b.foot_pos[:, :, 2] - swing_target) ** 2, axis=1),
        "contact": w.contact * xp.sum(xp.astype(b.contact == b.stance, b.q.dtype), axis=1),
        "joint_reference": w.joint_reference * (xp.exp(-2.0 * miss) - 0.2 * xp.clip(miss, None, 0.5)),
    }
    if b.recovering is not None:
        walking = 1.0 - xp.astype(b.recovering, b.q.dtype)
        for key in ("contact", "feet_swing_height", "joint_reference"):
            terms[key] = terms[key] * walking
    return sum(terms.values()) * dt, terms


def average_velocity(mean: np.ndarray, lin: np.ndarray, ang: np.ndarray, config: WalkConfig, dt: float) -> None:
    """One policy step of `WalkBatch.mean_velocity`'s exponential average, in place."""
    xp = namespace(mean)
    now = xp.stack((lin[:, 0], lin[:, 1], ang[:, 2]), axis=1)
    mean += (now - mean) * (dt / config.mean_velocity_seconds)


NOT_PUSHED = np.iinfo(np.int64).min // 2
"""The step of the last push of a robot never pushed in its episode."""


def recovering(steps: np.ndarray, pushed_at: np.ndarray, config: WalkConfig, dt: float) -> np.ndarray:
    """Whether each robot is within `recovery_seconds` of its last push."""
    return steps - pushed_at <= round(config.recovery_seconds / dt)


def sample_commands(rng: np.random.Generator, config: WalkConfig, n: int, gait: GaitClock) -> np.ndarray:
    """n velocity commands drawn from the configured ranges, a `standing_fraction` of them zero, as are
    those the gait stands still for (the policy never learns to creep)."""
    ranges = np.array(config.command_ranges)
    commands = rng.uniform(ranges[:, 0], ranges[:, 1], (n, 3))
    commands[rng.random((n, 3)) < config.axis_zero_fraction] = 0.0
    commands[rng.random(n) < config.standing_fraction] = 0.0
    commands[gait.standing(commands)] = 0.0
    return commands


class G1WalkEnv(gym.Env):
    metadata = {"render_modes": ["rgb_array"], "render_fps": 50}

    def __init__(self, config: WalkConfig | None = None, contract: PolicyContract | None = None,
                 render_mode: str | None = None) -> None:
        self.config = config or WalkConfig()
        self.contract = contract or PolicyContract()
        self.render_mode = render_mode
        self.robot = SimRobot(self.config.world, control_period=self.contract.control_dt)
        self.observations = ObservationBuilder(self.contract)
        self.history = ObservationHistory(self.contract.obs_history)
        self.actions = ActionMapper(self.contract)
        n = self.contract.action_size
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (self.contract.obs_size,), np.float32)
        self.action_space = gym.spaces.Box(-self.config.max_action, self.config.max_action, (n,), np.float32)
        self.command = np.zeros(3)
        self.mean_velocity = np.zeros((1, 3))
        self.last_action = np.zeros(n, dtype=np.float32)
        self._max_steps = round(self.config.episode_seconds / self.contract.control_dt)
        self._steps = 0
        self._default = np.array(self.contract.default_pose)
        self._feet = FootSensors(self.robot.model)
        self._legs = LegJoints.of(self.contract, self.config.soft_limit_fraction)
        self._act = np.array(self.contract.actuated)
        self._renderer: mujoco.Renderer | None = None
        self.gait = GaitClock(self.contract, np.zeros(1, dtype=np.int64))

    def sample_command(self) -> np.ndarray:
        return sample_commands(self.np_random, self.config, 1, self.gait)[0]

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        noise = self.np_random.uniform(-1, 1, self._default.size) * self.config.reset_joint_noise
        self.robot.reset(self._default + noise * np.isin(np.arange(noise.size), self.contract.actuated))
        self.command = np.array((options or {}).get("command", self.sample_command()), dtype=float)
        self.last_action[:] = 0.0
        self.mean_velocity[:] = 0.0
        self._steps = 0
        self.gait.reset(slice(None))
        self.robot.write(self.actions.map(self.last_action, 0.0))
        return self.history.start(self._frame())[0], {"command": self.command.copy()}

    def _frame(self) -> np.ndarray:
        s = self.robot.read()
        t = self.gait.t
        return self.observations.build(s.gyro[None], s.quat[None], s.q[None], s.dq[None], self.command[None],
                                       self.last_action[None], t)

    def step(self, action):
        action = np.clip(np.asarray(action, dtype=np.float32), -self.config.max_action, self.config.max_action)
        self.robot.write(self.actions.map(action, float(self.gait.t[0])))
        self.robot.advance()
        self._steps += 1
        if self._steps % round(self.config.command_seconds / self.contract.control_dt) == 0:
            self.command = self.sample_command()
        self.gait.advance(self.command[None])
        reward, terms = self._reward(action)
        self.last_action[:] = action
        frame = self._frame()
        obs = self.history.add(frame)[0]
        state = self.robot.state
        fallen = self.robot.base_height < self.config.fall_height or tilt_of(state.quat) > self.config.max_tilt
        terminated = bool(fallen or not np.isfinite(frame).all())
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
        foot_pos, foot_vel, contact = self._feet.read(self.robot.data.sensordata[None])
        gait = gait_targets(self.contract, self._legs, self.gait.t)
        average_velocity(self.mean_velocity, lin[None], ang[None], self.config, self.contract.control_dt)
        batch = WalkBatch(self.command[None], lin[None], ang[None], state.quat[None], np.array([self.robot.base_height]),
                          state.q[None, self._act], state.dq[None, self._act], state.tau_est[None, self._act],
                          action[None], self.last_action[None], foot_pos, foot_vel, contact, *gait, self.mean_velocity)
        total, terms = walk_rewards(self.config, self.contract.control_dt, batch, self._legs)
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
