"""The ball's track over time: the newest window of detections, and the forecast from it.

Fed one observation per camera frame at the predictor's rate (a detection's floor position, or None
for a frame without one), it forecasts from every frame that ends a run of `run_frames` detections,
and otherwise keeps the last forecast: a ball out of view goes on where it was last predicted to go.
A lone sighting after a gap (a ball glimpsed at the edge of the view) says where the ball is but not
how it moves, and leaves a window the network rarely saw in training, whose forecast can point
anywhere; two frames in a row already carry the motion. Before any forecast, the first sighting
gives one.
"""

from __future__ import annotations

import numpy as np

from perception.ball_predictor import BallForecast, BallPredictor


class BallTracker:
    def __init__(self, predictor: BallPredictor, run_frames: int = 2) -> None:
        self.predictor, self.run_frames = predictor, run_frames
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
            self.forecast = self.predictor.forecast(self.window)
        return self.forecast
