"""Log-mel spectrograms, the audio picture the codebook and the patch view both read.

Written on plain torch (framing, rfft, one matmul for the filterbank) because torchaudio's wheel does
not match the pinned torch and librosa is heavy for one function; torch also lets the perception node
hold it to one thread. Values are dB of the mean-square signal that each mel band's triangle weighs
in (0 dB: a full-scale square wave), floored so that silence is a finite number, not -inf. Silent and
clipped microphones, which the spectrogram cannot tell apart from quiet or loud sounds, are flagged
by `perception.input_check` from the samples themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from perception.patches import to_patches


@dataclass(frozen=True)
class LogMelConfig:
    sample_rate: int = 16_000
    win_length: int = 400
    """25 ms Hann window."""
    hop_length: int = 160
    """10 ms between frames: 100 frames/s."""
    n_fft: int = 1024
    """The window zero-padded to 1024 points, so that even the narrowest low-frequency band of 128 holds an FFT bin."""
    n_mels: int = 128
    f_min: float = 0.0
    f_max: float = 8000.0
    floor_db: float = -100.0
    """About where 16-bit quantisation noise lies; digital silence reads exactly this."""

    @property
    def frames_per_second(self) -> float:
        return self.sample_rate / self.hop_length


def num_frames(samples: int, config: LogMelConfig = LogMelConfig()) -> int:
    """Frames of `samples` samples: whole windows only, the first one starting at sample 0 (no padding)."""
    return 0 if samples < config.win_length else 1 + (samples - config.win_length) // config.hop_length


def mel_centers_hz(config: LogMelConfig = LogMelConfig()) -> np.ndarray:
    """Centre frequency of each mel band (HTK mel scale), where its triangle peaks."""
    return _mel_edges_hz(config)[1:-1]


def mel_filterbank(config: LogMelConfig = LogMelConfig()) -> np.ndarray:
    """(n_fft // 2 + 1, n_mels) triangles of peak 1 on the FFT bins' frequencies."""
    edges = _mel_edges_hz(config)
    freqs = np.fft.rfftfreq(config.n_fft, 1 / config.sample_rate)[:, None]
    rising = (freqs - edges[:-2]) / (edges[1:-1] - edges[:-2])
    falling = (edges[2:] - freqs) / (edges[2:] - edges[1:-1])
    return np.maximum(0.0, np.minimum(rising, falling))


def as_float(audio: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """int16 microphone samples to floats in [-1, 1); float samples unchanged."""
    if audio.dtype in (np.int16, torch.int16):
        return audio / 32768.0
    return audio


def log_mel(audio: np.ndarray | torch.Tensor, config: LogMelConfig = LogMelConfig()) -> np.ndarray:
    """(samples,) or (batch, samples) float or int16 audio -> float32 (..., frames, n_mels) in dB."""
    x = torch.as_tensor(as_float(audio), dtype=torch.float32)
    if x.shape[-1] < config.win_length:
        return np.full((*x.shape[:-1], 0, config.n_mels), config.floor_db, dtype=np.float32)
    window, filterbank = _tensors(config)
    frames = x.unfold(-1, config.win_length, config.hop_length) * window
    power = torch.view_as_real(torch.fft.rfft(frames, n=config.n_fft)).square().sum(-1)
    mel = (power @ filterbank).clamp_min(10 ** (config.floor_db / 10))
    return (10 * torch.log10(mel)).numpy()


def time_frequency_patches(logmel: np.ndarray, patch: int = 16) -> np.ndarray:
    """(frames, n_mels) -> (frames/16 * n_mels/16, 256): the spectrogram as 16x16 patches, as vision sees
    an image, time-major (all bands of the first 16 frames, then the next 16 frames)."""
    return to_patches(logmel[..., None], patch)


def _mel_edges_hz(config: LogMelConfig) -> np.ndarray:
    def mel(hz: float) -> float:
        return 2595.0 * np.log10(1.0 + hz / 700.0)

    mels = np.linspace(mel(config.f_min), mel(config.f_max), config.n_mels + 2)
    return 700.0 * (10 ** (mels / 2595.0) - 1.0)


@lru_cache(maxsize=8)
def _tensors(config: LogMelConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """The window, and the filterbank with the one-sided Parseval scaling folded in, so that a band's
    value is the mean-square signal (over the window) that falls in it."""
    window = torch.hann_window(config.win_length, periodic=True, dtype=torch.float64)
    one_sided = np.full(config.n_fft // 2 + 1, 2.0)
    one_sided[[0, -1]] = 1.0
    scale = one_sided / (config.n_fft * float((window**2).sum()))
    filterbank = torch.as_tensor(mel_filterbank(config) * scale[:, None], dtype=torch.float32)
    return window.float(), filterbank
