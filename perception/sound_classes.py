"""The kinds of sound the robot tells apart, and seeded synthesizers for each, so a classifier is
trained and judged on audio the project makes itself.

Each class is built the way its real sounds are: a voice is syllables of harmonic, formant-shaped
vowels on a moving pitch with fricatives and short pauses between them; impacts are knocks and
rattles, each a few damped resonant modes struck by a short transient; alarms are beeps, two-tone
alternations or sirens of a few strong partials; a fan is steady tilted broadband noise with the hum
of its blade rate. Quiet is the room's and the microphone's own noise, so the classifier can say that
nothing is sounding. Every draw is randomized (pitch, formants, modes, rates, spectral tilt), so the
classes are told apart by their structure, not by one fixed recipe.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

SOUND_CLASSES = ("quiet", "voice", "impact", "alarm", "fan")
"""The classes a classifier chooses among, in the order of its outputs."""


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def _band_noise(rng: np.random.Generator, n: int, sample_rate: int, centre_hz: float, octaves: float) -> np.ndarray:
    """White noise through a Gaussian in log frequency around `centre_hz`, `octaves` wide (one sigma)."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    distance = np.log2(np.maximum(np.fft.rfftfreq(n, 1 / sample_rate), 1.0) / centre_hz)
    return np.fft.irfft(spectrum * np.exp(-0.5 * (distance / octaves) ** 2), n)


def noise_burst(rng: np.random.Generator, n: int, sample_rate: int = 16_000) -> np.ndarray:
    """Band-limited noise from a hiss to a rumble: 300-5000 Hz at the centre, 0.7-3 octaves wide."""
    return _band_noise(rng, n, sample_rate, _log_uniform(rng, 300, 5000), rng.uniform(0.7, 3.0))


def voiced_tone(rng: np.random.Generator, n: int, sample_rate: int = 16_000,
                pitch_hz: tuple[float, float] = (90.0, 320.0)) -> np.ndarray:
    """A harmonic series on a pitch with vibrato and a glide, each harmonic weighted by three formants."""
    t = np.arange(n) / sample_rate
    glide = np.linspace(1.0, 2 ** rng.uniform(-0.4, 0.4), n)
    f0 = _log_uniform(rng, *pitch_hz) * glide * (1 + rng.uniform(0.005, 0.03) * np.sin(2 * np.pi * rng.uniform(4, 7) * t))
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    formants = np.array([rng.uniform(300, 900), rng.uniform(900, 2500), rng.uniform(2300, 3500)])
    bandwidths = rng.uniform(60, 200, 3)
    harmonics = np.arange(1, int(0.45 * sample_rate / f0.max()) + 1)
    out = np.zeros(n)
    for h in harmonics:
        gain = np.exp(-0.5 * ((h * f0[:, None] - formants) / bandwidths) ** 2).sum(-1) + 0.02
        out += gain / np.sqrt(h) * np.sin(h * phase)
    return out


def voice(rng: np.random.Generator, n: int, sample_rate: int = 16_000) -> np.ndarray:
    """Syllables of 80-300 ms, each a voiced vowel, now and then led by a fricative, with 20-200 ms pauses."""
    out, at = np.zeros(n), int(rng.uniform(0.0, 0.1) * sample_rate)
    speaker = _log_uniform(rng, 90, 280)
    while at < n:
        if rng.uniform() < 0.35:
            length = min(int(rng.uniform(0.03, 0.1) * sample_rate), n - at)
            out[at:at + length] = 0.3 * _band_noise(rng, length, sample_rate, rng.uniform(3000, 6500), 0.5)
            at += length
        length = min(int(rng.uniform(0.08, 0.3) * sample_rate), n - at)
        if length > 32:
            out[at:at + length] = voiced_tone(rng, length, sample_rate, (speaker / 1.2, speaker * 1.2)) * np.hanning(length)
        at += length + int(rng.uniform(0.02, 0.2) * sample_rate)
    return out


def impact(rng: np.random.Generator, n: int, sample_rate: int = 16_000) -> np.ndarray:
    """Knocks 0.1-0.6 s apart, or rattles of 20-60 hits a second in bursts; each hit a few damped modes."""
    rattle = rng.uniform() < 0.5
    modes = np.array([_log_uniform(rng, 150, 6000) for _ in range(int(rng.integers(2, 6)))])
    decays = np.array([_log_uniform(rng, 0.003, 0.06) for _ in modes])
    t = np.arange(int(0.25 * sample_rate)) / sample_rate
    ring = (np.exp(-t[:, None] / decays) * np.sin(2 * np.pi * modes * t[:, None])).sum(1)
    ring[:int(0.002 * sample_rate)] += rng.standard_normal(int(0.002 * sample_rate))
    out, at = np.zeros(n + len(ring)), int(rng.uniform(0.0, 0.2) * sample_rate)
    while at < n:
        if rattle:
            hits = int(rng.integers(5, 30))
            rate = rng.uniform(20, 60)
            for k in range(hits):
                hit = at + int(k * sample_rate / rate * rng.uniform(0.7, 1.3))
                if hit < n:
                    out[hit:hit + len(ring)] += rng.uniform(0.3, 1.0) * ring
            at += int(hits * sample_rate / rate + rng.uniform(0.1, 0.5) * sample_rate)
        else:
            out[at:at + len(ring)] += rng.uniform(0.5, 1.0) * ring
            at += int(rng.uniform(0.1, 0.6) * sample_rate)
    return out[:n]


def alarm(rng: np.random.Generator, n: int, sample_rate: int = 16_000) -> np.ndarray:
    """Beeps (a 0.1-0.6 s period), a two-tone alternation or a siren, on a 600-4000 Hz carrier with
    odd partials, as buzzers and sounders make."""
    t = np.arange(n) / sample_rate
    carrier = _log_uniform(rng, 600, 4000)
    style = int(rng.integers(3))
    gate = np.ones(n)
    if style == 0:
        period, duty = rng.uniform(0.1, 0.6), rng.uniform(0.3, 0.7)
        gate = ((t + rng.uniform(0, period)) % period < duty * period).astype(float)
        frequency = np.full(n, carrier)
    elif style == 1:
        period = rng.uniform(0.3, 1.2)
        frequency = np.where((t % period) < period / 2, carrier, carrier * rng.uniform(1.15, 1.6))
    else:
        frequency = carrier * (1 + rng.uniform(0.2, 0.5) * np.sin(2 * np.pi * rng.uniform(0.3, 3.0) * t))
    phase = 2 * np.pi * np.cumsum(frequency) / sample_rate
    partials = int(rng.integers(1, 4))
    tone = sum(np.sin((2 * k + 1) * phase) / (2 * k + 1) for k in range(partials) if (2 * k + 1) * carrier < 7500)
    edge = max(1, int(0.005 * sample_rate))
    gate = np.convolve(gate, np.ones(edge) / edge, mode="same")
    return gate * tone


def fan(rng: np.random.Generator, n: int, sample_rate: int = 16_000) -> np.ndarray:
    """Steady noise falling 3-9 dB an octave above a 1-6 kHz knee, slowly swaying, with the hum of a
    40-150 Hz blade rate and its harmonics."""
    freqs = np.maximum(np.fft.rfftfreq(n, 1 / sample_rate), 20.0)
    tilt = (freqs / 100.0) ** (-rng.uniform(3, 9) / 20 / np.log10(2)) / (1 + (freqs / rng.uniform(1000, 6000)) ** 4)
    noise = np.fft.irfft(np.fft.rfft(rng.standard_normal(n)) * tilt, n)
    noise /= np.sqrt(np.mean(noise**2)) + 1e-12
    t = np.arange(n) / sample_rate
    blade = _log_uniform(rng, 40, 150)
    hum = sum(rng.uniform(0.2, 1.0) / k * np.sin(2 * np.pi * k * blade * t + rng.uniform(0, 2 * np.pi))
              for k in range(1, 6))
    sway = 1 + rng.uniform(0.0, 0.1) * np.sin(2 * np.pi * rng.uniform(0.2, 2.0) * t)
    return sway * (noise + 10 ** (rng.uniform(-25, -8) / 20) * hum)


def quiet(rng: np.random.Generator, n: int, sample_rate: int = 16_000) -> np.ndarray:
    """Nothing but the room's faint broadband noise (the mic's own noise is added by the scene)."""
    return fan(rng, n, sample_rate) * 10 ** (rng.uniform(-40, -20) / 20)


SYNTHESIZERS: dict[str, Callable[[np.random.Generator, int, int], np.ndarray]] = {
    "quiet": quiet, "voice": voice, "impact": impact, "alarm": alarm, "fan": fan}


def sound_of(name: str, seed: int, seconds: float, sample_rate: int = 16_000) -> np.ndarray:
    """`seconds` of one class's sound at unit RMS (quiet: far below it), the same for the same seed."""
    if name not in SYNTHESIZERS:
        raise ValueError(f"unknown sound class {name!r}: choose one of {', '.join(SOUND_CLASSES)}")
    rng = np.random.default_rng(seed)
    sound = SYNTHESIZERS[name](rng, round(seconds * sample_rate), sample_rate)
    if name == "quiet":
        return sound
    return sound / (np.sqrt(np.mean(sound**2)) + 1e-12)
