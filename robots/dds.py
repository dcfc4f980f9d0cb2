"""The G1 over DDS behind the robot interface: a real robot, or any simulator that speaks its DDS.

Every LowState_ is size- and CRC-checked before anything uses it (bad ones are dropped and
counted); `age` tells the safety layer how old the newest valid state is, so a silent robot or
bridge damps the loop. Every LowCmd_ echoes the robot's `mode_machine`, sets each motor's enable
bit, and carries its CRC. Start-up refuses to drive when no state arrives, when the robot is
another variant, or when another program already publishes rt/lowcmd.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from robots import unitree_hg as hg
from robots.dds_transport import DdsLink, take_valid, write_bytes
from robots.g1.joints import NUM_MOTORS
from robots.g1.variants import VARIANTS, get_variant
from robots.interface import JointCommand, RobotState

SIMULATOR_MODE_MACHINE = 0
"""Some simulators leave mode_machine at 0; it is accepted for any variant."""


@dataclass(frozen=True)
class DdsConfig:
    interface: str = "lo"
    domain: int = 1
    variant: str = "29dof"
    first_state_timeout: float = 2.0
    discovery_time: float = 0.3
    """Seconds to let discovery settle before checking for another rt/lowcmd publisher."""


@dataclass
class DdsCounters:
    states: int = 0
    bad_crc: int = 0
    bad_size: int = 0


class DdsStartupError(RuntimeError):
    """The robot cannot be driven safely; the message says why and what to check."""


class DdsRobot:
    num_motors = NUM_MOTORS

    def __init__(self, config: DdsConfig | None = None) -> None:
        self.config = c = config or DdsConfig()
        self.variant = get_variant(c.variant)
        self.link = DdsLink(c.domain, c.interface)
        self.counters = DdsCounters()
        self.state = RobotState(NUM_MOTORS)
        self._state_codec = hg.LowStateCodec()
        self._cmd_codec = hg.LowCmdCodec()
        self._last_valid = -np.inf
        self._enable = np.zeros(NUM_MOTORS)
        self._bind_views()
        self._state_reader = self.link.reader(self.link.state_topic)
        self._cmd_guard = self.link.reader(self.link.cmd_topic)
        self._wait_for_first_state()
        self._check_variant()
        self._check_no_other_commander()
        self._cmd_writer = self.link.writer(self.link.cmd_topic)

    def _bind_views(self) -> None:
        ms = self._state_codec.message["motor_state"][:NUM_MOTORS]
        imu = self._state_codec.message["imu_state"]
        self._in = [(self.state.q, ms["q"]), (self.state.dq, ms["dq"]), (self.state.tau_est, ms["tau_est"]),
                    (self.state.quat, imu["quaternion"]), (self.state.gyro, imu["gyroscope"]),
                    (self.state.accel, imu["accelerometer"])]
        self._temps = ms["temperature"]
        mc = self._cmd_codec.message["motor_cmd"][:NUM_MOTORS]
        self._out_q, self._out_dq, self._out_tau = mc["q"], mc["dq"], mc["tau"]
        self._out_kp, self._out_kd, self._out_mode = mc["kp"], mc["kd"], mc["mode"]

    def _wait_for_first_state(self) -> None:
        c = self.config
        deadline = time.monotonic() + c.first_state_timeout
        while time.monotonic() < deadline:
            if self._receive():
                return
            time.sleep(0.002)
        raise DdsStartupError(
            f"no valid LowState_ on rt/lowstate for {c.first_state_timeout:g} s (domain {c.domain}, interface "
            f"{c.interface}): is the robot or `bessemer bridge` running on that domain? A real G1 uses domain 0 "
            f"on its wired interface, the bridge domain 1 on lo; a peer configured for multicast on lo sees "
            f"nothing; {self.counters.bad_crc} states had a bad CRC, {self.counters.bad_size} a wrong size")

    def _check_variant(self) -> None:
        reported = int(self._state_codec.message["mode_machine"])
        if reported not in (self.variant.mode_machine, SIMULATOR_MODE_MACHINE):
            known = {v.mode_machine: v.name for v in VARIANTS.values()}
            hint = f"pass --variant {known[reported]}" if reported in known else "this G1 type is not supported"
            raise DdsStartupError(f"the robot reports mode_machine {reported}, but the configured variant "
                                  f"{self.variant.name} is {self.variant.mode_machine}: {hint}")

    def _check_no_other_commander(self) -> None:
        time.sleep(self.config.discovery_time)
        writers = self._cmd_guard.get_matched_publications()
        if writers:
            raise DdsStartupError(
                f"another program already publishes rt/lowcmd ({len(writers)} writer(s)) and would fight this one: "
                "stop it first (on a real G1, Unitree's motion service must be released)")

    def _receive(self) -> bool:
        """Take every waiting LowState_ into the state; True if any was valid."""
        got = False
        for _ in take_valid(self._state_reader, self._state_codec, self.counters):
            self._accept()
            got = True
        return got

    def _accept(self) -> None:
        s, m = self.state, self._state_codec.message
        for dst, src in self._in:
            dst[:] = src
        np.max(self._temps, axis=1, out=s.temperature)
        s.tick = int(m["tick"])
        s.mode_machine = int(m["mode_machine"])
        s.remote[:] = m["wireless_remote"]
        self.counters.states += 1
        self._last_valid = s.stamp = time.monotonic()

    def read(self) -> RobotState:
        self._receive()
        self.state.age[0] = time.monotonic() - self._last_valid
        return self.state

    def write(self, cmd: JointCommand) -> None:
        self._out_q[:] = cmd.q
        self._out_dq[:] = cmd.dq
        self._out_tau[:] = cmd.tau
        self._out_kp[:] = cmd.kp
        self._out_kd[:] = cmd.kd
        np.multiply(cmd.enable, self.variant.active_mask, out=self._enable)
        self._out_mode[:] = self._enable
        self._cmd_codec.message["mode_machine"] = self.state.mode_machine
        write_bytes(self._cmd_writer, self._cmd_codec.encode())

    def close(self) -> None:
        self.link.close()


def connect_g1(config: DdsConfig, say: Callable[[str], None], release: bool) -> DdsRobot:
    """A G1 ready to be driven: with `release` (a real robot), Unitree's locomotion is released first;
    every failure is a DdsStartupError that says what to do."""
    from robots.dds_transport import check_interface
    from robots.motion_switcher import MotionServiceError, release_motion_service

    try:
        check_interface(config.interface)
        if release:
            release_motion_service(config.domain, config.interface, say)
    except (ValueError, MotionServiceError) as exc:
        raise DdsStartupError(str(exc)) from None
    return DdsRobot(config)
