"""The perception node's audio stage: whatever the block size, the same tokens as the whole recording,
a tracked bearing of the source, and faults said in words."""

import numpy as np
import pytest

from perception.acoustic_scene import HeadPose, PointSource, Room, SimulatedScene, source_sound
from perception.audio_perception import AudioPerception, StreamingTokenizer
from perception.codebook import SHIPPED_CODEBOOK, AudioCodebook
from perception.microphones import MicArray
from perception.synthetic_audio import synthetic_audio

ARRAY = MicArray.g1_head()
CODEBOOK = AudioCodebook.load(SHIPPED_CODEBOOK)


@pytest.mark.parametrize("block", [160, 333, 1600])
def test_streamed_tokens_are_the_tokens_of_the_whole_recording(block):
    audio = synthetic_audio(10_003, 2.0)
    tokenizer = StreamingTokenizer(CODEBOOK)
    streamed = np.concatenate([tokenizer.push(audio[i:i + block]) for i in range(0, len(audio), block)])
    whole = CODEBOOK.encode_audio(audio)
    assert len(streamed) == len(whole) == 49
    np.testing.assert_array_equal(streamed, whole)


def test_a_source_to_the_left_is_tracked_there_from_100ms_blocks():
    pose = HeadPose((3.0, 2.5, 1.2), yaw_deg=30.0)
    position = (3.0 + 1.5 * np.cos(np.radians(100.0)), 2.5 + 1.5 * np.sin(np.radians(100.0)), 1.0)
    scene = SimulatedScene(ARRAY, Room(rt60_s=0.3), pose, [PointSource(position, source_sound("vowel", 2.0))],
                           snr_db=20.0)
    audio = AudioPerception(ARRAY, CODEBOOK)
    updates = [audio.step(scene.read(1600)) for _ in range(20)]
    assert all(u.fault is None for u in updates)
    assert sum(len(u.tokens) for u in updates) == 49
    truth = pose.bearing_deg(position)
    assert abs(truth - 70.0) < 1e-6
    assert abs(updates[-1].track.azimuth_deg - truth) < 10.0, updates[-1].track


@pytest.mark.parametrize(("block", "words"), [
    (np.zeros((4, 1600)), "silent"),
    (np.clip(4.0 * np.sin(np.linspace(0, 200, 1600)), -1.0, 1.0) * np.ones((4, 1)), "clipping"),
    (np.full((4, 1600), np.nan), "NaN"),
])
def test_unusable_input_is_flagged_in_words_and_nothing_breaks(block, words):
    audio = AudioPerception(ARRAY, CODEBOOK)
    update = audio.step(block)
    assert words in update.fault and update.track is None
    assert audio.step(0.01 * np.random.default_rng(0).normal(size=(4, 1600))).fault is None


def test_a_block_for_another_array_is_refused_with_the_expected_shape():
    with pytest.raises(ValueError, match=r"expected \(4, n\) samples"):
        AudioPerception(ARRAY, CODEBOOK).step(np.zeros((2, 1600)))
