"""The simulated G1 behind the robot interface.

The motor driver's PD law, tau = clamp(tau_ff + kp (q_des - q) + kd (dq_des - dq), +-effort), is
recomputed by MuJoCo at every physics step from the last command (zero-order hold of the command,
as on the real driver): each motor is an affine `general` actuator whose constant term is
tau_ff + kp q_des + kd dq_des and whose bias gains are -kp and -kd, force-limited to the effort
limit. `write()` only rewrites those numbers; no Python runs inside the physics step.
"""

from __future__ import annotations

import math

import mujoco
import numpy as np

from robots.g1.joints import NUM_MOTORS, joint_table
from robots.g1.mjcf import FREE_JOINT
from robots.g1.variants import get_variant
from robots.interface import JointCommand, RobotState
from sim.world import BAND_TENDON, WorldConfig, build_world

SIM_TEMPERATURE_C = 30.0


def _as_index(indices: list[int]) -> slice | np.ndarray:
    """A slice where the indices are contiguous (views and fast copies), else an index array."""
    if indices and indices == list(range(indices[0], indices[0] + len(indices))):
        return slice(indices[0], indices[0] + len(indices))
    return np.array(indices, dtype=np.intp)


class SimRobot:
    """A G1 in MuJoCo. `advance()` steps physics by one control period; the caller sets the pace."""

    num_motors = NUM_MOTORS

    def __init__(self, config: WorldConfig | None = None, control_period: float = 0.002) -> None:
        self.config = config or WorldConfig()
        self.variant = get_variant(self.config.variant)
        substeps = control_period / self.config.timestep
        if substeps < 1 or abs(substeps - round(substeps)) > 1e-9:
            raise ValueError(
                f"control period {control_period} s must be a whole multiple of the physics step {self.config.timestep} s"
            )
        self.substeps = round(substeps)
        self.control_period = control_period
        self.model = build_world(self.config)
        self.data = mujoco.MjData(self.model)
        m = self.model

        active = [j.dds_index for j in joint_table() if j.dds_index not in self.variant.locked]
        jids = [mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, joint_table()[i].name) for i in active]
        aids = [mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_ACTUATOR, joint_table()[i].name.removesuffix("_joint")) for i in active]
        self._active = _as_index(active)
        self._qadr = _as_index([int(m.jnt_qposadr[j]) for j in jids])
        self._vadr = _as_index([int(m.jnt_dofadr[j]) for j in jids])
        self._act = _as_index(aids)
        self._active_mask = self.variant.active_mask

        def sensor(name: str) -> slice:
            sid = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_SENSOR, name)
            adr = int(m.sensor_adr[sid])
            return slice(adr, adr + int(m.sensor_dim[sid]))

        self._quat = sensor("pelvis_quat")
        self._gyro = sensor("pelvis_gyro")
        self._accel = sensor("pelvis_accel")
        self._band = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_TENDON, BAND_TENDON)
        free = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, FREE_JOINT)
        self._free_qadr = int(m.jnt_qposadr[free])
        self._free_vadr = int(m.jnt_dofadr[free])

        self.state = RobotState(NUM_MOTORS)
        self.state.mode_machine = self.variant.mode_machine
        self.state.temperature[:] = SIM_TEMPERATURE_C
        self._copies = self._state_copies()
        self._gate = np.zeros(NUM_MOTORS)
        self._neg_gate = np.zeros(NUM_MOTORS)
        self._ctrl = np.zeros(NUM_MOTORS)
        self._pd = np.zeros((2, NUM_MOTORS))
        # With every motor present, results land straight in MuJoCo's arrays; a variant's gaps scatter.
        everything = slice(0, NUM_MOTORS)
        self._scatter = not (isinstance(self._act, slice) and isinstance(self._active, slice)
                             and self._act == everything and self._active == everything)
        if self._scatter:
            self._bias_out, self._ctrl_out = np.zeros((2, NUM_MOTORS)), np.zeros(NUM_MOTORS)
        else:
            self._bias_out, self._ctrl_out = m.actuator_biasprm[:, 1:3].T, self.data.ctrl
        self.release_band()
        self.write(JointCommand(NUM_MOTORS))

    def _state_copies(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(destination, source) views refreshed by every read; index arrays only for a variant's gaps."""
        d, s = self.data, self.state
        pairs = [(s.q, d.qpos, self._qadr), (s.dq, d.qvel, self._vadr), (s.tau_est, d.actuator_force, self._act)]
        if isinstance(self._active, slice) and all(isinstance(i, slice) for _, _, i in pairs):
            copies = [(dst[self._active], src[idx]) for dst, src, idx in pairs]
        else:
            self._gather = pairs
            copies = []
        if self._quat.stop == self._gyro.start and self._gyro.stop == self._accel.start:
            imu = s.values[4 * NUM_MOTORS : 4 * NUM_MOTORS + 10]
            return copies + [(imu, d.sensordata[self._quat.start : self._accel.stop])]
        return copies + [(s.quat, d.sensordata[self._quat]), (s.gyro, d.sensordata[self._gyro]),
                         (s.accel, d.sensordata[self._accel])]

    # -- robot interface -------------------------------------------------------------------------
    def read(self) -> RobotState:
        d, s = self.data, self.state
        for dst, src in self._copies:
            np.copyto(dst, src)
        if not isinstance(self._active, slice):
            for dst, src, idx in self._gather:
                dst[self._active] = src[idx]
        s.tick = round(d.time * 1000.0)  # simulated time sums float steps: rounded, a tick never slips
        s.stamp = d.time
        return s

    def write(self, cmd: JointCommand) -> None:
        gate, neg_gate, ctrl = self._gate, self._neg_gate, self._ctrl
        np.multiply(cmd.enable, self._active_mask, out=gate)
        np.negative(gate, out=neg_gate)
        np.multiply(cmd.gains, neg_gate, out=self._bias_out)
        np.multiply(cmd.gains, cmd.targets, out=self._pd)
        np.add(self._pd[0], self._pd[1], out=ctrl)
        ctrl += cmd.tau
        np.multiply(ctrl, gate, out=self._ctrl_out)
        if self._scatter:
            self.model.actuator_biasprm[self._act, 1:3] = self._bias_out[:, self._active].T
            self.data.ctrl[self._act] = self._ctrl_out[self._active]

    def close(self) -> None:
        """Nothing to release: the world lives in this process."""

    # -- simulation ------------------------------------------------------------------------------
    def advance(self) -> None:
        """Step physics by one control period, holding the last command."""
        mujoco.mj_step(self.model, self.data, self.substeps)

    def reset(self, q: np.ndarray, band: bool = False, band_pose: np.ndarray | None = None) -> None:
        """Place the robot at joint pose `q`, upright and at rest, with its feet on the floor.

        With `band`, the robot hangs from it at the height where it stands in `band_pose` (default
        `q`) and the band is slack there: a pose folded lower than that hangs with its feet in the
        air, as on Unitree's simulator, and the band lets go once the robot stands.
        """
        m, d = self.model, self.data
        mujoco.mj_resetData(m, d)
        hold = q if band_pose is None else band_pose
        height = max(self.standing_height(q), self.standing_height(hold)) if band else self.standing_height(q)
        self._pose(d, q, height)
        mujoco.mj_forward(m, d)
        if band:
            self.engage_band(hold)
        else:
            self.release_band()

    def standing_height(self, q: np.ndarray) -> float:
        """Pelvis height at which joint pose `q`, upright, just touches the floor."""
        scratch = mujoco.MjData(self.model)
        self._pose(scratch, q, 0.0)
        mujoco.mj_kinematics(self.model, scratch)
        lowest = math.inf
        for g in np.flatnonzero((self.model.geom_bodyid > 0) & (self.model.geom_contype > 0)):
            size = self.model.geom_size[g]
            z = scratch.geom_xpos[g, 2]
            if self.model.geom_type[g] == mujoco.mjtGeom.mjGEOM_SPHERE:
                low = z - size[0]
            else:
                low = z - abs(scratch.geom_xmat[g, 8]) * size[1] - size[0]
            lowest = min(lowest, low)
        return float(-lowest)

    def _pose(self, d: mujoco.MjData, q: np.ndarray, height: float) -> None:
        a = self._free_qadr
        d.qpos[a : a + 7] = (0.0, 0.0, height, 1.0, 0.0, 0.0, 0.0)
        d.qpos[self._qadr] = np.asarray(q)[self._active]

    def engage_band(self, pose: np.ndarray) -> None:
        """Hang the robot from the band, slack when it stands on the floor in `pose`."""
        m = self.model
        scratch = mujoco.MjData(m)
        self._pose(scratch, pose, self.standing_height(pose))
        mujoco.mj_fwdPosition(m, scratch)
        m.tendon_lengthspring[self._band] = (0.0, float(scratch.ten_length[self._band]))
        m.tendon_stiffness[self._band] = self.config.band_stiffness
        m.tendon_damping[self._band] = self.config.band_damping
        m.tendon_rgba[self._band, 3] = 1.0

    def release_band(self) -> None:
        self.model.tendon_stiffness[self._band] = 0.0
        self.model.tendon_damping[self._band] = 0.0
        self.model.tendon_rgba[self._band, 3] = 0.0

    def band_tension(self) -> float:
        """Force the band pulls with now (N)."""
        m, d = self.model, self.data
        stretch = float(d.ten_length[self._band]) - float(m.tendon_lengthspring[self._band, 1])
        return float(m.tendon_stiffness[self._band]) * max(0.0, stretch)

    @property
    def band_engaged(self) -> bool:
        return bool(self.model.tendon_stiffness[self._band] > 0.0)

    @property
    def time(self) -> float:
        return float(self.data.time)

    @property
    def base_height(self) -> float:
        return float(self.data.qpos[self._free_qadr + 2])

    @property
    def base_position(self) -> np.ndarray:
        """The pelvis position in the world (m), a view."""
        return self.data.qpos[self._free_qadr : self._free_qadr + 3]

    @property
    def base_velocity(self) -> np.ndarray:
        """The pelvis linear velocity in the world frame (m/s), a view."""
        return self.data.qvel[self._free_vadr : self._free_vadr + 3]

    @property
    def base_speed(self) -> float:
        """Linear speed of the pelvis (m/s)."""
        a = self._free_vadr
        return float(np.linalg.norm(self.data.qvel[a : a + 3]))
