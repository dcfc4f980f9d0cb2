"""The ball predictor: its file, and its forecasts on held-out throws against the constant-velocity
Kalman filter and the simulator's truth."""

import numpy as np
import pytest

from perception.ball_predictor import SHIPPED_WEIGHTS, BallPredictor, BallPredictorConfig, BallWeightsError
from perception.training.ball import HELD_OUT_FIRST_SEED, TRAIN_FIRST_SEED, evaluate_predictor
from sim.ball_tracks import TrackConfig, record_tracks

HELD_OUT = range(HELD_OUT_FIRST_SEED + 500, HELD_OUT_FIRST_SEED + 506)


def test_weights_round_trip_in_float16_and_a_foreign_file_is_refused_in_one_line(tmp_path):
    predictor = BallPredictor(BallPredictorConfig(hidden=32))
    path = predictor.save(tmp_path / "p.pt", trained={"tracks": 3})
    loaded = BallPredictor.load(path)
    window = np.cumsum(np.full((predictor.config.window, 2), 0.05), 0)
    assert loaded.config == predictor.config and loaded.trained == {"tracks": 3}
    assert np.allclose(loaded.predict(window[None]), predictor.predict(window[None]), atol=2e-3)
    (tmp_path / "junk.pt").write_bytes(b"not torch")
    with pytest.raises(BallWeightsError, match="is not a ball predictor file") as refused:
        BallPredictor.load(tmp_path / "junk.pt")
    assert "\n" not in str(refused.value)


@pytest.mark.acceptance("ball-prediction")
@pytest.mark.skipif(not SHIPPED_WEIGHTS.exists(), reason="judges the shipped predictor")
def test_on_held_out_throws_the_1_s_forecast_errs_at_most_half_as_much_as_constant_velocity():
    shipped = BallPredictor.load(SHIPPED_WEIGHTS)
    first, count = shipped.trained["first_seed"], shipped.trained["tracks"]
    assert first == TRAIN_FIRST_SEED and not set(HELD_OUT) & set(range(first, first + count))
    result = evaluate_predictor(shipped, record_tracks(HELD_OUT, TrackConfig(rate_hz=shipped.config.rate_hz)))
    assert result.samples >= 150
    assert result.ratio_at(1.0) <= 0.5, result
    assert result.learned_median_m[0] < result.kalman_median_m[0] and result.learned_median_m[2] < result.kalman_median_m[2]
