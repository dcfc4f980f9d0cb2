"""G1 variants share one model and the 29-slot DDS layout; a variant only locks joints it lacks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from robots.g1.joints import NUM_MOTORS


@dataclass(frozen=True)
class G1Variant:
    name: str
    mode_machine: int
    """The robot-type id a real G1 reports in LowState_.mode_machine."""
    locked: tuple[int, ...]
    """DDS indices of joints this variant does not have: welded in the model, never commanded."""
    description: str

    @property
    def active_mask(self) -> np.ndarray:
        mask = np.ones(NUM_MOTORS)
        mask[list(self.locked)] = 0.0
        return mask


VARIANTS: dict[str, G1Variant] = {
    "29dof": G1Variant("29dof", 5, (), "G1 29-DoF rev 1.0"),
    "23dof": G1Variant(
        "23dof", 4, (13, 14, 20, 21, 27, 28), "G1 23-DoF rev 1.0 (no waist roll/pitch, no wrist pitch/yaw)"
    ),
}


def get_variant(name: str) -> G1Variant:
    try:
        return VARIANTS[name]
    except KeyError:
        raise ValueError(f"unknown G1 variant {name!r}: choose one of {', '.join(VARIANTS)}") from None
