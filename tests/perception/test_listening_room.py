"""A listener that walks and turns in a reverberant room: the bearing follows the head, the stream is
seamless across chunks and moves and distance is heard (its speed is a benchmark figure)."""


import numpy as np
import pytest

from perception.acoustic_scene import HeadPose, PointSource, Room, source_sound
from perception.bearing import BearingEstimator, BearingTracker
from perception.listening_room import ListeningRoom
from perception.microphones import MicArray
from perception.synthetic_audio import tone

ARRAY = MicArray.g1_head()
FS = ARRAY.sample_rate
ROOM = Room((6.0, 5.0, 3.0), rt60_s=0.3)
CHUNK = FS // 50
"""20 ms: what a simulation asks for each control tick."""


def _error(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


def _around(pose: HeadPose, azimuth_deg: float, distance: float, height: float) -> tuple[float, float, float]:
    return tuple(pose.to_world(np.array([distance * np.cos(np.radians(azimuth_deg)),
                                         distance * np.sin(np.radians(azimuth_deg)), height])))


def _listen(room: ListeningRoom, seconds: float, pose_at) -> tuple[np.ndarray, list[float]]:
    """`seconds` read in 20 ms chunks, the pose at each chunk's end from `pose_at(t)`; and the chunks' ends."""
    ends = [(k + 1) * CHUNK / FS for k in range(round(seconds * FS / CHUNK))]
    return np.concatenate([room.read(CHUNK, pose_at(t)) for t in ends], axis=1), ends


def _tracked(signals: np.ndarray) -> list:
    estimator, tracker = BearingEstimator(ARRAY), BearingTracker()
    block = estimator.config.block
    return [tracker.update(estimator.estimate(signals[:, a:a + block]), block / FS)
            for a in range(0, signals.shape[1] - block + 1, block)]


@pytest.mark.parametrize("kind, azimuth", [("noise_burst", 70.0), ("chirp", -135.0), ("clicks", 170.0)])
def test_a_still_listener_hears_the_source_at_its_true_bearing(kind, azimuth):
    pose = HeadPose((3.2, 2.4, 1.25), yaw_deg=-25.0)
    position = _around(pose, azimuth, 1.5, 0.2)
    room = ListeningRoom(ARRAY, ROOM, [PointSource(position, source_sound(kind, 2.0, seed=3))], snr_db=20.0, seed=3)
    signals, _ = _listen(room, 2.4, lambda t: pose)
    track = _tracked(signals)[-1]
    assert _error(pose.bearing_deg(position), azimuth) < 1e-6
    assert _error(track.azimuth_deg, azimuth) <= 10.0, track


def test_the_tracked_bearing_follows_the_head_turning_in_place():
    """Still for 1 s, then a 90 degree turn over 2 s, then still: the source swings from 45 to -45 degrees."""
    def pose_at(t: float) -> HeadPose:
        return HeadPose((3.0, 2.5, 1.25), yaw_deg=90.0 * float(np.clip((t - 1.0) / 2.0, 0.0, 1.0)))

    position = _around(pose_at(0.0), 45.0, 1.5, 0.2)
    room = ListeningRoom(ARRAY, ROOM, [PointSource(position, source_sound("noise_burst", 2.0, seed=7))], snr_db=20.0,
                         seed=7)
    signals, _ = _listen(room, 4.0, pose_at)
    tracks = _tracked(signals)
    block_s = BearingEstimator(ARRAY).config.block / FS
    centres = (np.arange(len(tracks)) + 0.5) * block_s
    truth = [pose_at(c).bearing_deg(position) for c in centres]
    errors = [_error(track.azimuth_deg, a) for track, a, c in zip(tracks, truth, centres) if c > 1.0]
    assert truth[0] == pytest.approx(45.0) and truth[-1] == pytest.approx(-45.0)
    assert max(errors) <= 15.0, (f"max {max(errors):.1f} degrees; tracked "
                                 f"{[round(t.azimuth_deg) for t in tracks]} vs {np.round(truth).tolist()}")


def _scene(signal: np.ndarray, snr_db: float = 20.0, room: Room = ROOM) -> ListeningRoom:
    return ListeningRoom(ARRAY, room, [PointSource((1.5, 2.5, 1.25), signal, start_s=0.1)], snr_db=snr_db, seed=11)


def test_a_static_scene_read_in_20_ms_chunks_equals_it_read_in_one_piece():
    pose, signal = HeadPose((3.5, 2.0, 1.25), yaw_deg=10.0), source_sound("noise_burst", 0.7, seed=2)
    chunked, _ = _listen(_scene(signal), 1.0, lambda t: pose)
    whole = _scene(signal).read(FS, pose)
    np.testing.assert_allclose(chunked, whole, rtol=0.0, atol=1e-12)
    before, after = np.split(chunked, [round(0.1 * FS)], axis=1)
    assert np.mean(before**2) < 0.1 * np.mean(after**2), "only the mic noise before start_s"


def test_a_head_moving_every_chunk_leaves_no_click_at_the_chunk_boundaries():
    """A 250 Hz tone, noiseless, heard by a head stepping 3 cm and 3 degrees every 20 ms: a swap of
    impulse responses at a boundary would step the signal, which its second difference shows at once."""
    def moving(t: float) -> HeadPose:
        step = max(0.0, t - 0.4) / 0.02
        return HeadPose((3.0 + 0.03 * step, 2.5, 1.25), yaw_deg=3.0 * step)

    signal = tone(250.0, 1.0)
    heard, ends = _listen(_scene(signal, snr_db=200.0), 1.0, moving)
    still, _ = _listen(_scene(signal, snr_db=200.0), 1.0, lambda t: moving(0.0))
    curvature = np.abs(np.diff(heard, 2, axis=1))
    boundaries = np.array([round(end * FS) for end in ends if end > 0.45][:-1])
    at_boundaries = np.isin(np.arange(curvature.shape[1]), np.concatenate([boundaries - 2, boundaries - 1]))
    late = np.arange(curvature.shape[1]) > 0.45 * FS
    across, within = np.max(curvature[:, at_boundaries]), np.max(curvature[:, late & ~at_boundaries])
    assert across <= 1.1 * within, f"second difference {across:.2e} across boundaries, {within:.2e} within chunks"
    moved = heard[:, round(0.7 * FS):] - still[:, round(0.7 * FS):]
    assert np.linalg.norm(moved) > 0.3 * np.linalg.norm(still[:, round(0.7 * FS):]), "the head's moves are heard"


def _level_drop_db(rt60_s: float) -> float:
    """How much quieter white noise is 3 m from its source than 1 m away, the listener walking between."""
    noise = np.random.default_rng(5).standard_normal(FS)
    room = _scene(noise, snr_db=200.0, room=Room((6.0, 5.0, 3.0), rt60_s))
    near, _ = _listen(room, 1.5, lambda t: HeadPose((2.5, 2.5, 1.25)))
    far, _ = _listen(room, 1.5, lambda t: HeadPose((4.5, 2.5, 1.25)))
    steady = slice(round(0.5 * FS), None)
    return float(10 * np.log10(np.mean(near[:, steady] ** 2) / np.mean(far[:, steady] ** 2)))


def test_a_listener_three_times_further_away_hears_less_and_nearly_1_over_r_in_a_dry_room():
    """1/r would be 9.5 dB; the reverberant field, the same everywhere, fills in more the livelier the room."""
    dry, lively = _level_drop_db(0.15), _level_drop_db(0.3)
    assert 6.0 <= dry <= 10.5, dry
    assert 2.0 <= lively < dry - 1.0, (lively, dry)


@pytest.mark.parametrize("position", [(6.5, 2.5, 1.25), (0.01, 2.5, 1.25)])
def test_a_head_with_a_mic_outside_the_room_is_refused(position):
    with pytest.raises(ValueError, match="outside"):
        _scene(np.ones(100)).read(CHUNK, HeadPose(position))


def test_a_source_outside_the_room_is_refused():
    with pytest.raises(ValueError, match="outside"):
        ListeningRoom(ARRAY, ROOM, [PointSource((7.0, 2.5, 1.0), np.ones(100))])
