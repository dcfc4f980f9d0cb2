"""The simulated G1 served over DDS exactly as a real G1 serves itself.

Each 2 ms tick: apply the newest valid LowCmd_ (size, CRC and `mode_machine` checked; motors whose
mode is 0 produce no torque), step physics, publish LowState_ with the millisecond tick,
`mode_machine`, IMU, motor states, the wireless remote bytes and the CRC; publish
`rt/sportmodestate` with the pelvis position and velocity, as Unitree's own simulator does (a real
G1 publishes it only while its own locomotion runs). The elastic band, when on, lets go by itself
once the robot carries its own weight and stands still.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from robots import unitree_go as go
from robots import unitree_hg as hg
from robots.dds_transport import DdsLink, idl_type, take_valid, write_bytes
from robots.g1.joints import NUM_MOTORS
from robots.g1.poses import POSES, get_pose
from robots.interface import JointCommand, rpy_of
from robots.remote import RemoteState
from sim.band_release import SelfSupportRelease
from sim.motion_switcher_service import BOOT_MODE, MotionMode, MotionSwitcherService
from sim.robot import SimRobot
from sim.world import WorldConfig


@dataclass(frozen=True)
class BridgeConfig:
    world: WorldConfig = field(default_factory=WorldConfig)
    domain: int = 1
    interface: str = "lo"
    mode_machine: int | None = None
    """What LowState_ reports and LowCmd_ must echo; the variant's own id when None."""
    band: bool = True
    spawn_pose: str = "stand"
    period: float = 0.002
    discovery_time: float = 0.3
    """Seconds to listen for another robot on the domain before serving one."""
    motion_mode: str = BOOT_MODE
    """The motion_switcher mode active at start ("" for none, as after a release)."""
    service_every: int = 10
    """Ticks between answers to Unitree's services (50 Hz): never more than a few per tick."""


@dataclass
class BridgeCounters:
    commands: int = 0
    bad_crc: int = 0
    bad_size: int = 0
    wrong_mode_machine: int = 0
    commands_while_mode_active: int = 0
    """Commands applied while motion_switcher still reports a mode: a real G1's locomotion would fight them."""
    non_finite_commands: int = 0
    """Commands with NaN or Inf in a target or gain: never applied (the previous command holds)."""
    ab_mode_commands: int = 0
    """Commands with `mode_pr` 1 (parallel A/B ankle motors): applied as pitch/roll, since the G1's
    ankle linkage geometry is not public, and counted so the user is told."""


LOW_STATE_VERSION = (1, 0)
"""What `version` carries: the simulated G1 is no firmware release, and says so with 1.0."""
MOTOR_VOLTAGE_V = 50.4
"""Each motor's supply: a G1's 13-cell battery near the middle of its charge."""
IMU_TEMPERATURE_C = 40
"""The IMU's temperature, warm as inside a running robot's torso."""


class BridgeStartupError(RuntimeError):
    """The bridge cannot serve a robot here; the message says why and what to do."""


class DdsBridge:
    def __init__(self, config: BridgeConfig | None = None) -> None:
        self.config = c = config or BridgeConfig()
        self.robot = SimRobot(c.world, control_period=c.period)
        self.robot.reset(get_pose(c.spawn_pose), band=c.band, band_pose=POSES["stand"])
        self.mode_machine = self.robot.variant.mode_machine if c.mode_machine is None else c.mode_machine
        self.link = DdsLink(c.domain, c.interface)
        self._refuse_a_second_robot()
        self._writer = self.link.writer(self.link.state_topic)
        self._sport_writer = self.link.writer(self.link.topic(go.SPORT_MODE_STATE_TOPIC, idl_type(go.SPORT_MODE_STATE)))
        self._sport_codec = go.SportModeStateCodec()
        self.motion_switcher = MotionSwitcherService(self.link, MotionMode(name=c.motion_mode))
        self._reader = self.link.reader(self.link.cmd_topic)
        self.counters = BridgeCounters()
        self.remote = RemoteState()
        self._remote_bytes = np.frombuffer(self.remote.encode(), np.uint8)
        self._cmd_codec = hg.LowCmdCodec()
        self._state_codec = hg.LowStateCodec()
        self._command = JointCommand(NUM_MOTORS)
        self._band = SelfSupportRelease(self.robot)
        self.robot.write(self._command)
        self._bind_views()

    def _refuse_a_second_robot(self) -> None:
        """Two robots answering on one domain would mix their states in every client's stream."""
        guard = self.link.reader(self.link.state_topic)
        time.sleep(self.config.discovery_time)
        writers = guard.get_matched_publications()
        if writers:
            raise BridgeStartupError(
                f"another robot or bridge already publishes rt/lowstate on DDS domain {self.config.domain} "
                f"({len(writers)} writer(s)): stop it, or serve this one on another --domain")

    def _bind_views(self) -> None:
        mc = self._cmd_codec.message["motor_cmd"][:NUM_MOTORS]
        cmd = self._command
        self._cmd_in = [(cmd.q, mc["q"]), (cmd.dq, mc["dq"]), (cmd.tau, mc["tau"]), (cmd.kp, mc["kp"]),
                        (cmd.kd, mc["kd"])]
        self._cmd_mode = mc["mode"]
        m = self._state_codec.message
        ms = m["motor_state"][:NUM_MOTORS]
        imu = m["imu_state"]
        s = self.robot.state
        self._state_out = [(ms["q"], s.q), (ms["dq"], s.dq), (ms["tau_est"], s.tau_est),
                           (imu["quaternion"], s.quat), (imu["gyroscope"], s.gyro), (imu["accelerometer"], s.accel)]
        self._temps = ms["temperature"]
        self._motor_mode = ms["mode"]
        m["mode_machine"] = self.mode_machine
        m["version"] = LOW_STATE_VERSION
        ms["vol"] = MOTOR_VOLTAGE_V
        imu["temperature"] = IMU_TEMPERATURE_C
        self._sport_codec.message["imu_state"]["temperature"] = IMU_TEMPERATURE_C

    @property
    def command(self) -> JointCommand:
        """What the robot applies: the newest valid LowCmd_'s fields (zero before the first)."""
        return self._command

    def set_remote(self, remote: RemoteState) -> None:
        self.remote = remote
        self._remote_bytes = np.frombuffer(remote.encode(), np.uint8)

    def tick(self, k: int) -> bool:
        if k % self.config.service_every == 0:
            self.motion_switcher.poll()
        self._apply_commands()
        self.robot.advance()
        self._publish_state()
        if self.robot.band_engaged:
            self._band.update()
        return True

    def _apply_commands(self) -> None:
        """Apply the newest valid LowCmd_ that carries this robot's mode_machine; count the rest."""
        applied = False
        for codec in take_valid(self._reader, self._cmd_codec, self.counters):
            if int(codec.message["mode_machine"]) != self.mode_machine:
                self.counters.wrong_mode_machine += 1
                continue
            if not all(np.isfinite(src).all() for _, src in self._cmd_in):
                self.counters.non_finite_commands += 1
                continue
            self._load_command()
            applied = True
            mode_pr = int(codec.message["mode_pr"])
            self._state_codec.message["mode_pr"] = mode_pr
            self.counters.ab_mode_commands += mode_pr == 1
        if applied:
            self.counters.commands += 1
            self.counters.commands_while_mode_active += self.motion_switcher.active
            self.robot.write(self._command)

    def _load_command(self) -> None:
        for dst, src in self._cmd_in:
            dst[:] = src
        np.not_equal(self._cmd_mode, 0, out=self._command.enable, casting="unsafe")

    def _publish_state(self) -> None:
        s = self.robot.read()
        m = self._state_codec.message
        for dst, src in self._state_out:
            dst[:] = src
        self._temps[:] = round(float(s.temperature[0]))
        self._motor_mode[:] = self._command.enable
        m["imu_state"]["rpy"] = rpy_of(s.quat)
        m["tick"] = s.tick
        m["wireless_remote"] = self._remote_bytes
        write_bytes(self._writer, self._state_codec.encode())
        self._publish_sport_state(m["imu_state"])

    def _publish_sport_state(self, imu: np.ndarray) -> None:
        sport = self._sport_codec.message
        robot = self.robot
        seconds, fraction = divmod(robot.time, 1.0)
        sport["stamp"]["sec"], sport["stamp"]["nanosec"] = int(seconds), round(fraction * 1e9)
        for name in ("quaternion", "gyroscope", "accelerometer", "rpy"):
            sport["imu_state"][name] = imu[name]
        sport["position"] = robot.base_position
        sport["velocity"] = robot.base_velocity
        sport["body_height"] = robot.base_height
        sport["yaw_speed"] = imu["gyroscope"][2]
        write_bytes(self._sport_writer, self._sport_codec.encode())

    def close(self) -> None:
        self.link.close()
