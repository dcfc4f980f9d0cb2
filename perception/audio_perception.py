"""The audio half of the perception node: blocks of mic samples in, codebook tokens and a tracked
bearing out, with the input's faults said in words.

Blocks arrive at whatever size the source delivers (a sound card's period, the simulator's chunk),
while a token needs F frames and a bearing 200 ms of samples, so both keep the samples not yet used:
streamed tokens are then exactly the tokens of the whole recording, and no bearing is computed from
a fragment too short to resolve delays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perception.bearing import Bearing, BearingConfig, BearingEstimator, BearingTracker, Track, TrackerConfig
from perception.codebook import AudioCodebook
from perception.input_check import check_input
from perception.microphones import MicArray
from perception.spectrogram import num_frames

FAULT_TEXT = {
    "non-finite": "audio holds NaN or infinite samples: the sound driver is broken, restart the audio source",
    "silence": "audio is silent (below -60 dBFS): is the microphone muted or unplugged?",
    "clipped": "audio is clipping: lower the input gain",
}


def input_fault(samples: np.ndarray) -> str | None:
    """Why these samples cannot be trusted, in words an operator can act on; None when they can."""
    check = check_input(samples)
    if not check.finite:
        return FAULT_TEXT["non-finite"]
    if check.silent:
        return FAULT_TEXT["silence"]
    return FAULT_TEXT["clipped"] if check.clipped else None


@dataclass(frozen=True)
class AudioUpdate:
    tokens: np.ndarray
    """Codebook ids completed by this block, oldest first."""
    track: Track | None
    """The tracked sound bearing (head frame, degrees, positive to the left); None until one is heard."""
    fault: str | None
    """Why this block's audio cannot be trusted, in words an operator can act on; None when clean."""


class StreamingTokenizer:
    """Codebook tokens of a mono stream fed in pieces, identical to encoding the stream at once."""

    def __init__(self, codebook: AudioCodebook) -> None:
        self.codebook = codebook
        self._pending = np.zeros(0, dtype=np.float32)

    def push(self, mono: np.ndarray) -> np.ndarray:
        cfg, f = self.codebook.logmel, self.codebook.frames_per_token
        self._pending = np.concatenate([self._pending, np.asarray(mono, dtype=np.float32)])
        tokens = num_frames(len(self._pending), cfg) // f
        if tokens == 0:
            return np.zeros(0, dtype=np.uint16)
        used = (tokens * f - 1) * cfg.hop_length + cfg.win_length
        ids = self.codebook.encode_audio(self._pending[:used])
        self._pending = self._pending[tokens * f * cfg.hop_length:]
        return ids.astype(np.uint16)


class AudioPerception:
    def __init__(self, array: MicArray, codebook: AudioCodebook, bearing: BearingConfig = BearingConfig(),
                 tracker: TrackerConfig = TrackerConfig()) -> None:
        if codebook.logmel.sample_rate != array.sample_rate:
            raise ValueError(f"the codebook expects {codebook.logmel.sample_rate} Hz audio and the mic array "
                             f"delivers {array.sample_rate} Hz: resample the source or fit a codebook at its rate")
        self.array = array
        self.estimator = BearingEstimator(array, bearing)
        self.tracker = BearingTracker(tracker)
        self.tokenizer = StreamingTokenizer(codebook)
        self.last_bearing: Bearing | None = None
        self._pending = np.zeros((array.channels, 0))

    def step(self, block: np.ndarray) -> AudioUpdate:
        """Fold in the next samples, shaped (channels, n), floats with full scale at 1.0."""
        x = np.asarray(block, dtype=float)
        if x.ndim != 2 or len(x) != self.array.channels:
            raise ValueError(f"expected ({self.array.channels}, n) samples, one row per mic, got shape {x.shape}")
        fault = input_fault(x)
        if not np.isfinite(x).all():
            x = np.zeros_like(x)
        tokens = self.tokenizer.push(x.mean(axis=0))
        self._pending = np.concatenate([self._pending, x], axis=1)
        size = self.estimator.config.block
        while self._pending.shape[1] >= size:
            self.last_bearing = self.estimator.estimate(self._pending[:, :size])
            self.tracker.update(self.last_bearing, size / self.array.sample_rate)
            self._pending = self._pending[:, size:]
        return AudioUpdate(tokens, self.tracker.track, fault)
