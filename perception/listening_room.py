"""Mic signals for a listener that walks and turns in a room while fixed sources keep sounding.

`SimulatedScene` renders a static scene in one go, but a robot's head moves while it listens, and a
simulation wants the next 20-100 ms of sound at each control tick for wherever the head is then.
So the room is rendered as a stream:

- The image sources of each source depend only on the room and the source, so pyroomacoustics'
  image-source model runs once, at construction. What a pose changes is the path from each image to
  each mic: the impulse responses are rebuilt from the images for the new mic positions (delay and
  1/r per path, wall losses per reflection, RT60 by inverse Sabine as `SimulatedScene` has it), and
  only when the head has moved a few centimetres or turned a few degrees, which is finer than the
  bearing can resolve. The direct sound and early reflections, which carry the bearing, get exact
  windowed-sinc fractional delays; the tens of thousands of later paths that only make the diffuse
  tail are interpolated linearly, which keeps a rebuild near 10 ms where pyroomacoustics' own
  builder takes about 50 ms.
- Each chunk is convolved by overlap-save over the sources' last impulse-response length of samples,
  so the output depends only on the impulse responses and the source signals, never on how the stream
  was cut into chunks: a static scene read in 20 ms chunks equals the scene read in one piece.
- When the responses change, the chunk is convolved with both the old and the new ones and faded
  linearly from one to the other across it. Swapping them at a sample would step the signal, a click
  on every move; the fade is what a head moving through the sound field hears, as both responses
  apply the whole history of the sources, so the room's tail moves with the head too.

Levels are set at the source, not at the mics, so distance is heard: the direct sound 1 m from the
loudest source is `level_dbfs` (RMS), and the mic noise, fixed like a real mic's self-noise, is
`snr_db` below that. Sources loop their clips from `start_s` on, so a scene plays as long as it is
read; a clip whose ends meet (or a long one) loops without a seam.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import fft

from perception.acoustic_scene import HeadPose, PointSource, Room
from perception.microphones import MicArray


@dataclass(frozen=True)
class ListeningConfig:
    move_m: float = 0.02
    """The head must move this far, or turn `turn_deg`, before the impulse responses are rebuilt."""
    turn_deg: float = 2.0
    early_s: float = 0.05
    """Paths arriving within this of a mic's first get exact fractional delays; later ones linear ones."""
    sinc_taps: int = 33
    """Length of the windowed-sinc fractional delay (odd); every path is delayed by half of it, 1 ms."""
    speed_of_sound: float = 343.0


class ListeningRoom:
    """A shoebox room with fixed point sources and a listener whose pose is given at each read."""

    def __init__(self, array: MicArray, room: Room, sources: list[PointSource], snr_db: float = 20.0,
                 level_dbfs: float = -30.0, seed: int = 0, config: ListeningConfig = ListeningConfig()) -> None:
        import pyroomacoustics as pra

        if not sources:
            raise ValueError("a listening room needs at least one PointSource")
        if config.sinc_taps % 2 == 0:
            raise ValueError(f"sinc_taps must be odd, got {config.sinc_taps}")
        size = np.asarray(room.size_m, dtype=float)
        for source in sources:
            if not np.all((np.asarray(source.position) > 0) & (np.asarray(source.position) < size)):
                raise ValueError(f"source at {source.position} is outside the {room.size_m} m room")
        self.array, self.room, self.sources, self.config = array, room, sources, config
        fs, diagonal = array.sample_rate, float(np.linalg.norm(size))
        # The room has decayed 60 dB an RT60 after the latest direct sound: the responses stop there.
        self._length = round(room.rt60_s * fs + diagonal / config.speed_of_sound * fs) + config.sinc_taps

        absorption, max_order = pra.inverse_sabine(room.rt60_s, room.size_m)
        shoebox = pra.ShoeBox(room.size_m, fs=fs, materials=pra.Material(absorption), max_order=max_order)
        for source in sources:
            shoebox.add_source(source.position)
        shoebox.add_microphone(size / 2)
        shoebox.image_source_model()
        reach = self._length / fs * config.speed_of_sound + diagonal
        self._images: list[tuple[np.ndarray, np.ndarray]] = []
        for source, simulated in zip(sources, shoebox.sources):
            images = np.asarray(simulated.images, dtype=float).T
            near = np.linalg.norm(images - np.asarray(source.position), axis=1) < reach
            self._images.append((images[near], np.asarray(simulated.damping, dtype=float)[0, near]))

        loudest = max(float(np.sqrt(np.mean(np.square(s.signal, dtype=float)))) for s in sources)
        self._gain = 10 ** (level_dbfs / 20) / max(loudest, 1e-30)
        self._noise_std = 10 ** ((level_dbfs - snr_db) / 20)
        self._rng = np.random.default_rng(seed)
        self._at = 0
        self._pose: HeadPose | None = None
        self._responses = np.zeros((len(sources), array.channels, self._length))
        self._spectra: dict[int, np.ndarray] = {}

    @property
    def sample_rate(self) -> int:
        return self.array.sample_rate

    def read(self, n_samples: int, pose: HeadPose) -> np.ndarray:
        """The next `n_samples` at the mics, shape (channels, n_samples), full scale at 1.0, clipped.

        `pose` is where the head is by the end of these samples: a move since the last rebuild fades
        the chunk from the old impulse responses to those of `pose`.
        """
        history = self._source_samples(n_samples)
        n_fft = fft.next_fast_len(history.shape[1], real=True)
        spectra = fft.rfft(history, n_fft)
        if self._pose is None:
            self._rebuild(pose)
        clean = self._convolve(spectra, n_fft, n_samples)
        if self._moved(pose):
            self._rebuild(pose)
            clean += np.arange(1, n_samples + 1) / n_samples * (self._convolve(spectra, n_fft, n_samples) - clean)
        self._at += n_samples
        noise = self._rng.normal(0.0, self._noise_std, (n_samples, self.array.channels)).T
        return np.clip(clean + noise, -1.0, 1.0)

    def _source_samples(self, n_samples: int) -> np.ndarray:
        """Each source's samples over the last response length before this chunk and the chunk itself,
        shape (sources, length - 1 + n): the history that overlap-save convolves, zero before `start_s`."""
        times = np.arange(self._at - self._length + 1, self._at + n_samples)
        out = np.zeros((len(self.sources), len(times)))
        for row, source in zip(out, self.sources):
            since = times - round(source.start_s * self.sample_rate)
            playing = since >= 0
            row[playing] = self._gain * source.signal[since[playing] % len(source.signal)]
        return out

    def _convolve(self, spectra: np.ndarray, n_fft: int, n_samples: int) -> np.ndarray:
        if n_fft not in self._spectra:
            self._spectra[n_fft] = fft.rfft(self._responses, n_fft)
        mixed = np.einsum("sf,smf->mf", spectra, self._spectra[n_fft])
        return fft.irfft(mixed, n_fft)[:, self._length - 1:self._length - 1 + n_samples]

    def _moved(self, pose: HeadPose) -> bool:
        shift = np.linalg.norm(np.subtract(pose.position, self._pose.position))
        turn = abs((pose.yaw_deg - self._pose.yaw_deg + 180.0) % 360.0 - 180.0)
        return bool(shift > self.config.move_m or turn > self.config.turn_deg)

    def _rebuild(self, pose: HeadPose) -> None:
        mics = pose.to_world(self.array.xyz)
        if not np.all((mics > 0) & (mics < np.asarray(self.room.size_m))):
            raise ValueError(f"the head at {pose.position} puts microphones outside the {self.room.size_m} m room")
        self._responses = np.stack([_impulse_responses(images, damping, mics, self._length, self.sample_rate,
                                                       self.config) for images, damping in self._images])
        self._spectra.clear()
        self._pose = pose


def _impulse_responses(images: np.ndarray, damping: np.ndarray, mics: np.ndarray, length: int, sample_rate: int,
                       config: ListeningConfig) -> np.ndarray:
    """Impulse responses (mics, length) from image sources (n, 3) with wall losses (n,) to mics (m, 3):
    amplitude damping / distance, so the direct path 1 m away has gain 1."""
    half = config.sinc_taps // 2
    distance = np.linalg.norm(images[None, :, :] - mics[:, None, :], axis=-1)
    delay = distance * (sample_rate / config.speed_of_sound) + half
    amplitude = damping / distance
    offset = np.broadcast_to(np.arange(len(mics))[:, None] * length, delay.shape)
    kept = delay < length - half - 1
    early = kept & (delay <= delay.min(axis=1, keepdims=True) + config.early_s * sample_rate)
    late = kept & ~early
    out = np.zeros(len(mics) * length)

    whole = np.floor(delay[early]).astype(int)
    lag = np.arange(-half, half + 1)[None, :] - (delay[early] - whole)[:, None]
    taps = amplitude[early][:, None] * np.sinc(lag) * (0.5 + 0.5 * np.cos(np.pi * lag / (half + 1)))
    out += np.bincount(((offset[early] + whole)[:, None] + np.arange(-half, half + 1)).ravel(), taps.ravel(), len(out))

    whole = np.floor(delay[late]).astype(int)
    fraction = delay[late] - whole
    at = offset[late] + whole
    out += np.bincount(at, amplitude[late] * (1 - fraction), len(out))
    out += np.bincount(at + 1, amplitude[late] * fraction, len(out))
    return out.reshape(len(mics), length)
