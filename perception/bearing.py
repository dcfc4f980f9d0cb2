"""Where a sound comes from, in the head frame, so the robot can turn toward a speaker, on whatever
array the user declares.

A head array is only a few centimetres wide: inter-mic delays are a couple of samples at 16 kHz, and
in a room the reflections rival the direct path. Per frequency, the block's frames give a spatial
covariance whose principal direction is where one source's sound comes from, with the noise and the
room's diffuse sound, which steering the pairs' phases (SRP-PHAT) sums in, left to the other
directions. Each frequency votes for the directions whose steering vectors lie close to its
principal one, the votes scaled to the same peak at every frequency as in NormMUSIC, so no loud
band or room mode dominates. MUSIC's vote (1 / the distance to the noise subspace) is a needle at
each frequency's own best fit, and noise and early reflections scatter those needles; here the vote
falls off gently, so the frequencies pool their evidence and the estimate lies where most of them
fit, not on whichever needle is tallest. A principal direction fits all of a frequency's mics to
one plane wave, which an early reflection inside the frame bends as a whole; the mic pairs' phases,
each averaged on its own as SRP-PHAT does, are bent less where the sound is clear, so the fine
search pools a share of their steered sum with the votes. Not every frame deserves a say,
though: a chirp or a voice's harmonics leave most cells to noise, and the room keeps ringing at each
frequency after the sound there has moved on, with phases that point at the walls. So each
time-frequency cell enters the covariance weighed by its SNR over two floors: the noise, tracked per
frequency over the last second or two (not taken from the block at hand, where a broadband sound
fills every cell and would pass for noise), and the echo, what earlier frames at that frequency may
still be ringing with as the room decays; and each frequency by what its phase tells of a delay.
Between sounds only noise and echoes remain, and a bearing then would be a confident guess, so a
source detector (`perception.source_detector`) says "no source" instead. Single estimates still jump
to reflections now and then, so a tracker on the circle smooths them, rides through pauses and
rejects what disagrees with the track. Silence gives no bearing and clipping is flagged
(`perception.input_check` judges both), since a caller steering the head must know when to trust
the figure.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from perception.acoustic_scene import AudioSource
from perception.input_check import check_input
from perception.microphones import MicArray
from perception.source_detector import FEATURES, SourceDetector

Reason = Literal["no source", "silence", "clipped", "non-finite"]


@dataclass(frozen=True)
class BearingConfig:
    frame: int = 512
    """FFT length in samples (32 ms at 16 kHz); `block` is cut into frames `hop` apart."""
    hop: int = 128
    """Frames overlap by three quarters, so that an onset, where the direct sound leads the echoes, is
    caught near the start of some frame."""
    block: int = 3200
    """Samples behind one estimate (200 ms at 16 kHz)."""
    band_hz: tuple[float, float] = (200.0, 7500.0)
    """From where a phase across a few centimetres begins to tell directions apart to below where a
    device's anti-aliasing filter rolls off ahead of 8 kHz."""
    grid_deg: float = 1.0
    coarse_deg: float = 8.0
    """The steered response is taken every `coarse_deg` first, then on the grid around the best of those:
    a few-centimetre array's lobes are tens of degrees wide, and the gentle votes (`misfit_spread`)
    keep the sum smooth, so the coarse peak lies on the main lobe, and the search costs a fifth of the
    whole grid's. Both sums are einsums, which stay on the calling
    thread, where a BLAS call would wake a thread pool on the cores the control loop needs."""
    speed_of_sound: float = 343.0
    floor_blocks: int = 8
    """Blocks (1.6 s) over which a frequency's noise floor is the quietest block's: long enough to take in
    a pause between sounds, short enough to follow a fan starting."""
    floor_span_hz: float = 400.0
    """Frequencies across which the noise floor is the median: wider than two of a voice's harmonics,
    narrower than the slopes of a noise spectrum."""
    noise_margin: float = 1.5
    """A time-frequency cell counts only above this multiple of the noise floor, which noise alone
    rarely reaches, so faint sounds are not drowned by the many cells of noise around them."""
    room_rt60_s: float = 0.7
    """Reverberation time assumed of the room (a bare one rather than a furnished one): the echo floor
    decays 60 dB in it. Too long only discounts steady sound in favour of onsets; too short lets a
    long room's ringing, which points at the walls, pass for the source."""
    reverb_snr: float = 10.0
    """A cell's SNR counts for no more than this: early reflections, inside the same frame as the direct
    sound and so under no floor, then limit how well its phase points at the source."""
    delay_weight: float = 1.0
    """Weights grow as frequency to this power: a phase pins a delay down in proportion to frequency, and
    on a few-centimetre array the low bands, whose phases barely differ across directions, are the ones
    reflections and noise bend most. The first power, not the square by which a delay's Fisher
    information grows: on a regular array the high bands alias early, and the square hands them the
    decision. The growth stops where even
    the closest two mics are `unaliased_share` of half a wavelength apart: above it every pair's phase
    wraps, and more weight would go to directions that alias the source's."""
    unaliased_share: float = 0.7
    """Short of the half wavelength, since a noisy phase near +-180 degrees already wraps now and then."""
    misfit_spread: float = 0.5
    """Each bin votes for a direction by (least + spread) / (misfit + spread), its misfit to the steering
    vector over the least it reaches. MUSIC's 1 / misfit (spread 0) lets a bin that happens to fit some
    direction almost exactly, as noise and early reflections make bins do, outvote the rest with a
    needle-sharp peak; spread over the whole range of misfits (0 to 1) makes the vote nearly the bin's
    fit itself, so the bins' evidence pools as least squares pools it, while a bin still counts less
    the further its best misses."""
    phase_share: float = 0.3
    """The weight, beside each frequency's vote (1 at its best), of its steered pairs' phases (SRP-PHAT on
    the same weighted covariance, 1 where every pair agrees) in a last search within half a coarse step
    of the votes' peak: enough to pull the peak toward where the pairs point, too little to pull it off
    the votes' lobe, since the phases of a compact array's pairs are what noise and the room's diffuse
    sound bend most."""
    power_iterations: int = 4
    """Power iterations for each bin's principal direction: the weighted covariance is near rank one where
    a source sounds, so a few suffice."""
    evidence_cells: float = 30.0
    """Independent cells above the noise floor at which the confidence is halved."""


@dataclass(frozen=True)
class Bearing:
    azimuth_deg: float | None
    """In the array's frame: 0 ahead (+x), positive to the left (+y), in (-180, 180]; None if no estimate."""
    confidence: float
    """The weighted share of frequencies whose MUSIC peak lies at the estimate (1 when all agree), discounted
    when few time-frequency cells rise above the noise floor."""
    reason: Reason | None = None
    """Why the estimate is degraded or missing; None when clean. "no source": the block holds only noise
    and the room's echoes (`perception.source_detector`), so there is nothing to point at."""

    @property
    def degraded(self) -> bool:
        """The input itself is at fault (not merely without a source)."""
        return self.reason not in (None, "no source")


class BearingEstimator:
    """Weighted, regularized NormMUSIC over a grid of azimuths, with far-field delays in the horizontal plane,
    a share of SRP-PHAT pooled into the last search.

    It remembers the noise and echo floors of the blocks it was given, so one estimator follows one
    stream, block after consecutive block.
    """

    def __init__(self, array: MicArray, config: BearingConfig = BearingConfig(),
                 detector: SourceDetector | Literal["shipped"] | None = "shipped") -> None:
        """`detector`: the shipped source detector by default; None gives a bearing for every usable block."""
        array.check_resolves_bearing()
        self.array, self.config = array, config
        self.detector = SourceDetector.load() if detector == "shipped" else detector
        self.features = np.zeros(len(FEATURES))
        """The last block's statistics for the source detector."""
        self.azimuths = np.arange(-180.0 + config.grid_deg, 180.0 + config.grid_deg / 2, config.grid_deg)
        frequencies = np.fft.rfftfreq(config.frame, 1.0 / array.sample_rate)
        self._bins = np.flatnonzero((frequencies >= config.band_hz[0]) & (frequencies <= config.band_hz[1]))
        directions = np.radians(self.azimuths)
        look = np.stack([np.cos(directions), np.sin(directions), np.zeros_like(directions)], axis=1)
        lead_s = look @ array.xyz.T / config.speed_of_sound
        phase = 2 * np.pi * frequencies[self._bins][None, :, None] * lead_s[:, None, :]
        self._steer = (np.exp(-1j * phase) / np.sqrt(array.channels)).astype(np.complex64)
        """Conjugate unit steering vectors, (directions, bins, mics): a plane wave from a direction reaches a
        mic earlier by the projection of its position on that direction."""
        self._stride = max(1, round(config.coarse_deg / config.grid_deg))
        self._coarse_steer = np.ascontiguousarray(self._steer[::self._stride])
        self._window = np.hanning(config.frame)
        self._floors: deque[np.ndarray] = deque(maxlen=config.floor_blocks)
        self._floor_reach = round(config.floor_span_hz / 2 / (frequencies[1] - frequencies[0]))
        self._decay_per_sample = 10 ** (-6.0 / (config.room_rt60_s * array.sample_rate))
        self._echo = np.zeros(len(self._bins))
        spacing = np.linalg.norm(array.xyz[:, None] - array.xyz[None], axis=-1)
        unaliased_hz = config.speed_of_sound / (2 * np.min(spacing[np.triu_indices(array.channels, 1)]))
        self._delay_weight = (np.minimum(frequencies[self._bins], config.unaliased_share * unaliased_hz)
                              / 1000.0) ** config.delay_weight

    def estimate(self, block: np.ndarray) -> Bearing:
        """One bearing from samples shaped (channels, n), n >= frame, floats with full scale at 1.0."""
        x = np.asarray(block, dtype=float)
        if x.ndim != 2 or len(x) != self.array.channels:
            raise ValueError(f"expected {self.array.channels} channels in rows, shape ({self.array.channels}, n), "
                             f"one per mic of the array; got shape {x.shape}")
        if x.shape[1] < self.config.frame:
            raise ValueError(f"a bearing needs at least {self.config.frame} samples per channel, got {x.shape[1]}")
        check = check_input(x)
        if not check.finite:
            return Bearing(None, 0.0, "non-finite")
        if check.silent:
            return Bearing(None, 0.0, "silence")
        frames = np.lib.stride_tricks.sliding_window_view(x, self.config.frame, axis=1)[:, ::self.config.hop]
        spectra = np.fft.rfft(frames * self._window, axis=-1)[..., self._bins]
        power = np.mean(np.abs(spectra) ** 2, axis=0)
        noise = self._noise_floor(power)
        weight = self._weigh(power, noise, x.shape[1])
        total = max(float(weight.sum()), 1e-30)
        covariance = _covariance(spectra, weight)
        principal = self._principal_directions(covariance)
        per_bin = np.maximum(weight.sum(axis=0), 1e-30) / total
        misfit = _misfit(self._coarse_steer, principal)
        least = misfit.min(axis=0)
        near = (self._stride * int(np.argmax(self._vote(misfit, least) @ per_bin))
                + np.arange(-self._stride - 1, self._stride + 2)) % len(self.azimuths)
        near = (near[np.argmax(self._vote(_misfit(self._steer[near], principal), least) @ per_bin)]
                + np.arange(-(self._stride // 2), self._stride // 2 + 1)) % len(self.azimuths)
        steer = self._steer[near]
        misfit_near = _misfit(steer, principal)
        fine = (self._vote(misfit_near, least) + self.config.phase_share * _phases(steer, covariance)) @ per_bin
        peak = int(np.argmax(fine))
        agreement = float(_sharp_vote(misfit_near[peak], least) @ per_bin)
        cells = total**2 / max(float(np.sum(weight**2)), 1e-30)
        self.features = block_features(power, noise, agreement, float(np.mean(_sharp_vote(misfit, least) @ per_bin)),
                                       cells)
        if self.detector is not None and self.detector.probability(self.features) < self.detector.threshold:
            return Bearing(None, 0.0, "no source")
        confidence = float(np.clip(agreement, 0.0, 1.0)) * cells / (cells + self.config.evidence_cells)
        return Bearing(self._refine(fine, peak, float(self.azimuths[near[peak]])), confidence,
                       "clipped" if check.clipped else None)

    def _principal_directions(self, covariance: np.ndarray) -> np.ndarray:
        """Per bin, the principal eigenvector (bins, mics) of `_covariance`, by power iteration from the
        loudest mic's column, as only the one source's direction is wanted."""
        vector = covariance[np.arange(len(covariance)), :, np.argmax(covariance.diagonal(axis1=1, axis2=2).real, axis=1)]
        for _ in range(self.config.power_iterations):
            vector = np.einsum("kij,kj->ki", covariance, vector)
            vector /= np.maximum(np.linalg.norm(vector, axis=1, keepdims=True), 1e-30)
        return vector

    def _vote(self, misfit: np.ndarray, least: np.ndarray) -> np.ndarray:
        """Each bin's vote (directions, bins) for each direction, 1 at its best (`least`: each bin's smallest
        misfit, from the coarse pass) and less the further its steering vector misses the principal one."""
        spread = self.config.misfit_spread
        return (least + spread) / (misfit + spread)

    def _refine(self, response: np.ndarray, peak: int, azimuth: float) -> float:
        """The peak's azimuth between grid points, from the parabola through it and its neighbours."""
        if not 0 < peak < len(response) - 1:
            return azimuth
        left, centre, right = response[peak - 1], response[peak], response[peak + 1]
        curvature = left - 2 * centre + right
        shift = 0.5 * (left - right) / curvature if curvature < 0 else 0.0
        return _wrap(azimuth + float(np.clip(shift, -0.5, 0.5)) * self.config.grid_deg)

    def _weigh(self, power: np.ndarray, noise: np.ndarray, samples: int) -> np.ndarray:
        """Per frame and bin of a block's power, the weight its phase deserves.

        The weight is the maximum-likelihood one of generalised cross-correlation, g²/(1 - g²) for a
        coherence g = s/(1 + s) at an SNR s, which is s²/(1 + 2s): near 0 at the floors, growing with s,
        and held at `reverb_snr` by taking s as the harmonic combination of the SNR over the floors and
        `reverb_snr`; then scaled by frequency to `delay_weight`.
        """
        noise = self.config.noise_margin * noise
        floor = noise + self._echo_floor(np.maximum(power - noise, 0.0), samples)
        snr = np.maximum(power / np.maximum(floor, 1e-30) - 1.0, 0.0)
        snr = snr * self.config.reverb_snr / (snr + self.config.reverb_snr)
        return self._delay_weight * snr**2 / (1.0 + 2.0 * snr)

    def _noise_floor(self, power: np.ndarray) -> np.ndarray:
        """Per bin, the median power over a block's frames, as the mean of an exponential (noise)
        distribution, at its lowest over the last `floor_blocks` blocks, this one included; then the
        median of that over `floor_span_hz`, since a held note or a voice's harmonics may not pause
        within those blocks, but leave the frequencies between them to the noise."""
        self._floors.append(np.median(power, axis=0) / np.log(2))
        reach = self._floor_reach
        spans = np.lib.stride_tricks.sliding_window_view(np.pad(np.min(self._floors, axis=0), reach, mode="edge"),
                                                         2 * reach + 1)
        return np.partition(spans, reach, axis=-1)[:, reach]

    def _echo_floor(self, excess: np.ndarray, samples: int) -> np.ndarray:
        """Per frame and bin, the loudest earlier power above the noise decayed at `room_rt60_s` since:
        what the room may still ring with. It carries on into the next block, `samples` later."""
        hop_decay = self._decay_per_sample**self.config.hop
        echo = np.empty_like(excess)
        ringing = self._echo
        for t, frame in enumerate(excess):
            echo[t] = ringing
            ringing = hop_decay * np.maximum(ringing, frame)
        lag = samples - (len(excess) - 1) * self.config.hop
        self._echo = self._decay_per_sample**lag * np.maximum(echo[-1], excess[-1])
        return echo

    def estimates(self, source: AudioSource) -> Iterator[Bearing]:
        """A bearing per `block` of the source until it runs out (a short last block is dropped)."""
        while (block := source.read(self.config.block)).shape[1] >= self.config.block:
            yield self.estimate(block)


@dataclass(frozen=True)
class TrackerConfig:
    measurement_std_deg: float = 8.0
    acceleration_std_deg_s2: float = 30.0
    """How fast the bearing's rate may change: the head turning, a speaker walking past."""
    min_confidence: float = 0.1
    """Estimates below this (diffuse noise, reverberant tails) are treated as missing."""
    gate_sigmas: float = 3.0
    """Estimates further than this from the prediction are outliers (reflections)."""
    jump_after: int = 3
    """Consecutive outliers, each near the last, after which the track restarts there (the source moved)."""
    lost_after_s: float = 2.0


@dataclass(frozen=True)
class Track:
    azimuth_deg: float
    rate_deg_s: float
    std_deg: float


class BearingTracker:
    """A constant-rate Kalman filter on the unwrapped azimuth, with innovations wrapped to +-180 degrees."""

    def __init__(self, config: TrackerConfig = TrackerConfig()) -> None:
        self.config = config
        self._x: np.ndarray | None = None
        self._p = np.zeros((2, 2))
        self._outliers: list[float] = []
        self._since_update = 0.0

    def update(self, bearing: Bearing | None, dt: float) -> Track | None:
        """Advance by `dt` seconds and fold in `bearing` (None or no azimuth: a missing frame)."""
        usable = (bearing is not None and bearing.azimuth_deg is not None
                  and bearing.confidence >= self.config.min_confidence)
        if self._x is None:
            if usable:
                self._start(bearing.azimuth_deg)
            return self.track
        self._predict(dt)
        self._since_update += dt
        if usable:
            self._correct(bearing.azimuth_deg)
        if self._since_update > self.config.lost_after_s:
            self._x = None
        return self.track

    @property
    def track(self) -> Track | None:
        if self._x is None:
            return None
        return Track(_wrap(float(self._x[0])), float(self._x[1]), float(np.sqrt(self._p[0, 0])))

    def _start(self, azimuth: float) -> None:
        self._x = np.array([azimuth, 0.0])
        self._p = np.diag([self.config.measurement_std_deg**2, 30.0**2])
        self._outliers, self._since_update = [], 0.0

    def _predict(self, dt: float) -> None:
        f = np.array([[1.0, dt], [0.0, 1.0]])
        q = self.config.acceleration_std_deg_s2**2 * np.array([[dt**4 / 4, dt**3 / 2], [dt**3 / 2, dt**2]])
        self._x = f @ self._x
        self._p = f @ self._p @ f.T + q

    def _correct(self, azimuth: float) -> None:
        innovation = _wrap(azimuth - self._x[0])
        spread = self._p[0, 0] + self.config.measurement_std_deg**2
        if abs(innovation) > self.config.gate_sigmas * np.sqrt(spread):
            self._count_outlier(azimuth)
            return
        gain = self._p[:, 0] / spread
        self._x = self._x + gain * innovation
        self._p = self._p - np.outer(gain, self._p[0])
        self._outliers, self._since_update = [], 0.0

    def _count_outlier(self, azimuth: float) -> None:
        """Restart at `azimuth` once `jump_after` outliers in a row agree with each other."""
        near = self.config.gate_sigmas * self.config.measurement_std_deg
        if self._outliers and abs(_wrap(azimuth - self._outliers[-1])) > near:
            self._outliers = []
        self._outliers.append(azimuth)
        if len(self._outliers) >= self.config.jump_after:
            self._start(azimuth)


def _covariance(spectra: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Per bin, the covariance (bins, mics, mics) of the block's frames, each frame's mic vector scaled to
    unit length (its phases and level differences, not its loudness) and weighed as `_weigh` says. In
    single precision, which phases a few degrees apart need no more than, and which makes the steered
    sums after it cheaper."""
    unit = spectra.transpose(2, 0, 1)
    unit = (unit / np.maximum(np.sqrt(np.sum(unit.real**2 + unit.imag**2, axis=1, keepdims=True)), 1e-30)
            ).astype(np.complex64)
    return (unit * weight.T[:, None, :].astype(np.float32)) @ unit.conj().transpose(0, 2, 1)


def _phases(steer: np.ndarray, covariance: np.ndarray) -> np.ndarray:
    """Per direction and bin, SRP-PHAT's steered response a^H (C / |C|) a / mics, each mic pair's averaged
    phase taken alone: 1 where every pair's phase points at the direction. Mic by mic, as an einsum of
    three operands runs as one slow loop."""
    phat = covariance * (1.0 / np.maximum(np.abs(covariance), 1e-30))
    steered = sum(steer[:, :, m, None] * phat[:, m] for m in range(steer.shape[-1]))
    return np.einsum("dkn,dkn->dk", steered, steer.conj()).real / steer.shape[-1]


def _misfit(steer: np.ndarray, principal: np.ndarray) -> np.ndarray:
    """Per direction and bin, 1 - |a^H v|^2: the principal direction's power outside the steering vector,
    i.e. its distance to MUSIC's noise subspace."""
    fit = np.einsum("dkm,km->dk", steer, principal)
    return 1.0 - (fit.real**2 + fit.imag**2)


def _sharp_vote(misfit: np.ndarray, least: np.ndarray) -> np.ndarray:
    """NormMUSIC's vote, 1/misfit scaled to 1 at each bin's best: near 1 only where a bin's principal
    direction truly lies on that steering vector, so summed over the bins it says how many agree."""
    return np.maximum(least, 1e-6) / np.maximum(misfit, 1e-6)


def _wrap(degrees: float) -> float:
    """The same angle in (-180, 180]."""
    wrapped = (degrees + 180.0) % 360.0 - 180.0
    return 180.0 if wrapped == -180.0 else wrapped


def block_features(power: np.ndarray, noise: np.ndarray, peak: float, mean: float, cells: float) -> np.ndarray:
    """The statistics `perception.source_detector` reads, in the order of its FEATURES."""
    floor = max(float(noise.sum()), 1e-30)
    level = 10 * np.log10(np.maximum(power.sum(axis=1) - floor, 0.1 * floor) / floor)
    t = np.arange(len(level)) - (len(level) - 1) / 2
    decay = float(np.dot(t, level) / np.dot(t, t)) * (len(level) - 1)
    late = max(1, len(power) // 3)
    return np.array([np.log10(1.0 + cells), peak, peak - mean,
                     10 * np.log10(max(float(power.mean()), 1e-30) / (floor / len(noise))), decay,
                     float(np.max(np.diff(level), initial=0.0)),
                     10 * np.log10(max(float(power[-late:].mean()), 1e-30) / (floor / len(noise)))])
