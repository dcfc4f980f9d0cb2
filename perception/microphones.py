"""Where the microphones are, in the head frame, so every bearing is computed for a stated geometry.

Unitree documents the G1's head array (four mics) but its examples only expose a mono 16 kHz
stream, so the geometry here is an assumption that a measured array (or an external one) replaces.
A geometry that cannot tell directions apart fails loudly rather than returning plausible angles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

G1_HEAD_SIDE_M = 0.032
"""Assumed side of the G1 head array's square; not measured on the robot."""


@dataclass(frozen=True)
class MicArray:
    positions: tuple[tuple[float, float, float], ...]
    """Mic positions in the head frame (x forward, y left, z up), metres, one row per channel."""
    sample_rate: int = 16_000

    def __post_init__(self) -> None:
        xyz = np.asarray(self.positions, dtype=float)
        if xyz.ndim != 2 or xyz.shape[1] != 3 or len(xyz) == 0:
            raise ValueError(f"mic positions must be rows of (x, y, z) metres, got shape {xyz.shape}")
        object.__setattr__(self, "positions", tuple(map(tuple, xyz.tolist())))

    @classmethod
    def g1_head(cls, side_m: float = G1_HEAD_SIDE_M, sample_rate: int = 16_000) -> MicArray:
        """Four mics on a horizontal square centred on the head frame's origin (an assumed layout)."""
        h = side_m / 2
        return cls(((h, h, 0.0), (-h, h, 0.0), (-h, -h, 0.0), (h, -h, 0.0)), sample_rate)

    @property
    def xyz(self) -> np.ndarray:
        return np.asarray(self.positions, dtype=float)

    @property
    def channels(self) -> int:
        return len(self.positions)

    def check_resolves_bearing(self, tolerance_m: float = 1e-3) -> None:
        """Raise ValueError unless the mics span the horizontal plane, which a 360 degree bearing needs."""
        if self.channels < 2:
            raise ValueError("a single microphone cannot resolve a bearing: use an array of 3+ mics not on one line")
        spread = np.linalg.svd(self.xyz[:, :2] - self.xyz[:, :2].mean(axis=0), compute_uv=False)
        if spread[0] < tolerance_m:
            raise ValueError("the microphones coincide in the horizontal plane, so they have no horizontal "
                             "aperture: space 3+ mics apart horizontally")
        if len(spread) < 2 or spread[1] < tolerance_m:
            raise ValueError("the microphones are colinear in the horizontal plane, so front and back are "
                             "ambiguous: add a mic off that line")
