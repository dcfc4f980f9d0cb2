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
