"""Held-out throws seen from above: the true path, what the camera placed, and both forecasts from one
moment, so a reader sees where constant velocity goes wrong (through a wall, past where a ball stops)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from perception.ball_kalman import ConstantVelocityKalman, KalmanConfig
from perception.ball_predictor import BallPredictor
from sim.ball_tracks import BallTrack


def _moment(track: BallTrack, window: int) -> int | None:
    """The frame to forecast from: the first with at least half a window of detections behind it and
    the ball still rolling, so both forecasters have something to go on."""
    seen = np.isfinite(track.detected[:, 0])
    speed = np.linalg.norm(np.gradient(track.truth[:, :2], track.times, axis=0), axis=1)
    for i in range(len(track.times)):
        if seen[i] and seen[max(0, i - window + 1):i + 1].sum() >= window // 2 and speed[i] > 0.3:
            return i
    return None


def plot_forecasts(predictor: BallPredictor, tracks: Sequence[BallTrack], kalman: KalmanConfig, path: Path) -> int:
    """Up to four of `tracks` that have such a moment, drawn to `path` (PNG, written whole); how many were drawn."""
    c = predictor.config
    chosen = [(t, i) for t in tracks if (i := _moment(t, c.window)) is not None][:4]
    fig, axes = plt.subplots(2, 2, figsize=(10, 9), constrained_layout=True)
    half = np.array(c.room_m) / 2
    for ax, (track, i) in zip(axes.flat, chosen):
        ax.add_patch(plt.Rectangle(-half, *c.room_m, fill=False, color="0.4", lw=2))
        ax.plot(track.truth[:, 0], track.truth[:, 1], color="0.6", lw=1.5, label="true path")
        ax.plot(track.watcher[:, 0], track.watcher[:, 1], "--", color="0.75", lw=1, label="robot")
        ax.plot(track.detected[:, 0], track.detected[:, 1], ".", color="#2f6db5", ms=4, label="camera detections")
        window = np.full((c.window, 2), np.nan)
        take = track.detected[max(0, i - c.window + 1):i + 1]
        window[-len(take):] = take
        learned = predictor.predict(window[None])[0]
        filter_ = ConstantVelocityKalman(kalman)
        for t, seen in zip(track.times[:i + 1], track.detected[:i + 1]):
            filter_.update(float(t), None if np.isnan(seen[0]) else seen)
        steps = [min(i + round(h * c.rate_hz), len(track.times) - 1) for h in c.horizons_s]
        truth = track.truth[steps, :2]
        cv = np.array([filter_.forecast(h) for h in c.horizons_s])
        ax.plot(*np.vstack([window[-1], learned[:-1]]).T, "o-", color="#e07b00", ms=5, label="learned, 0.5/1/2 s")
        ax.plot(*learned[-1], "*", color="#e07b00", ms=14, label="learned rest point")
        ax.plot(*np.vstack([window[-1], cv]).T, "x--", color="#8a3ab9", ms=7, label="constant velocity")
        ax.plot(*truth.T, "o", mfc="none", mec="k", ms=9, label="truth then")
        ax.plot(*track.rest, "*", mfc="none", mec="k", ms=14, label="true rest point")
        ax.set_title(f"throw {track.seed}, forecast at {track.times[i]:.1f} s", fontsize=10)
        shown = np.vstack([track.truth[:, :2], learned, cv])
        centre, reach = (shown.max(0) + shown.min(0)) / 2, (shown.max(0) - shown.min(0)).max() / 2 + 0.6
        ax.set_aspect("equal")
        ax.set_xlim(centre[0] - reach, centre[0] + reach)
        ax.set_ylim(centre[1] - reach, centre[1] + reach)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(chosen):]:
        ax.axis("off")
    if chosen:
        axes.flat[0].legend(fontsize=7, loc="lower left")
    fig.suptitle("rolling-ball forecasts on held-out throws (metres, room seen from above)", fontsize=11)
    tmp = path.with_name(path.stem + ".partial.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(path)
    return len(chosen)
