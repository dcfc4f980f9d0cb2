"""Unitree's CRC written from its definition, independently of `robots.unitree_hg`."""

import struct


def crc_mpeg2_bitwise(data: bytes) -> int:
    """CRC-32/MPEG-2 bit by bit, straight from its definition."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else (crc << 1)
            crc &= 0xFFFFFFFF
    return crc


def unitree_crc_reference(words) -> int:
    """Unitree's CRC as FACTS.md states it: words MSB first, poly 0x04C11DB7, init all ones, no xor."""
    crc = 0xFFFFFFFF
    for word in words:
        for bit in range(31, -1, -1):
            top = crc & 0x80000000
            crc = (crc << 1) & 0xFFFFFFFF
            if top ^ ((word >> bit & 1) << 31):
                crc ^= 0x04C11DB7
    return crc


LOW_CMD_C_LAYOUT = "<2B2x" + "B3x5fI" * 35 + "5I"
LOW_STATE_C_LAYOUT = "<2I2B2xI" + "13fh2x" + "B3x4f2hf7I" * 35 + "40B5I"
"""LowCmd_ and LowState_ as Unitree's C structs lay them out for the CRC (padding included)."""


def _crc_of(layout: str, values: list) -> int:
    data = struct.pack(layout, *values, 0)
    return unitree_crc_reference(struct.unpack(f"<{len(data) // 4}I", data)[:-1])


def sign_low_cmd(command):
    """Set the CRC of a reference `LowCmd_` (tests/robots/unitree_hg_reference.py) the way Unitree's SDK does."""
    values = [command.mode_pr, command.mode_machine]
    for m in command.motor_cmd:
        values += [m.mode, m.q, m.dq, m.tau, m.kp, m.kd, m.reserve]
    command.crc = _crc_of(LOW_CMD_C_LAYOUT, values + list(command.reserve))
    return command


def low_state_crc_ok(state) -> bool:
    """Whether a reference `LowState_` carries the CRC Unitree's SDK computes for it."""
    imu = state.imu_state
    values = [*state.version, state.mode_pr, state.mode_machine, state.tick, *imu.quaternion, *imu.gyroscope,
              *imu.accelerometer, *imu.rpy, imu.temperature]
    for m in state.motor_state:
        values += [m.mode, m.q, m.dq, m.ddq, m.tau_est, *m.temperature, m.vol, *m.sensor, m.motorstate, *m.reserve]
    return _crc_of(LOW_STATE_C_LAYOUT, values + [*state.wireless_remote, *state.reserve]) == state.crc
