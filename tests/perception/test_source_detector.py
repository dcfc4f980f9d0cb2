"""The sound bearing on an array and in a room it was never tuned on: a bearing while the source
sounds, "no source" while it pauses and only noise and the room's echoes remain."""

import numpy as np
import pytest

from perception.bearing import BearingEstimator, BearingTracker
from perception.source_detector import SHIPPED_SOURCE_DETECTOR, SourceDetector
from perception.training.bearing_scenes import JUDGING_SEED, circle_array, random_scene, scattered_array

CIRCLE = circle_array(6, 0.046)


def _error(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


@pytest.mark.parametrize("rt60_s, snr_db", [(0.6, 20.0), (0.4, 5.0)])
def test_a_declared_six_mic_circle_points_at_the_source_while_it_sounds_and_says_no_source_while_it_pauses(
        rt60_s, snr_db):
    errors, silent = [], []
    for seed in range(JUDGING_SEED + 900, JUDGING_SEED + 902):
        scene = random_scene(seed, CIRCLE, rt60_s, snr_db)
        estimator = BearingEstimator(CIRCLE)
        for block, label in scene.blocks(estimator.config.block):
            bearing = estimator.estimate(block)
            if label == "sounding":
                errors.append(180.0 if bearing.azimuth_deg is None else _error(bearing.azimuth_deg, scene.truth_deg))
            elif label == "silent":
                silent.append(bearing.reason)
    assert np.median(errors) <= 10.0 and np.mean(np.array(errors) <= 30.0) >= 0.8, np.round(errors).tolist()
    assert silent.count("no source") >= 0.9 * len(silent), silent


def test_a_pause_holds_the_track_without_feeding_it_echoes():
    """Blocks of echoes alone leave the tracked bearing where the sound was, and it resumes there."""
    array = scattered_array(np.random.default_rng(3))
    scene = random_scene(JUDGING_SEED + 950, array, 0.6, 20.0)
    estimator, tracker = BearingEstimator(array), BearingTracker()
    tracks = {label: [] for label in ("sounding", "silent", "edge")}
    for block, label in scene.blocks(estimator.config.block):
        track = tracker.update(estimator.estimate(block), estimator.config.block / array.sample_rate)
        if track is not None:
            tracks[label].append(_error(track.azimuth_deg, scene.truth_deg))
    assert tracks["sounding"] and tracks["silent"], "the scene both sounds and pauses after the track starts"
    assert max(tracks["silent"]) <= 15.0 and np.median(tracks["sounding"]) <= 10.0, tracks


def test_the_shipped_detector_loads_and_a_detector_for_other_statistics_is_refused(tmp_path):
    detector = SourceDetector.load()
    assert 0.0 < detector.threshold < 1.0
    with np.load(SHIPPED_SOURCE_DETECTOR) as saved:
        stale = {key: saved[key] for key in saved.files}
    stale["features"] = np.array(["loudness"])
    np.savez(tmp_path / "stale.npz", **stale)
    with pytest.raises(ValueError, match="refit it with `bessemer audio train`"):
        SourceDetector.load(tmp_path / "stale.npz")
