"""The ball tracker: forecasts from the newest window of sightings, as a walking robot makes them."""

import numpy as np
import pytest

from perception.ball_predictor import SHIPPED_WEIGHTS, load_shipped
from perception.ball_tracker import BallTracker
from sim.rolling_ball import BallPhysics, RollingBall

pytestmark = pytest.mark.skipif(not SHIPPED_WEIGHTS.exists(), reason="the shipped ball predictor forecasts")

JITTER_M = 0.03
"""Sightings of a resting ball placed through the wire from a walking robot (intercept over processes,
a loaded machine) lay a median 2-3 cm from it."""


def misses(tracker: BallTracker, ball: np.ndarray, rng: np.random.Generator, frames: int = 60) -> np.ndarray:
    """How far each forecast after the first window lands from a resting ball seen with jitter."""
    out = []
    for k in range(frames):
        forecast = tracker.observe(ball + rng.normal(0.0, JITTER_M, 2))
        if k >= tracker.predictor.config.window:
            out.append(np.linalg.norm(forecast.rest - ball))
    return np.array(out)


@pytest.mark.parametrize("seed", range(5))
def test_a_resting_ball_seen_with_jitter_is_forecast_where_it_lies(seed):
    rng = np.random.default_rng(seed)
    ball = rng.uniform((-2.0, -2.0), (2.0, 2.0))
    assert misses(BallTracker(load_shipped()), ball, rng).max() < 0.1


def test_without_the_rest_rule_the_network_reads_the_jitter_as_motion():
    rng = np.random.default_rng(0)
    never_resting = BallTracker(load_shipped(), rest_shift_m=-1.0)
    assert misses(never_resting, np.array([1.6, 0.25]), rng).max() > 1.0, "why the rule is there"


def test_a_rolling_ball_is_not_taken_for_a_resting_one_until_it_has_nearly_stopped():
    ball = RollingBall(BallPhysics(rolling_friction=0.003))
    ball.push((-2.0, 0.0), (1.5, 0.0, 0.0))
    tracker, frames = BallTracker(load_shipped()), 0
    while not ball.at_rest:
        ball.step(1.0 / tracker.predictor.config.rate_hz)
        forecast, frames = tracker.observe(ball.position[:2].copy()), frames + 1
        if frames >= tracker.rest_frames and np.linalg.norm(ball.velocity[:2]) > 0.3:
            assert forecast.rest[0] - ball.position[0] > 0.1, "a ball still rolling goes on ahead"
    assert abs(forecast.rest[0] - ball.position[0]) < 0.1
