"""Seeded synthetic sound, so the audio tokenizer can be fitted and tested without downloading a corpus.

A clip is a handful of overlapping events of the kinds a codebook must tell apart (steady tones,
chirps, band-limited noise bursts, voiced vowel-like sounds, click trains) over a faint noise
floor, like a microphone's own. The same seed gives the same samples on any machine, so the seeds
a codebook is fitted on and the held-out seeds it is judged on stay apart by number alone. A clip
of one kind is a single sound source, which is what a simulated room needs to test a bearing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np

SAMPLE_RATE = 16_000
EVENTS_PER_SECOND = 2.5
Kind = Literal["tone", "chirp", "noise_burst", "vowel", "clicks"]
KINDS: tuple[Kind, ...] = ("tone", "chirp", "noise_burst", "vowel", "clicks")


def tone(freq: float, seconds: float, amplitude: float = 0.5, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def synthetic_audio(seed: int, seconds: float = 4.0, sample_rate: int = SAMPLE_RATE, kinds: Sequence[Kind] = KINDS,
                    events_per_second: float = EVENTS_PER_SECOND) -> np.ndarray:
    """Mono float32 samples in [-0.95, 0.95]: events of `kinds` at random onsets, levels -35..-8 dB re full scale."""
    unknown = set(kinds) - set(KINDS)
    if not kinds or unknown:
        raise ValueError(f"unknown sound kinds {sorted(unknown)}: use some of {', '.join(KINDS)}")
    rng = np.random.default_rng(seed)
    n = round(seconds * sample_rate)
    clip = rng.standard_normal(n) * 10 ** (rng.uniform(-75, -55) / 20)
    for _ in range(1 + rng.poisson(events_per_second * seconds)):
        start = int(rng.integers(0, n))
        length = min(int(rng.uniform(0.08, 0.9) * sample_rate), n - start)
        if length < 32:
            continue
        event = _EVENTS[kinds[int(rng.integers(len(kinds)))]](rng, length, sample_rate)
        event *= 10 ** (rng.uniform(-35, -8) / 20) / (np.sqrt(np.mean(event**2)) + 1e-12)
        clip[start:start + length] += event * _envelope(rng, length, sample_rate)
    peak = np.max(np.abs(clip))
    return (clip * min(1.0, 0.95 / peak)).astype(np.float32)


def synthetic_corpus(seeds: Iterable[int], seconds: float = 4.0, sample_rate: int = SAMPLE_RATE) -> list[np.ndarray]:
    return [synthetic_audio(seed, seconds, sample_rate) for seed in seeds]


def _envelope(rng: np.random.Generator, length: int, sample_rate: int) -> np.ndarray:
    """Raised-cosine attack and release, so events start and stop the way real sounds do, not with a step."""
    attack = max(1, min(length // 2, int(rng.uniform(0.002, 0.05) * sample_rate)))
    release = max(1, min(length - attack, int(rng.uniform(0.02, 0.2) * sample_rate)))
    envelope = np.ones(length)
    envelope[:attack] = 0.5 - 0.5 * np.cos(np.pi * np.arange(attack) / attack)
    envelope[length - release:] = 0.5 + 0.5 * np.cos(np.pi * np.arange(release) / release)
    return envelope


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def _tone(rng: np.random.Generator, length: int, sample_rate: int) -> np.ndarray:
    return np.sin(2 * np.pi * _log_uniform(rng, 80, 6000) * np.arange(length) / sample_rate + rng.uniform(0, 2 * np.pi))


def _chirp(rng: np.random.Generator, length: int, sample_rate: int) -> np.ndarray:
    f0, f1 = _log_uniform(rng, 100, 7000), _log_uniform(rng, 100, 7000)
    t = np.arange(length) / sample_rate
    return np.sin(2 * np.pi * (f0 * t + (f1 - f0) * t**2 / (2 * t[-1])))


def _noise_burst(rng: np.random.Generator, length: int, sample_rate: int) -> np.ndarray:
    """White noise through a random band, a Gaussian in log frequency (from a hiss to a rumble)."""
    spectrum = np.fft.rfft(rng.standard_normal(length))
    octaves = np.log2(np.maximum(np.fft.rfftfreq(length, 1 / sample_rate), 1.0) / _log_uniform(rng, 150, 6000))
    return np.fft.irfft(spectrum * np.exp(-0.5 * (octaves / rng.uniform(0.3, 3.0)) ** 2), length)


def _vowel(rng: np.random.Generator, length: int, sample_rate: int) -> np.ndarray:
    """A harmonic series on a pitch with vibrato, each harmonic weighted by three formant peaks."""
    t = np.arange(length) / sample_rate
    f0 = _log_uniform(rng, 90, 320) * (1 + rng.uniform(0.005, 0.03) * np.sin(2 * np.pi * rng.uniform(4, 7) * t))
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    formants = np.array([rng.uniform(300, 900), rng.uniform(900, 2500), rng.uniform(2300, 3500)])
    bandwidths = rng.uniform(60, 200, 3)
    harmonics = np.arange(1, int(0.45 * sample_rate / f0.max()) + 1)[:, None]
    freqs = harmonics * f0
    gain = np.exp(-0.5 * ((freqs[..., None] - formants) / bandwidths) ** 2).sum(-1) + 0.02
    return (gain / np.sqrt(harmonics) * np.sin(harmonics * phase)).sum(0)


def _clicks(rng: np.random.Generator, length: int, sample_rate: int) -> np.ndarray:
    """A jittered train of short damped resonances, like footsteps, taps or a ticking motor."""
    period = sample_rate / rng.uniform(2, 40)
    onsets = np.cumsum(period * rng.uniform(0.8, 1.2, int(length / period) + 2)).astype(int) - int(period)
    impulses = np.zeros(length)
    impulses[onsets[(onsets >= 0) & (onsets < length)]] = 1.0
    t = np.arange(int(0.01 * sample_rate)) / sample_rate
    ring = np.exp(-t / rng.uniform(0.0005, 0.003)) * np.sin(2 * np.pi * _log_uniform(rng, 800, 6000) * t)
    return np.convolve(impulses, ring)[:length]


_EVENTS = {"tone": _tone, "chirp": _chirp, "noise_burst": _noise_burst, "vowel": _vowel, "clicks": _clicks}
