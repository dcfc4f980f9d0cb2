"""Whether a source sounds in a block, or the array hears only its own noise and the room's echoes.

Loudness alone cannot tell: just after a sound stops, a reverberant room rings for a good part of a
second at nearly the level of the sound. What gives the ring away is how it behaves, whatever the
room or the array: it only decays, at the same rate in every band; it fills the weighted
time-frequency cells less and less; and it comes from everywhere, so the steered response has no
clear peak. A logistic model over a handful of such block statistics, fitted on randomized simulated
rooms, arrays and sounds (`perception.training.source_detector`), weighs them; its few coefficients
ship in `perception/assets/source_detector.npz`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

SHIPPED_SOURCE_DETECTOR = Path(__file__).parent / "assets" / "source_detector.npz"
FEATURES = ("log_cells", "peak", "peak_over_mean", "excess_db", "decay_db", "rise_db", "late_excess_db")
"""The block statistics the detector reads; `BearingEstimator` measures them (see `block_features`)."""


@dataclass(frozen=True)
class SourceDetector:
    mean: np.ndarray
    scale: np.ndarray
    """Features are standardized by these (fitted on the training blocks) before the weights apply."""
    weights: np.ndarray
    bias: float
    threshold: float
    """A block sounds when the probability reaches this; chosen on training blocks so that nearly every
    silent one stays below it."""

    def probability(self, features: np.ndarray) -> float:
        z = float(np.dot(self.weights, (features - self.mean) / self.scale) + self.bias)
        return float(1.0 / (1.0 + np.exp(-np.clip(z, -60.0, 60.0))))

    def save(self, path: str | Path) -> None:
        np.savez(Path(path), mean=self.mean, scale=self.scale, weights=self.weights, bias=self.bias,
                 threshold=self.threshold, features=np.array(FEATURES))

    @classmethod
    def load(cls, path: str | Path = SHIPPED_SOURCE_DETECTOR) -> SourceDetector:
        with np.load(Path(path)) as saved:
            if tuple(saved["features"]) != FEATURES:
                raise ValueError(f"{path} reads features {tuple(saved['features'])}, this build measures {FEATURES}: "
                                 "refit it with `bessemer audio train`")
            return cls(saved["mean"], saved["scale"], saved["weights"], float(saved["bias"]), float(saved["threshold"]))
