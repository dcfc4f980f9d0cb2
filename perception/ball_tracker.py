"""The ball's track over time: the newest window of detections, and the forecast from it.

Fed one observation per camera frame at the predictor's rate (a detection's floor position, or None
for a frame without one), it forecasts whenever the newest frame holds a detection, and otherwise
keeps the last forecast: a ball out of view goes on where it was last predicted to go.
"""

from __future__ import annotations

import numpy as np

from perception.ball_predictor import BallForecast, BallPredictor


class BallTracker:
    def __init__(self, predictor: BallPredictor) -> None:
        self.predictor = predictor
        self.window = np.full((predictor.config.window, 2), np.nan)
        self.forecast: BallForecast | None = None
        """The newest forecast: from this frame when it held a detection, else from the last that did."""
        self.frames_unseen = 0
        """Frames since the last detection (0: this one)."""

    def observe(self, position: np.ndarray | None) -> BallForecast | None:
        """One frame's detection (x, y on the floor, world frame) or None; returns the current forecast."""
        self.window = np.roll(self.window, -1, axis=0)
        self.window[-1] = np.nan if position is None else position
        if position is None:
            self.frames_unseen += 1
        else:
            self.frames_unseen = 0
            self.forecast = self.predictor.forecast(self.window)
        return self.forecast
