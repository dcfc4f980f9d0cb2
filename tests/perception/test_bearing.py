"""Sound bearing on the G1 head array, in simulated reverberant rooms: accurate all around the robot,
tracked through motion and pauses, and explicit about input it cannot use."""

import numpy as np
import pytest

from perception.acoustic_scene import (
    SOURCE_KINDS,
    HeadPose,
    PointSource,
    Recording,
    Room,
    SimulatedScene,
    moving_source,
    source_sound,
)
from perception.bearing import BearingEstimator, BearingTracker
from perception.microphones import MicArray

ARRAY = MicArray.g1_head()
FS = ARRAY.sample_rate
BLOCK_S = BearingEstimator(ARRAY).config.block / FS


def _error(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


def _around(pose: HeadPose, azimuth_deg: float, distance: float, height: float) -> tuple[float, float, float]:
    """A world point at `azimuth_deg` in the head frame."""
    return tuple(pose.to_world(np.array([distance * np.cos(np.radians(azimuth_deg)),
                                         distance * np.sin(np.radians(azimuth_deg)), height])))


def _tracked(estimator: BearingEstimator, source) -> list:
    tracker = BearingTracker()
    return [tracker.update(bearing, BLOCK_S) for bearing in estimator.estimates(source)]


def test_bearing_within_10_degrees_all_around_the_robot_in_a_reverberant_room():
    estimator, errors, lines = BearingEstimator(ARRAY), [], []
    for k in range(8):
        rng = np.random.default_rng(k)
        pose = HeadPose((rng.uniform(2.0, 4.0), rng.uniform(2.0, 3.0), 1.25), rng.uniform(-180, 180))
        truth = -180.0 + 45.0 * k + rng.uniform(0, 45)
        position = _around(pose, truth, rng.uniform(1.0, 2.0), rng.uniform(-0.25, 0.4))
        kind = SOURCE_KINDS[k % len(SOURCE_KINDS)]
        room = Room((6.0, 5.0, 3.0), rt60_s=(0.3, 0.4)[k % 2])
        scene = SimulatedScene(ARRAY, room, pose, [PointSource(position, source_sound(kind, 1.2, seed=k))],
                               snr_db=(10, 20)[k // 4], seed=k)
        assert _error(scene.pose.bearing_deg(position), truth) < 1e-6
        track = _tracked(estimator, scene)[-1]
        errors.append(_error(track.azimuth_deg, truth))
        lines.append(f"{kind} at {truth:.0f}: {track.azimuth_deg:.0f}")
    assert max(errors) <= 10.0, (f"median {np.median(errors):.1f}, max {max(errors):.1f} degrees; "
                                 + "; ".join(lines))


def test_tracker_follows_a_walking_speaker_through_pauses_and_a_dropout():
    pose, seconds, steps = HeadPose((3.0, 2.5, 1.25), yaw_deg=30.0), 4.0, 20
    path_deg = np.linspace(150.0, 270.0, steps)
    voice = source_sound("vowel", seconds, seed=5)
    voice[int(1.6 * FS):int(2.0 * FS)] = 0.0
    scene = SimulatedScene(ARRAY, Room((6.0, 5.0, 3.0), rt60_s=0.35), pose,
                           moving_source(voice, [_around(pose, a, 1.5, 0.3) for a in path_deg], FS), snr_db=15, seed=5)
    signals = scene.signals.copy()
    signals[:, int(2.8 * FS):int(3.2 * FS)] = 0.0
    estimator = BearingEstimator(ARRAY)
    bearings = list(estimator.estimates(Recording(signals, ARRAY)))
    tracker = BearingTracker()
    tracks = [tracker.update(bearing, BLOCK_S) for bearing in bearings]
    centres = (np.arange(len(bearings)) + 0.5) * BLOCK_S
    truth = (path_deg[(centres / seconds * steps).astype(int)] + 180.0) % 360.0 - 180.0

    dropout = (centres > 2.8) & (centres < 3.2)
    assert all(b.azimuth_deg is None and b.reason == "silence" for b, d in zip(bearings, dropout) if d)
    assert all(t is not None for t in tracks[1:]), "the track is held through the pause and the dropout"
    errors = [_error(t.azimuth_deg, a) for t, a, c in zip(tracks, truth, centres) if c > 1.0]
    assert max(errors) <= 15.0, (f"median {np.median(errors):.1f}, max {max(errors):.1f} degrees; tracked "
                                 f"{[round(t.azimuth_deg) for t in tracks]} vs {np.round(truth).tolist()}")


def _scene(azimuth_deg: float = 60.0, seconds: float = 0.6) -> SimulatedScene:
    pose = HeadPose((3.0, 2.5, 1.25), yaw_deg=-20.0)
    return SimulatedScene(ARRAY, Room((6.0, 5.0, 3.0), rt60_s=0.3), pose,
                          [PointSource(_around(pose, azimuth_deg, 1.5, 0.2), source_sound("noise_burst", seconds))])


@pytest.mark.parametrize("block, reason", [
    (np.zeros((4, 3200)), "silence"),
    (np.random.default_rng(0).normal(0.0, 1e-4, (4, 3200)), "silence"),
    (np.full((4, 3200), np.nan), "non-finite"),
])
def test_input_without_a_bearing_gives_none_and_says_why(block, reason):
    bearing = BearingEstimator(ARRAY).estimate(block)
    assert bearing.azimuth_deg is None and bearing.degraded and bearing.reason == reason, bearing
    assert BearingTracker().update(bearing, BLOCK_S) is None


def test_clipped_input_still_points_at_the_source_but_is_flagged():
    estimator = BearingEstimator(ARRAY)
    block = _scene().signals[:, :3200]
    clean = estimator.estimate(block)
    assert clean.reason is None and _error(clean.azimuth_deg, 60.0) <= 10.0, clean
    clipped = estimator.estimate(np.clip(3.0 * block / np.max(np.abs(block)), -1.0, 1.0))
    assert clipped.degraded and clipped.reason == "clipped", clipped
    assert _error(clipped.azimuth_deg, 60.0) <= 15.0, clipped


def test_clipping_is_a_run_at_the_rails_even_from_rail_to_rail_and_not_a_peak_that_touches_full_scale():
    """The shared input check: a hiss driven past full scale swings from one rail to the other, never
    resting on one, while the same hiss peaking at exactly full scale is not clipped."""
    hiss = _plane_wave(ARRAY, np.diff(np.random.default_rng(3).standard_normal(3201)), 40.0)
    hiss /= np.max(np.abs(hiss))
    estimator = BearingEstimator(ARRAY)
    assert estimator.estimate(hiss).reason is None
    assert estimator.estimate(np.clip(3.0 * hiss, -1.0, 1.0)).reason == "clipped"


def test_a_recording_from_a_sound_device_gives_the_scene_s_bearings():
    scene = _scene(-120.0)
    as_int16 = np.round(scene.signals * 32767).astype(np.int16)
    from_scene = [b.azimuth_deg for b in BearingEstimator(ARRAY).estimates(scene)]
    from_device = [b.azimuth_deg for b in BearingEstimator(ARRAY).estimates(Recording(as_int16, ARRAY))]
    assert len(from_device) == len(from_scene) == 3
    assert [a is None for a in from_device] == [b is None for b in from_scene], (from_device, from_scene)
    heard = [(a, b) for a, b in zip(from_device, from_scene) if b is not None]
    assert heard and all(_error(a, b) <= 2.0 for a, b in heard), (from_device, from_scene)
    assert all(_error(b, -120.0) <= 10.0 for _, b in heard), from_scene


def test_wrong_channel_count_is_refused_with_the_expected_shape():
    with pytest.raises(ValueError, match=r"expected 4 channels .* got shape \(2, 3200\)"):
        BearingEstimator(ARRAY).estimate(np.zeros((2, 3200)))
    with pytest.raises(ValueError, match=r"expected 4 channels .* got shape \(3200, 4\)"):
        BearingEstimator(ARRAY).estimate(np.zeros((3200, 4)))


@pytest.mark.parametrize("positions, problem", [
    (((0.0, 0.0, 0.0),), "single microphone"),
    (((0.0, 0.0, 0.0), (0.02, 0.0, 0.0)), "colinear"),
    (((0.0, 0.0, 0.0), (0.02, 0.02, 0.01), (0.04, 0.04, -0.01), (0.06, 0.06, 0.0)), "colinear"),
    (((0.0, 0.0, -0.02), (0.0, 0.0, 0.0), (0.0, 0.0, 0.02)), "coincide"),
])
def test_a_geometry_that_cannot_resolve_a_bearing_is_refused_naming_the_problem(positions, problem):
    with pytest.raises(ValueError, match=problem):
        BearingEstimator(MicArray(positions))


def _plane_wave(array: MicArray, signal: np.ndarray, azimuth_deg: float) -> np.ndarray:
    """`signal` arriving from `azimuth_deg` in free field, one row per mic (circularly delayed)."""
    lead_s = array.xyz @ [np.cos(np.radians(azimuth_deg)), np.sin(np.radians(azimuth_deg)), 0.0] / 343.0
    frequencies = np.fft.rfftfreq(len(signal), 1.0 / FS)
    return np.fft.irfft(np.fft.rfft(signal) * np.exp(2j * np.pi * frequencies * lead_s[:, None]), len(signal))


def test_three_mics_off_a_line_tell_front_from_back():
    triangle = MicArray(((0.02, 0.0, 0.0), (-0.01, 0.017, 0.0), (-0.01, -0.017, 0.0)))
    noise = np.random.default_rng(1).standard_normal(FS)
    for azimuth in (30.0, 150.0, -100.0):
        bearing = BearingEstimator(triangle).estimate(0.05 * _plane_wave(triangle, noise, azimuth)[:, :3200])
        assert _error(bearing.azimuth_deg, azimuth) <= 2.0, (azimuth, bearing)


def test_noise_alone_starts_no_track_and_its_floor_then_reveals_a_fainter_broadband_source():
    """The noise floor is the one heard over the last blocks, not the block's own level: a broadband
    source 5 dB under the mic noise fills its whole block and would otherwise pass for noise."""
    noise_level, started, errors = 0.01, [], []
    for seed in range(10):
        rng = np.random.default_rng(seed)
        azimuth = rng.uniform(-180.0, 180.0)
        estimator, tracker = BearingEstimator(ARRAY), BearingTracker()
        for _ in range(8):
            started.append(tracker.update(estimator.estimate(noise_level * rng.standard_normal((4, 3200))), BLOCK_S))
        source = noise_level * 10 ** (-5 / 20) * _plane_wave(ARRAY, rng.standard_normal(5 * 3200), azimuth)
        for block in np.split(source, 5, axis=1):
            bearing = estimator.estimate(block + noise_level * rng.standard_normal(block.shape))
            errors.append(_error(bearing.azimuth_deg, azimuth))
    assert all(track is None for track in started), "noise alone started a track"
    assert np.median(errors) <= 2.0, f"median {np.median(errors):.1f}, max {max(errors):.1f} degrees"
