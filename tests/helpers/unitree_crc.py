"""Unitree's CRC written from its definition, independently of `robots.unitree_hg`."""


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
"""LowCmd_ as Unitree's C struct lays it out for the CRC (padding included)."""


def sign_low_cmd(command):
    """Set the CRC of a reference `LowCmd_` (tests/robots/unitree_hg_reference.py) the way Unitree's SDK does."""
    import struct

    values = [command.mode_pr, command.mode_machine]
    for m in command.motor_cmd:
        values += [m.mode, m.q, m.dq, m.tau, m.kp, m.kd, m.reserve]
    values += [*command.reserve, 0]
    data = struct.pack(LOW_CMD_C_LAYOUT, *values)
    command.crc = unitree_crc_reference(struct.unpack(f"<{len(data) // 4}I", data)[:-1])
    return command
