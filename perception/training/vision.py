"""Training and judging the ball encoder on head-camera frames the project's own simulation renders.

The whole set sits in memory as uint8 (3,000 frames of 224x224 are 450 MB), so an epoch is a seeded
shuffle and batches of patches, with no loader processes: on a shared 2-core machine one thread is
the budget. Presence is learned on every frame, bearing and distance only where the ball is in view,
as an absent ball has no place in the frame to read them from. AdamW with a short warm-up and a cosine decay,
the usual recipe for a small ViT, settles within a handful of epochs here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from perception.vision_encoder import VisionEncoder, VisionEncoderConfig
from sim.ball_frames import BallFrames

TRAIN_SEED = 0
"""Render seed of the shipped encoder's training frames; every held-out set uses another."""
HELD_OUT_SEED = 1000


@dataclass(frozen=True)
class VisionTrainConfig:
    frames: int = 3000
    epochs: int = 8
    batch: int = 32
    lr: float = 5e-4
    weight_decay: float = 0.05
    warmup: float = 0.05
    """Share of the steps over which the learning rate ramps up from zero."""
    bearing_huber_deg: float = 2.0
    """Bearing errors below this are squared, above it linear, so a few hard frames do not dominate."""
    distance_huber: float = 0.05
    """The same for the log of the distance: a 5 % error."""
    seed: int = TRAIN_SEED
    """Render seed of the frames and seed of the initial weights and the shuffle."""


@dataclass(frozen=True)
class VisionProgress:
    """Where a training run stands, for the caller to show: after every step, and once more as an epoch ends."""

    step: int
    steps: int
    epoch: dict | None = None
    """The epoch that just ended, its row as the history keeps it; None after a step."""


@dataclass(frozen=True)
class VisionEval:
    frames: int
    present_frames: int
    presence_accuracy: float
    bearing_median_deg: float
    """Absolute bearing error over the frames whose ball is in view (NaN when there are none)."""
    bearing_p90_deg: float
    distance_median: float
    """Relative distance error |estimate / truth - 1| over the frames whose ball is in view."""
    distance_p90: float
    frames_per_second: float
    """Encoder throughput over the evaluation, batched: not the one-frame latency `bench_vision` measures."""


def _lr_factor(step: int, total: int, config: VisionTrainConfig) -> float:
    warm = max(1, round(config.warmup * total))
    if step < warm:
        return (step + 1) / warm
    return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))


def train_encoder(frames: BallFrames, config: VisionTrainConfig = VisionTrainConfig(),
                  encoder_config: VisionEncoderConfig | None = None,
                  on_progress: Callable[[VisionProgress], None] | None = None) -> tuple[VisionEncoder, list[dict]]:
    """A fresh encoder trained on `frames`; with it, one row per epoch (mean losses, seconds)."""
    encoder_config = encoder_config or VisionEncoderConfig()
    torch.manual_seed(config.seed)
    encoder = VisionEncoder(encoder_config).train()
    optimizer = torch.optim.AdamW(encoder.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(frames) / config.batch)
    steps = steps_per_epoch * config.epochs
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: _lr_factor(step, steps, config))
    images = torch.from_numpy(frames.images)
    present = torch.from_numpy(frames.present).float()
    bearing = torch.from_numpy(frames.bearing_deg)
    log_distance = torch.from_numpy(np.log(np.maximum(frames.distance_m, 0.05)))
    scale = encoder_config.bearing_scale_deg
    beta = config.bearing_huber_deg / scale
    generator = torch.Generator().manual_seed(config.seed)
    history, step = [], 0
    for epoch in range(config.epochs):
        start, sums = time.perf_counter(), np.zeros(3)
        for index in torch.randperm(len(frames), generator=generator).split(config.batch):
            logit, predicted, predicted_distance = encoder(images[index])
            presence_loss = F.binary_cross_entropy_with_logits(logit, present[index])
            seen = present[index].bool()
            bearing_loss = distance_loss = torch.zeros(())
            if seen.any():
                bearing_loss = F.smooth_l1_loss(predicted[seen] / scale, bearing[index][seen] / scale, beta=beta)
                distance_loss = F.smooth_l1_loss(predicted_distance[seen], log_distance[index][seen],
                                                 beta=config.distance_huber)
            optimizer.zero_grad(set_to_none=True)
            (presence_loss + bearing_loss + distance_loss).backward()
            optimizer.step()
            schedule.step()
            sums += (presence_loss.item(), bearing_loss.item(), distance_loss.item())
            step += 1
            if on_progress is not None:
                on_progress(VisionProgress(step, steps))
        row = {"epoch": epoch + 1, "presence_loss": sums[0] / steps_per_epoch,
               "bearing_loss": sums[1] / steps_per_epoch, "distance_loss": sums[2] / steps_per_epoch, "seconds": time.perf_counter() - start}
        history.append(row)
        if on_progress is not None:
            on_progress(VisionProgress(step, steps, row))
    return encoder.eval(), history


@torch.inference_mode()
def evaluate_encoder(encoder: VisionEncoder, frames: BallFrames, batch: int = 64) -> VisionEval:
    encoder.eval()
    start = time.perf_counter()
    outputs = [encoder(torch.from_numpy(frames.images[i:i + batch])) for i in range(0, len(frames), batch)]
    seconds = time.perf_counter() - start
    logits = torch.cat([o[0] for o in outputs]).numpy()
    bearings = torch.cat([o[1] for o in outputs]).numpy()
    distances = np.exp(torch.cat([o[2] for o in outputs]).numpy())
    errors = np.abs(bearings - frames.bearing_deg)[frames.present]
    median, p90 = (np.percentile(errors, [50, 90]) if len(errors) else (math.nan, math.nan))
    relative = np.abs(distances / np.maximum(frames.distance_m, 1e-6) - 1)[frames.present]
    d_median, d_p90 = (np.percentile(relative, [50, 90]) if len(relative) else (math.nan, math.nan))
    return VisionEval(frames=len(frames), present_frames=int(frames.present.sum()),
                      presence_accuracy=float(np.mean((logits > 0) == frames.present)),
                      bearing_median_deg=float(median), bearing_p90_deg=float(p90),
                      distance_median=float(d_median), distance_p90=float(d_p90),
                      frames_per_second=len(frames) / seconds if seconds > 0 else math.inf)
