"""Training and judging the ball predictor on head-camera tracks of simulated throws.

A sample is one frame with a detection: its window of detections in, the simulator's true positions
0.5, 1 and 2 s later and the true rest point as targets (past a track's end a stopped ball is at its
rest point; a ball still rolling there leaves those targets out). The room is symmetric about both
axes, so each sample also trains mirrored in x, y and both. Judging compares, on the same frames,
the network's forecasts with a constant-velocity Kalman filter's, whose noise settings are chosen by
grid on the very tracks it is judged on: the baseline at its best.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from perception.ball_kalman import ConstantVelocityKalman, KalmanConfig
from perception.ball_predictor import BallPredictor, BallPredictorConfig, window_features
from sim.ball_tracks import BallTrack

TRAIN_FIRST_SEED = 10_000
"""Throw seeds of the shipped predictor's training tracks start here; held-out ones elsewhere."""
HELD_OUT_FIRST_SEED = 50_000
MOVING_M_S = 0.1
"""Frames where the ball moves at least this fast are the ones a forecast is judged on."""
KALMAN_GRID = {"accel_noise": (1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0),
               "measurement_noise": (0.001, 0.003, 0.01, 0.03)}


@dataclass(frozen=True)
class BallTrainConfig:
    tracks: int = 400
    epochs: int = 60
    batch: int = 256
    lr: float = 2e-3
    weight_decay: float = 1e-4
    huber_m: float = 0.05
    """Errors below this are squared, above it linear."""
    seed: int = 0


@dataclass(frozen=True)
class BallSamples:
    windows: np.ndarray
    """(N, W, 2) detections, NaN where a frame had none."""
    targets: np.ndarray
    """(N, horizons + 1, 2) true positions ahead, the rest point last."""
    valid: np.ndarray
    """(N, horizons + 1) which targets exist."""
    moving: np.ndarray
    """(N,) the ball moved at least `MOVING_M_S` at the frame."""
    frames: list[tuple[int, int]]
    """(track, frame) of each sample."""


def samples_from_tracks(tracks: Sequence[BallTrack], config: BallPredictorConfig = BallPredictorConfig()) -> BallSamples:
    w, steps = config.window, [round(h * config.rate_hz) for h in config.horizons_s]
    windows, targets, valid, moving, frames = [], [], [], [], []
    for k, track in enumerate(tracks):
        if len(track.times) > 1 and abs((track.times[1] - track.times[0]) * config.rate_hz - 1) > 1e-6:
            raise ValueError(f"throw {track.seed} was watched at {1 / (track.times[1] - track.times[0]):g} frames/s, "
                             f"the predictor takes {config.rate_hz:g}")
        padded = np.concatenate([np.full((w - 1, 2), np.nan), track.detected])
        speed = np.linalg.norm(np.gradient(track.truth[:, :2], track.times, axis=0), axis=1)
        last = len(track.times) - 1
        for i in np.flatnonzero(~np.isnan(track.detected[:, 0])):
            windows.append(padded[i:i + w])
            ahead = [track.truth[i + s, :2] if i + s <= last else track.rest for s in steps] + [track.rest]
            targets.append(ahead)
            valid.append([i + s <= last or track.stopped for s in steps] + [track.stopped])
            moving.append(speed[i] >= MOVING_M_S)
            frames.append((k, int(i)))
    return BallSamples(np.array(windows, np.float32).reshape(-1, w, 2), np.array(targets, np.float32),
                       np.array(valid, bool), np.array(moving, bool), frames)


def _mirrored(samples: BallSamples) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    signs = [np.array(s, np.float32) for s in ((1, 1), (-1, 1), (1, -1), (-1, -1))]
    return (np.concatenate([samples.windows * s for s in signs]), np.concatenate([samples.targets * s for s in signs]),
            np.concatenate([samples.valid] * len(signs)))


def train_predictor(samples: BallSamples, config: BallTrainConfig = BallTrainConfig(),
                    predictor_config: BallPredictorConfig = BallPredictorConfig(),
                    on_epoch: Callable[[dict], None] | None = None) -> BallPredictor:
    """A fresh predictor trained on `samples` (mirrored four ways); `on_epoch(row)` after each epoch."""
    torch.manual_seed(config.seed)
    predictor = BallPredictor(predictor_config).train()
    windows, targets, valid = _mirrored(samples)
    features = torch.from_numpy(window_features(windows, predictor_config.room_m))
    offsets = torch.from_numpy(np.nan_to_num(targets - windows[:, -1][:, None]))
    weight = torch.from_numpy(valid.astype(np.float32))
    optimizer = torch.optim.AdamW(predictor.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps = config.epochs * math.ceil(len(features) / config.batch)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, config.lr, total_steps=steps)
    generator = torch.Generator().manual_seed(config.seed)
    for epoch in range(config.epochs):
        total, batches = 0.0, 0
        for index in torch.randperm(len(features), generator=generator).split(config.batch):
            error = F.smooth_l1_loss(predictor(features[index]), offsets[index], beta=config.huber_m, reduction="none")
            loss = (error.sum(-1) * weight[index]).sum() / weight[index].sum().clamp(min=1)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total, batches = total + loss.item(), batches + 1
        if on_epoch is not None:
            on_epoch({"epoch": epoch + 1, "epochs": config.epochs, "loss": total / batches})
    return predictor.eval()


def kalman_forecasts(tracks: Sequence[BallTrack], samples: BallSamples, horizons: Sequence[float],
                     config: KalmanConfig) -> np.ndarray:
    """(N, horizons, 2): the constant-velocity filter's forecasts at every sample's frame."""
    at = {frame: n for n, frame in enumerate(samples.frames)}
    out = np.zeros((len(samples.frames), len(horizons), 2))
    for k, track in enumerate(tracks):
        kalman = ConstantVelocityKalman(config)
        for i, (t, seen) in enumerate(zip(track.times, track.detected)):
            kalman.update(float(t), None if np.isnan(seen[0]) else seen)
            if (k, i) in at:
                out[at[(k, i)]] = [kalman.forecast(h) for h in horizons]
    return out


@dataclass(frozen=True)
class BallEval:
    tracks: int
    samples: int
    """Frames with a detection and the ball moving, over which the errors are taken."""
    horizons_s: tuple[float, ...]
    learned_median_m: tuple[float, ...]
    learned_p90_m: tuple[float, ...]
    kalman_median_m: tuple[float, ...]
    kalman_p90_m: tuple[float, ...]
    rest_median_m: float
    rest_p90_m: float
    kalman: KalmanConfig
    """The baseline's noise settings, the best of `KALMAN_GRID` at 1 s on these tracks."""

    def ratio_at(self, horizon: float) -> float:
        i = self.horizons_s.index(horizon)
        return self.learned_median_m[i] / self.kalman_median_m[i]


def _errors(forecast: np.ndarray, samples: BallSamples, keep: np.ndarray, column: int) -> np.ndarray:
    rows = keep & samples.valid[:, column]
    return np.linalg.norm(forecast[rows] - samples.targets[rows, column], axis=-1)


def evaluate_predictor(predictor: BallPredictor, tracks: Sequence[BallTrack]) -> BallEval:
    horizons = predictor.config.horizons_s
    samples = samples_from_tracks(tracks, predictor.config)
    keep = samples.moving
    learned = predictor.predict(samples.windows)
    judge = horizons.index(1.0) if 1.0 in horizons else 0
    best: tuple[float, KalmanConfig, np.ndarray] | None = None
    for accel in KALMAN_GRID["accel_noise"]:
        for noise in KALMAN_GRID["measurement_noise"]:
            config = KalmanConfig(accel_noise=accel, measurement_noise=noise)
            forecast = kalman_forecasts(tracks, samples, horizons, config)
            score = float(np.median(_errors(forecast[:, judge], samples, keep, judge)))
            if best is None or score < best[0]:
                best = (score, config, forecast)
    _, kalman, cv = best
    stats = {name: [np.percentile(_errors(f[:, i], samples, keep, i), [50, 90]) for i in range(len(horizons))]
             for name, f in (("learned", learned), ("kalman", cv))}
    rest = _errors(learned[:, -1], samples, keep, len(horizons))
    return BallEval(tracks=len(tracks), samples=int(keep.sum()), horizons_s=tuple(horizons),
                    learned_median_m=tuple(float(s[0]) for s in stats["learned"]),
                    learned_p90_m=tuple(float(s[1]) for s in stats["learned"]),
                    kalman_median_m=tuple(float(s[0]) for s in stats["kalman"]),
                    kalman_p90_m=tuple(float(s[1]) for s in stats["kalman"]),
                    rest_median_m=float(np.median(rest)), rest_p90_m=float(np.percentile(rest, 90)), kalman=kalman)
