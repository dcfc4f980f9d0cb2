"""The ball's track over time: the newest window of detections, and the forecast from it.

Fed one observation per camera frame at the predictor's rate (a detection's floor position, or None
for a frame without one), it forecasts from every frame that ends a run of `run_frames` detections,
and otherwise keeps the last forecast: a ball out of view goes on where it was last predicted to go.
A lone sighting after a gap (a ball glimpsed at the edge of the view) says where the ball is but not
how it moves, and leaves a window the network rarely saw in training, whose forecast can point
anywhere; two frames in a row already carry the motion. Before any forecast, the first sighting
gives one.

A ball that has stopped is its own forecast. The network learned from clean tracks, and a resting ball
seen from a walking robot jitters by centimetres from frame to frame; it reads that jitter as motion
and forecasts rest points metres away (1-7 m with 3 cm of noise), and a robot that turns toward one
loses the ball from view. So when the median sighting of the newest `rest_frames` frames' second
half lies within `rest_shift_m` of the first half's, the ball counts as resting at the newer median:
it moves at most `rest_shift_m` per half-span (0.2 m/s at the defaults), and on the slowest floor the
scenes have (0.18 m/s^2) that is at most 0.11 m from where it stops.
"""

from __future__ import annotations

import numpy as np

from perception.ball_predictor import BallForecast, BallPredictor


class BallTracker:
    def __init__(self, predictor: BallPredictor, run_frames: int = 2, rest_frames: int = 16,
                 rest_shift_m: float = 0.08) -> None:
        self.predictor, self.run_frames = predictor, run_frames
        self.rest_frames, self.rest_shift_m = rest_frames, rest_shift_m
        self.window = np.full((predictor.config.window, 2), np.nan)
        self.forecast: BallForecast | None = None
        """The newest forecast: from the newest run of sightings."""
        self.frames_unseen = 0
        """Frames since the last detection (0: this one)."""
        self._run = 0

    def observe(self, position: np.ndarray | None) -> BallForecast | None:
        """One frame's detection (x, y on the floor, world frame) or None; returns the current forecast."""
        self.window = np.roll(self.window, -1, axis=0)
        self.window[-1] = np.nan if position is None else position
        if position is None:
            self.frames_unseen += 1
            self._run = 0
            return self.forecast
        self.frames_unseen = 0
        self._run += 1
        if self._run >= self.run_frames or self.forecast is None:
            self.forecast = self._resting() or self.predictor.forecast(self.window)
        return self.forecast

    def _resting(self) -> BallForecast | None:
        """The forecast of a ball that has stopped, if the newest frames say so (each half needs 3 sightings)."""
        half = self.rest_frames // 2
        older, newer = self.window[-2 * half:-half], self.window[-half:]
        older, newer = older[~np.isnan(older[:, 0])], newer[~np.isnan(newer[:, 0])]
        if min(len(older), len(newer)) < 3:
            return None
        here = np.median(newer, axis=0)
        if np.linalg.norm(here - np.median(older, axis=0)) > self.rest_shift_m:
            return None
        return BallForecast(self.window[-1].copy(), {h: here for h in self.predictor.config.horizons_s}, here)
