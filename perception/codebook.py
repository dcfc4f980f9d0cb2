"""A learned codebook that turns a log-mel spectrogram into discrete audio tokens and back.

The token is a full-band slice of F consecutive frames (all 128 mel bands, F = 4 by default: 40 ms),
not a 16x16 patch. Both views of a spectrogram are kept: the spectrogram's 16x16 time-frequency
patches are its patch view (`spectrogram.time_frequency_patches`, the same layout vision uses), and
the codebook quantises 2-8 frames per token. A 16x16 patch as the token would span 16 frames (160 ms,
outside 2-8, and too coarse for onsets such as clicks and footsteps), and 16-band x F-frame tokens
would multiply the token rate by eight and split one sound into eight unrelated codes; a full-band
slice keeps one token stream at frames/F tokens, in time order, as a sequence model wants it.

Entries are fitted by k-means (Lloyd's iterations on torch, seeded): the training set is at most
32k slices of 512 values, which fits in memory, so whole-batch iterations are simpler than
mini-batches and all but settle within the default 20. Every F-frame window, at every frame offset,
is a training slice, so the entries do not depend on where a token boundary happens to fall.
Clusters left empty are re-seeded with the slices worst served so far, so no entry is wasted.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from perception.spectrogram import LogMelConfig, log_mel

SHIPPED_CODEBOOK = Path(__file__).parent / "assets" / "audio_codebook.npz"
"""The codebook the perception node tokenizes with, so token ids mean the same on every machine
(k-means in floating point is not bit-identical across CPUs); `fit_shipped` rebuilds it."""
SHIPPED_TRAIN_SEEDS = range(150)
"""Synthetic clips (6 s each) the shipped codebook is fitted on; held-out checks use seeds from 10,000."""


@dataclass(frozen=True)
class CodebookConfig:
    entries: int = 1024
    frames_per_token: int = 4
    iterations: int = 20
    max_slices: int = 32_768
    """Training slices drawn (seeded) when the audio holds more; bounds the fitting time."""
    seed: int = 0

    def __post_init__(self) -> None:
        if not 2 <= self.frames_per_token <= 8:
            raise ValueError(f"frames_per_token must be 2..8 (a token of 20-80 ms), got {self.frames_per_token}")


@dataclass(frozen=True)
class ReconstructionError:
    rmse_db: float
    relative: float
    """Mean squared error over the variance of the spectrogram: 0 is perfect, 1 is no better than its mean value."""


class AudioCodebook:
    def __init__(self, entries: np.ndarray, frames_per_token: int, logmel: LogMelConfig | None = None) -> None:
        logmel = logmel or LogMelConfig()
        if entries.shape[1:] != (frames_per_token * logmel.n_mels,):
            raise ValueError(f"entries of shape {entries.shape} are not {frames_per_token} frames of "
                             f"{logmel.n_mels} mel bands")
        self.entries = np.ascontiguousarray(entries, dtype=np.float32)
        self.frames_per_token = frames_per_token
        self.logmel = logmel
        entries_t = torch.from_numpy(self.entries)
        self._offset = entries_t.mean(0)
        self._centred = entries_t - self._offset
        self._norms = self._centred.square().sum(1)

    @classmethod
    def fit(cls, logmels: Sequence[np.ndarray], config: CodebookConfig = CodebookConfig(),
            logmel: LogMelConfig | None = None) -> AudioCodebook:
        """Fit on spectrograms (frames, n_mels) from `log_mel` with `logmel`."""
        generator = torch.Generator().manual_seed(config.seed)
        x = _training_slices(logmels, config, generator)
        return cls(_kmeans(x, config.entries, config.iterations, generator).numpy(), config.frames_per_token, logmel)

    @property
    def tokens_per_second(self) -> float:
        return self.logmel.frames_per_second / self.frames_per_token

    def encode(self, logmel: np.ndarray) -> np.ndarray:
        """(frames, n_mels) -> (frames // F,) int64 token ids; trailing frames short of a token are left out."""
        if logmel.shape[-1] != self.logmel.n_mels:
            raise ValueError(f"a spectrogram of {logmel.shape[-1]} mel bands, the codebook's are {self.logmel.n_mels}")
        tokens = len(logmel) // self.frames_per_token
        slices = torch.as_tensor(np.ascontiguousarray(logmel[:tokens * self.frames_per_token])).reshape(tokens, -1)
        ids, _ = _nearest(slices.float() - self._offset, self._centred, self._norms)
        return ids.numpy()

    def encode_audio(self, audio: np.ndarray) -> np.ndarray:
        return self.encode(log_mel(audio, self.logmel))

    def decode(self, ids: np.ndarray) -> np.ndarray:
        """(tokens,) ids -> (tokens * F, n_mels) log-mel in dB."""
        return self.entries[np.asarray(ids)].reshape(-1, self.logmel.n_mels)

    def reconstruction_error(self, logmel: np.ndarray) -> ReconstructionError:
        decoded = self.decode(self.encode(logmel))
        original = logmel[:len(decoded)].astype(np.float64)
        mse = float(np.mean((decoded - original) ** 2))
        return ReconstructionError(rmse_db=mse**0.5, relative=mse / max(float(original.var()), 1e-12))

    def save(self, path: str | Path) -> Path:
        path = Path(path).with_suffix(".npz")
        np.savez(path, entries=self.entries, frames_per_token=self.frames_per_token,
                 logmel=json.dumps(asdict(self.logmel)))
        return path

    @classmethod
    def load(cls, path: str | Path) -> AudioCodebook:
        with np.load(path) as data:
            return cls(data["entries"], int(data["frames_per_token"]), LogMelConfig(**json.loads(str(data["logmel"]))))


def fit_shipped(path: Path = SHIPPED_CODEBOOK, config: CodebookConfig = CodebookConfig()) -> AudioCodebook:
    """Fit the shipped codebook on seeded synthetic audio and write it to `path`."""
    from perception.synthetic_audio import synthetic_corpus

    codebook = AudioCodebook.fit([log_mel(a) for a in synthetic_corpus(SHIPPED_TRAIN_SEEDS, 6.0)], config)
    path.parent.mkdir(parents=True, exist_ok=True)
    codebook.save(path)
    return codebook


def _training_slices(logmels: Sequence[np.ndarray], config: CodebookConfig,
                     generator: torch.Generator) -> torch.Tensor:
    """Every F-frame window of every spectrogram (views until drawn), at most `max_slices` of them."""
    f = config.frames_per_token
    windows = [np.lib.stride_tricks.sliding_window_view(m, f, axis=0) for m in logmels if len(m) >= f]
    starts = np.cumsum([0] + [len(w) for w in windows])
    if starts[-1] < config.entries:
        raise ValueError(f"{starts[-1]} training slices cannot fit {config.entries} entries: give more audio")
    drawn = np.sort(torch.randperm(int(starts[-1]), generator=generator)[:config.max_slices].numpy())
    clip = np.searchsorted(starts, drawn, side="right") - 1
    slices = np.concatenate([w[drawn[clip == i] - starts[i]] for i, w in enumerate(windows)])
    return torch.from_numpy(slices.swapaxes(1, 2).reshape(len(slices), -1)).float()


def _nearest(x: torch.Tensor, centres: torch.Tensor, norms: torch.Tensor,
             chunk: int = 8192) -> tuple[torch.Tensor, torch.Tensor]:
    """Index of each row's nearest centre and the squared distance to it, in chunks to bound memory."""
    ids, distances = [], []
    for rows in x.split(chunk):
        d = norms - 2 * rows @ centres.T
        best, index = d.min(1)
        ids.append(index)
        distances.append((best + rows.square().sum(1)).clamp_min(0))
    return torch.cat(ids), torch.cat(distances)


def _kmeans(x: torch.Tensor, k: int, iterations: int, generator: torch.Generator) -> torch.Tensor:
    mean = x.mean(0)
    x = x - mean
    centres = x[torch.randperm(len(x), generator=generator)[:k]].clone()
    ids = None
    for _ in range(iterations):
        new_ids, distances = _nearest(x, centres, centres.square().sum(1))
        if ids is not None and torch.equal(new_ids, ids):
            break
        ids = new_ids
        counts = torch.bincount(ids, minlength=k)
        sums = torch.zeros_like(centres).index_add_(0, ids, x)
        centres = torch.where(counts[:, None] > 0, sums / counts.clamp_min(1)[:, None], centres)
        empty = torch.nonzero(counts == 0).squeeze(1)
        if len(empty):
            centres[empty] = x[distances.topk(len(empty)).indices]
    return centres + mean
