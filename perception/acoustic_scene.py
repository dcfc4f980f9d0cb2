"""Audio as a pluggable source, with a simulated room as the source that needs no robot and no download.

The G1's own stream is mono, so bearing work runs against whatever array is at hand: a room rendered
by pyroomacoustics (image sources, an RT60, mic noise at an SNR), a recording, and later a sound
device or the robot's stream, all behind one `read`. Sources play seeded clips of
`perception.synthetic_audio`, so a failing scene can be rebuilt exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from perception.microphones import MicArray
from perception.synthetic_audio import Kind, synthetic_audio

SOURCE_KINDS: tuple[Kind, ...] = ("noise_burst", "chirp", "vowel", "clicks")
"""What a simulated source plays: every kind of synthetic sound but the steady tone, whose standing
waves in a room leave the phase at the mics nothing to do with where it comes from."""


class AudioSource(Protocol):
    array: MicArray

    @property
    def sample_rate(self) -> int: ...

    def read(self, n_samples: int) -> np.ndarray:
        """The next samples, shape (channels, <= n_samples), floats with full scale at 1.0; empty once over."""
        ...


class Recording:
    """Plays back a multichannel array: the seam where a sound device or the robot's stream plugs in."""

    def __init__(self, signals: np.ndarray, array: MicArray) -> None:
        signals = np.asarray(signals)
        if np.issubdtype(signals.dtype, np.integer):
            signals = signals / float(np.iinfo(signals.dtype).max)
        if signals.ndim != 2 or len(signals) != array.channels:
            raise ValueError(f"a recording for this array needs shape ({array.channels}, n), got {signals.shape}")
        self.signals, self.array, self._at = signals.astype(float), array, 0

    @property
    def sample_rate(self) -> int:
        return self.array.sample_rate

    def read(self, n_samples: int) -> np.ndarray:
        out = self.signals[:, self._at:self._at + n_samples]
        self._at += out.shape[1]
        return out


@dataclass(frozen=True)
class Room:
    size_m: tuple[float, float, float] = (6.0, 5.0, 3.0)
    rt60_s: float = 0.3


@dataclass(frozen=True)
class HeadPose:
    """The robot's head in the room (MuJoCo's world frame): position and yaw about +z."""

    position: tuple[float, float, float]
    yaw_deg: float = 0.0

    def _rotation(self) -> np.ndarray:
        c, s = np.cos(np.radians(self.yaw_deg)), np.sin(np.radians(self.yaw_deg))
        return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])

    def to_world(self, head_points: np.ndarray) -> np.ndarray:
        return np.asarray(head_points) @ self._rotation().T + np.asarray(self.position)

    def bearing_deg(self, world_point: tuple[float, float, float]) -> float:
        """Azimuth of a world point in the head frame: 0 ahead, positive to the left, in (-180, 180]."""
        x, y, _ = self._rotation().T @ (np.asarray(world_point) - np.asarray(self.position))
        return float(np.degrees(np.arctan2(y, x)))


@dataclass(frozen=True, eq=False)
class PointSource:
    position: tuple[float, float, float]
    signal: np.ndarray
    start_s: float = 0.0


def moving_source(signal: np.ndarray, path: list[tuple[float, float, float]], sample_rate: int) -> list[PointSource]:
    """A source that steps along `path`, playing consecutive equal slices of `signal` at each point."""
    cuts = np.linspace(0, len(signal), len(path) + 1).astype(int)
    return [PointSource(p, signal[a:b], a / sample_rate) for p, a, b in zip(path, cuts[:-1], cuts[1:])]


class SimulatedScene:
    """Mic signals of point sources in a shoebox room, rendered once, then read like any source.

    The mix is scaled to `level_dbfs` (RMS over mics), white noise is added at `snr_db` below it and
    the result is clipped to full scale as an ADC would.
    """

    def __init__(self, array: MicArray, room: Room, pose: HeadPose, sources: list[PointSource],
                 snr_db: float = 20.0, level_dbfs: float = -30.0, seed: int = 0) -> None:
        import pyroomacoustics as pra

        if not sources:
            raise ValueError("a scene needs at least one PointSource")
        absorption, max_order = pra.inverse_sabine(room.rt60_s, room.size_m)
        shoebox = pra.ShoeBox(room.size_m, fs=array.sample_rate, materials=pra.Material(absorption),
                              max_order=max_order)
        for source in sources:
            shoebox.add_source(source.position, signal=source.signal, delay=source.start_s)
        shoebox.add_microphone_array(pose.to_world(array.xyz).T)
        shoebox.simulate()
        end = max(round(s.start_s * array.sample_rate) + len(s.signal) for s in sources)
        clean = shoebox.mic_array.signals[:, :end]
        clean = clean * 10 ** (level_dbfs / 20) / max(float(np.sqrt(np.mean(clean**2))), 1e-30)
        noise = np.random.default_rng(seed).normal(0.0, 10 ** ((level_dbfs - snr_db) / 20), clean.shape)
        self.array, self.pose, self.sources = array, pose, sources
        self._playback = Recording(np.clip(clean + noise, -1.0, 1.0), array)

    @property
    def sample_rate(self) -> int:
        return self.array.sample_rate

    @property
    def signals(self) -> np.ndarray:
        return self._playback.signals

    def read(self, n_samples: int) -> np.ndarray:
        return self._playback.read(n_samples)


def source_sound(kind: Kind, seconds: float, sample_rate: int = 16_000, seed: int = 0) -> np.ndarray:
    """`seconds` of one kind of synthetic sound, for a source that has been sounding a while, as a
    talker or a radio has: events eight a second, so nearly every 200 ms block holds one, with the
    first second dropped, since a clip is quiet until its first events start."""
    n = round(seconds * sample_rate)
    clip = synthetic_audio(seed, seconds + 1.0, sample_rate, kinds=(kind,), events_per_second=8.0)
    return clip[len(clip) - n:]
