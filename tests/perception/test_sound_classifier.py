"""What is sounding, from the codebook's tokens: the shipped classifier names sounds it never heard,
played in rooms it never heard them in."""

import numpy as np
import pytest

from perception.codebook import SHIPPED_CODEBOOK, AudioCodebook
from perception.sound_classes import SOUND_CLASSES, sound_of
from perception.sound_classifier import SoundClassifier, StreamingSoundClass
from perception.training.sound_classifier import (
    HELD_OUT_SEED,
    evaluate_classifier,
    room_responses,
    scene_audio,
    synthesize_scenes,
)


@pytest.fixture(scope="module")
def codebook():
    return AudioCodebook.load(SHIPPED_CODEBOOK)


def test_held_out_scenes_of_every_class_are_named_right(codebook):
    scenes = synthesize_scenes(codebook, 2, HELD_OUT_SEED + 7_000, rooms=3)
    result = evaluate_classifier(SoundClassifier.load(), scenes)
    assert result.accuracy >= 0.9, result.confusion
    assert np.all(np.diag(result.confusion) >= 0.75 * result.confusion.sum(1)), result.confusion


def test_a_stream_is_named_once_a_second_of_it_is_heard_and_follows_the_sound_that_takes_over(codebook):
    room = room_responses(1, HELD_OUT_SEED + 8_000)[0]
    heard = StreamingSoundClass(SoundClassifier.load())
    fan, voice = (codebook.encode_audio(scene_audio(name, HELD_OUT_SEED + 8_001, 3.0, room)) for name in ("fan", "voice"))
    assert heard.push(fan[:20]) is None, "less than a second of tokens names nothing"
    assert heard.push(fan[20:]).name == "fan"
    assert heard.push(voice).name == "voice"


def test_an_unknown_class_is_refused_naming_the_known_ones():
    with pytest.raises(ValueError, match="choose one of quiet, voice"):
        sound_of("thunder", 0, 1.0)
    assert len(SOUND_CLASSES) == len(set(SOUND_CLASSES))
