"""The G1 wireless remote as it travels inside LowState_ (40 bytes): key bits and stick floats."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from robots.interface import REMOTE_BYTES

KEY_BITS = {"R1": 0, "L1": 1, "start": 2, "select": 3, "R2": 4, "L2": 5, "F1": 6, "F2": 7, "A": 8, "B": 9,
            "X": 10, "Y": 11, "up": 12, "right": 13, "down": 14, "left": 15}
STICKS = {"lx": 4, "rx": 8, "ry": 12, "ly": 20}


@dataclass
class RemoteState:
    keys: set[str] = field(default_factory=set)
    sticks: dict[str, float] = field(default_factory=dict)

    def encode(self) -> bytes:
        unknown = self.keys - KEY_BITS.keys()
        if unknown:
            raise ValueError(f"unknown remote key(s) {sorted(unknown)}: known {', '.join(KEY_BITS)}")
        data = bytearray(REMOTE_BYTES)
        struct.pack_into("<H", data, 2, sum(1 << KEY_BITS[k] for k in self.keys))
        for name, value in self.sticks.items():
            struct.pack_into("<f", data, STICKS[name], value)
        return bytes(data)

    @classmethod
    def decode(cls, data: bytes) -> RemoteState:
        bits = struct.unpack_from("<H", data, 2)[0]
        keys = {k for k, b in KEY_BITS.items() if bits >> b & 1}
        return cls(keys, {name: struct.unpack_from("<f", data, off)[0] for name, off in STICKS.items()})
