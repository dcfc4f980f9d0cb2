"""Fitting the source detector on randomized scenes: scattered arrays, rooms of RT60 0.2-0.9 s, SNRs
from 0 to 20 dB, noise bursts and voiced tones that sound and pause.

Each scene is heard block by block by a fresh `BearingEstimator` without a detector, as a stream
would be, and every block that is plainly sounding or plainly silent (`BearingScene.blocks`) gives one
example of the statistics the detector reads. A logistic regression (torch's L-BFGS, a little L2) is
fitted on them, and the threshold is the probability that `silent_kept` of the silent blocks stay
under, so that the share of echoes and noise passed off as a source is set, not left to chance.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from perception.bearing import BearingEstimator
from perception.source_detector import FEATURES, SourceDetector
from perception.training.bearing_scenes import TUNING_SEEDS, random_scene, scattered_array


@dataclass(frozen=True)
class DetectorTrainConfig:
    scenes: int = 160
    seconds: float = 4.0
    rt60_s: tuple[float, float] = (0.2, 0.9)
    snrs_db: tuple[float, ...] = (20.0, 10.0, 5.0, 0.0)
    silent_kept: float = 0.98
    l2: float = 1e-3


def detector_examples(config: DetectorTrainConfig = DetectorTrainConfig(),
                      progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Block statistics (blocks, features) and whether each block sounds, from the tuning seeds."""
    features, sounding = [], []
    for seed in TUNING_SEEDS[:config.scenes]:
        rng = np.random.default_rng(seed)
        array = scattered_array(rng)
        scene = random_scene(seed, array, float(rng.uniform(*config.rt60_s)), float(rng.choice(config.snrs_db)),
                             config.seconds)
        estimator = BearingEstimator(array, detector=None)
        for block, label in scene.blocks(estimator.config.block):
            bearing = estimator.estimate(block)
            if label != "edge" and bearing.reason is None:
                features.append(estimator.features)
                sounding.append(label == "sounding")
        if progress is not None:
            progress(seed + 1, config.scenes)
    return np.array(features), np.array(sounding)


def fit_detector(features: np.ndarray, sounding: np.ndarray,
                 config: DetectorTrainConfig = DetectorTrainConfig()) -> SourceDetector:
    if features.shape[1] != len(FEATURES) or sounding.all() or not sounding.any():
        raise ValueError("the detector needs examples of both sounding and silent blocks, one column per feature")
    mean, scale = features.mean(0), features.std(0) + 1e-9
    x = torch.as_tensor((features - mean) / scale)
    y = torch.as_tensor(sounding, dtype=torch.float64)
    weights = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    bias = torch.zeros((), dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([weights, bias], max_iter=500)

    def loss() -> torch.Tensor:
        optimizer.zero_grad()
        value = F.binary_cross_entropy_with_logits(x @ weights + bias, y) + config.l2 * weights.square().sum()
        value.backward()
        return value

    optimizer.step(loss)
    probability = torch.sigmoid(x @ weights + bias).detach().numpy()
    threshold = float(np.quantile(probability[~sounding], config.silent_kept))
    return SourceDetector(mean, scale, weights.detach().numpy(), float(bias.detach()), threshold)
