"""The constant-velocity Kalman filter: the textbook tracker a learned ball predictor must beat.

State (x, y, vx, vy) on the floor, white-acceleration process noise of spectral density `accel_noise`,
position measurements with standard deviation `measurement_noise`. Its forecast h seconds ahead is
position + h * velocity: a ball that keeps its speed and meets no wall.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class KalmanConfig:
    accel_noise: float = 1.0
    """(m/s^2)^2 per Hz: how much the velocity may wander between frames."""
    measurement_noise: float = 0.03
    """Metres: the detector's position error."""
    initial_speed_sd: float = 2.0
    """m/s: how little is known of the velocity at the first detection."""


class ConstantVelocityKalman:
    def __init__(self, config: KalmanConfig = KalmanConfig()) -> None:
        self.config = config
        self.state: np.ndarray | None = None
        self.covariance = np.zeros((4, 4))
        self.time = 0.0

    def update(self, t: float, measurement: np.ndarray | None) -> None:
        """Advance to time `t` and, when there is one, fold in the (x, y) `measurement`."""
        if self.state is None:
            if measurement is not None:
                c = self.config
                self.state = np.array([measurement[0], measurement[1], 0.0, 0.0])
                self.covariance = np.diag([c.measurement_noise ** 2] * 2 + [c.initial_speed_sd ** 2] * 2)
                self.time = t
            return
        dt = t - self.time
        self.time = t
        if dt > 0:
            f = np.eye(4)
            f[0, 2] = f[1, 3] = dt
            q = self.config.accel_noise
            block = q * np.array([[dt ** 3 / 3, dt ** 2 / 2], [dt ** 2 / 2, dt]])
            process = np.zeros((4, 4))
            process[np.ix_([0, 2], [0, 2])] = block
            process[np.ix_([1, 3], [1, 3])] = block
            self.state = f @ self.state
            self.covariance = f @ self.covariance @ f.T + process
        if measurement is not None:
            innovation = np.asarray(measurement, dtype=float) - self.state[:2]
            s = self.covariance[:2, :2] + np.eye(2) * self.config.measurement_noise ** 2
            gain = self.covariance[:, :2] @ np.linalg.inv(s)
            self.state = self.state + gain @ innovation
            self.covariance = (np.eye(4) - gain @ np.eye(2, 4)) @ self.covariance

    def forecast(self, horizon: float) -> np.ndarray:
        """(x, y) `horizon` seconds after the last update; needs one detection first."""
        if self.state is None:
            raise ValueError("the Kalman filter has seen no detection yet")
        return self.state[:2] + horizon * self.state[2:]
