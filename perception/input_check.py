"""Whether microphone samples can be used at all, judged from the samples themselves.

A log-mel cannot tell a dead microphone from a quiet room, nor a clipped one from a loud sound, and
a bearing from either is noise, so every consumer asks this one check, with one threshold each.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SILENCE_DBFS = -60.0
"""Below this mean-square level (0 dB: a full-scale square wave) input is silence: a muted or
disconnected microphone, or a room too quiet to hear anything in."""
CLIP_LEVEL = 0.99
"""Samples at or above this magnitude are at the rails (-0.09 dBFS, so a converter or driver that
limits just short of full scale counts too)."""
CLIP_RUN = 3
"""Samples in a row at the rails, all of one magnitude, that make clipping: no sine, however close to
full scale it peaks, holds three, while a clipped one holds a flat top, or for a hiss swings from rail
to rail."""


@dataclass(frozen=True)
class InputCheck:
    rms_dbfs: float
    clipped_fraction: float
    """Share of samples in runs of `CLIP_RUN` or more at the rails."""
    silent: bool
    clipped: bool
    finite: bool
    """False when any sample is NaN or infinite: a broken driver, not a sound."""


def check_input(audio: np.ndarray) -> InputCheck:
    """Samples shaped (n,) or (channels, n), floats with full scale at 1.0 or signed integer PCM; runs are
    counted along each channel, the level over all of them."""
    x = np.asarray(audio)
    if np.issubdtype(x.dtype, np.signedinteger):
        x = x / -float(np.iinfo(x.dtype).min)
    magnitude = np.abs(x, dtype=np.float64)
    peak = float(magnitude.max()) if x.size else 0.0
    finite = bool(np.isfinite(peak))
    rms_dbfs = 10 * np.log10(max(float(np.mean(magnitude**2)) if x.size and finite else 0.0, 1e-20))
    fraction = 0.0
    if peak >= CLIP_LEVEL and finite and x.shape[-1] >= CLIP_RUN:
        flat = (magnitude[..., 1:] >= CLIP_LEVEL) & (magnitude[..., 1:] == magnitude[..., :-1])
        runs = np.logical_and.reduce([flat[..., k:flat.shape[-1] - CLIP_RUN + 2 + k] for k in range(CLIP_RUN - 1)])
        clipped = np.zeros(x.shape, dtype=bool)
        for shift in range(CLIP_RUN):
            clipped[..., shift:shift + runs.shape[-1]] |= runs
        fraction = float(clipped.mean())
    return InputCheck(rms_dbfs=float(rms_dbfs), clipped_fraction=fraction,
                      silent=bool(finite and rms_dbfs < SILENCE_DBFS), clipped=fraction > 0.0, finite=finite)
