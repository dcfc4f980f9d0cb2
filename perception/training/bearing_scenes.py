"""Randomized rooms, arrays and sounds for tuning and judging a sound bearing on geometry it never saw.

A scene is one source in a shoebox room that sounds and pauses (noise bursts and harmonic voiced
tones, 0.4-1.2 s on, 0.3-1 s off), heard by an array with mic noise at an SNR measured while the
source sounds. Every block is labelled from the dry source, delayed by the direct path: sounding (the
source plays throughout it), silent (it plays nowhere in it: noise and the room's echoes only) or an
edge block (both), so a detector is judged where the answer is not in doubt. Tuning draws scattered
arrays (3-8 mics, 2-6 cm across); judging uses the regular arrays a user declares (a 6-mic circle, the
G1 square) and seeds of its own, so nothing judged was tuned on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from perception.acoustic_scene import HeadPose
from perception.microphones import MicArray
from perception.sound_classes import noise_burst, voiced_tone

Label = Literal["sounding", "silent", "edge"]
TUNING_SEEDS = range(0, 10_000)
"""Seeds for tuning and training; judging draws from `JUDGING_SEED` on."""
JUDGING_SEED = 50_000


@dataclass(frozen=True)
class BearingScene:
    signals: np.ndarray
    """Mic samples (channels, n), full scale at 1.0."""
    truth_deg: float
    """The source's azimuth in the array's frame."""
    on: np.ndarray
    """Per sample, whether the direct sound of the source reaches the array then."""
    array: MicArray
    rt60_s: float
    snr_db: float

    def blocks(self, size: int) -> Iterator[tuple[np.ndarray, Label]]:
        for start in range(0, self.signals.shape[1] - size + 1, size):
            on = self.on[start:start + size]
            label: Label = "sounding" if on.all() else "silent" if not on.any() else "edge"
            yield self.signals[:, start:start + size], label


def scattered_array(rng: np.random.Generator, sample_rate: int = 16_000) -> MicArray:
    """3-8 mics at random in a horizontal disc 2-6 cm across (1 cm of height jitter), at least 1 cm apart."""
    while True:
        n, radius = int(rng.integers(3, 9)), rng.uniform(0.01, 0.03)
        r, phi = radius * np.sqrt(rng.uniform(0.0, 1.0, n)), rng.uniform(0.0, 2 * np.pi, n)
        xyz = np.stack([r * np.cos(phi), r * np.sin(phi), rng.uniform(-0.005, 0.005, n)], axis=1)
        spacing = np.linalg.norm(xyz[:, None] - xyz[None], axis=-1) + np.eye(n)
        array = MicArray(tuple(map(tuple, xyz)), sample_rate)
        try:
            array.check_resolves_bearing(0.01)
        except ValueError:
            continue
        if spacing.min() >= 0.01:
            return array


def circle_array(mics: int, radius_m: float, sample_rate: int = 16_000) -> MicArray:
    angles = 2 * np.pi * np.arange(mics) / mics
    return MicArray(tuple((radius_m * np.cos(a), radius_m * np.sin(a), 0.0) for a in angles), sample_rate)


def _source_signal(rng: np.random.Generator, seconds: float, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Sound and pause in turn, starting with a pause; each sound a noise burst or a voiced tone within
    +-3 dB of the others, with 10 ms ramps. Returns the samples and where the source plays."""
    n = round(seconds * sample_rate)
    signal, on = np.zeros(n), np.zeros(n, dtype=bool)
    at = int(rng.uniform(0.2, 0.6) * sample_rate)
    while at < n:
        length = min(int(rng.uniform(0.4, 1.2) * sample_rate), n - at)
        sound = (noise_burst if rng.uniform() < 0.5 else voiced_tone)(rng, length, sample_rate)
        ramp = min(length // 2, int(0.01 * sample_rate))
        sound[:ramp] *= np.linspace(0.0, 1.0, ramp)
        sound[length - ramp:] *= np.linspace(1.0, 0.0, ramp)
        signal[at:at + length] = sound * 10 ** (rng.uniform(-3, 3) / 20) / (np.sqrt(np.mean(sound**2)) + 1e-12)
        on[at:at + length] = True
        at += length + int(rng.uniform(0.3, 1.0) * sample_rate)
    return signal, on


def random_scene(seed: int, array: MicArray, rt60_s: float, snr_db: float, seconds: float = 4.0) -> BearingScene:
    """A shoebox of 3.5-9 x 3-7 x 2.4-3.5 m, the array 0.9-1.7 m up at least 0.6 m from the walls and
    turned at random, the source 1-3 m away at any azimuth and 0.3-2 m up."""
    import pyroomacoustics as pra

    rng = np.random.default_rng(seed)
    fs = array.sample_rate
    size = np.array([rng.uniform(3.5, 9.0), rng.uniform(3.0, 7.0), rng.uniform(2.4, 3.5)])
    while True:
        pose = HeadPose((rng.uniform(0.6, size[0] - 0.6), rng.uniform(0.6, size[1] - 0.6), rng.uniform(0.9, 1.7)),
                        rng.uniform(-180.0, 180.0))
        azimuth, distance = rng.uniform(-np.pi, np.pi), rng.uniform(1.0, 3.0)
        position = np.array([pose.position[0] + distance * np.cos(azimuth),
                             pose.position[1] + distance * np.sin(azimuth), rng.uniform(0.3, 2.0)])
        if np.all((position >= 0.3) & (position <= size - 0.3)):
            break
    signal, on = _source_signal(rng, seconds, fs)
    absorption, max_order = pra.inverse_sabine(rt60_s, size)
    room = pra.ShoeBox(size, fs=fs, materials=pra.Material(absorption), max_order=max_order)
    room.add_source(position, signal=signal)
    room.add_microphone_array(pose.to_world(array.xyz).T)
    room.simulate()
    clean = room.mic_array.signals[:, :len(signal)]
    delay = int(np.argmax(np.abs(room.rir[0][0])))
    on = np.concatenate([np.zeros(delay, dtype=bool), on])[:len(signal)]
    clean = clean * 10 ** (-30 / 20) / max(float(np.sqrt(np.mean(clean[:, on] ** 2))), 1e-30)
    noise = rng.normal(0.0, 10 ** ((-30 - snr_db) / 20), clean.shape)
    return BearingScene(np.clip(clean + noise, -1.0, 1.0), pose.bearing_deg(tuple(position)), on, array, rt60_s,
                        snr_db)
