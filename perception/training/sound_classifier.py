"""Training and judging the sound classifier on synthesized scenes: each class's sounds played in
random rooms, heard by one microphone with its own noise, and tokenized by the shipped codebook.

The rooms (pyroomacoustics' image sources, RT60 0.2-0.8 s, the source 1-4 m away) and the sounds of
training and judging come from disjoint seeds, so held-out accuracy is on rooms and sounds never seen.
A sound is 5-30 dB above the microphone's noise, itself at -70 to -55 dBFS; quiet is that noise with
the room's faint hum 10 dB below to 3 dB above it. Training takes random one-second windows of the
token streams, judging every whole window of each held-out clip.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy.signal import fftconvolve

from perception.codebook import AudioCodebook
from perception.sound_classes import SOUND_CLASSES, sound_of
from perception.sound_classifier import SoundClassifier, SoundClassifierConfig

TRAIN_SEED = 0
HELD_OUT_SEED = 100_000
"""Held-out rooms and sounds draw seeds from here on; training ones stay below it."""


@dataclass(frozen=True)
class SoundTrainConfig:
    clips_per_class: int = 160
    clip_seconds: float = 4.0
    rooms: int = 24
    steps: int = 1500
    batch: int = 64
    lr: float = 3e-3
    seed: int = TRAIN_SEED


@dataclass(frozen=True)
class SoundScenes:
    tokens: np.ndarray
    """(clips, tokens per clip) codebook ids."""
    labels: np.ndarray
    """(clips,) index into the classes."""


def room_responses(count: int, seed: int, sample_rate: int = 16_000) -> list[np.ndarray]:
    """Impulse responses of `count` random shoebox rooms, one mic 0.9-1.7 m up, the source 1-4 m away."""
    import pyroomacoustics as pra

    rng = np.random.default_rng(seed)
    responses = []
    while len(responses) < count:
        size = np.array([rng.uniform(3.5, 9.0), rng.uniform(3.0, 7.0), rng.uniform(2.4, 3.5)])
        mic = np.array([rng.uniform(0.5, size[0] - 0.5), rng.uniform(0.5, size[1] - 0.5), rng.uniform(0.9, 1.7)])
        angle, distance = rng.uniform(-np.pi, np.pi), rng.uniform(1.0, 4.0)
        source = np.array([mic[0] + distance * np.cos(angle), mic[1] + distance * np.sin(angle), rng.uniform(0.2, 2.0)])
        if not np.all((source > 0.2) & (source < size - 0.2)):
            continue
        absorption, max_order = pra.inverse_sabine(rng.uniform(0.2, 0.8), size)
        room = pra.ShoeBox(size, fs=sample_rate, materials=pra.Material(absorption), max_order=max_order)
        room.add_source(source)
        room.add_microphone(mic)
        room.compute_rir()
        responses.append(np.asarray(room.rir[0][0]))
    return responses


def scene_audio(name: str, seed: int, seconds: float, response: np.ndarray, sample_rate: int = 16_000) -> np.ndarray:
    """One class's sound played in a room and heard by a noisy microphone, as the levels above say."""
    rng = np.random.default_rng(seed)
    noise_dbfs = rng.uniform(-70, -55)
    n = round(seconds * sample_rate)
    heard = fftconvolve(sound_of(name, seed, seconds, sample_rate), response)[:n]
    level = noise_dbfs + (rng.uniform(-10, 3) if name == "quiet" else rng.uniform(5, 30))
    heard *= 10 ** (level / 20) / (np.sqrt(np.mean(heard**2)) + 1e-30)
    return (heard + rng.normal(0.0, 10 ** (noise_dbfs / 20), n)).astype(np.float32)


def synthesize_scenes(codebook: AudioCodebook, clips_per_class: int, seed: int, rooms: int,
                      seconds: float = 4.0, progress: Callable[[int, int], None] | None = None) -> SoundScenes:
    """`clips_per_class` scenes of each class, in `rooms` rooms drawn from `seed`, as codebook tokens."""
    responses = room_responses(rooms, seed, codebook.logmel.sample_rate)
    tokens, labels = [], []
    total = clips_per_class * len(SOUND_CLASSES)
    for k in range(total):
        label = k % len(SOUND_CLASSES)
        audio = scene_audio(SOUND_CLASSES[label], seed + k, seconds, responses[k % rooms], codebook.logmel.sample_rate)
        tokens.append(codebook.encode_audio(audio))
        labels.append(label)
        if progress is not None:
            progress(k + 1, total)
    return SoundScenes(np.stack(tokens), np.array(labels))


def train_classifier(scenes: SoundScenes, config: SoundTrainConfig = SoundTrainConfig(),
                     model_config: SoundClassifierConfig = SoundClassifierConfig(),
                     progress: Callable[[int, int, float], None] | None = None) -> SoundClassifier:
    """AdamW on random windows of the clips, the learning rate decaying to zero along a cosine."""
    torch.manual_seed(config.seed)
    generator = np.random.default_rng(config.seed)
    model = SoundClassifier(model_config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, config.steps)
    tokens, labels = torch.as_tensor(scenes.tokens, dtype=torch.int64), torch.as_tensor(scenes.labels)
    window = model_config.window
    for step in range(config.steps):
        clips = generator.integers(0, len(tokens), config.batch)
        starts = generator.integers(0, tokens.shape[1] - window + 1, config.batch)
        batch = torch.stack([tokens[c, s:s + window] for c, s in zip(clips, starts)])
        loss = F.cross_entropy(model(batch), labels[clips])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        if progress is not None:
            progress(step + 1, config.steps, float(loss))
    return model.eval()


@dataclass(frozen=True)
class SoundEvaluation:
    accuracy: float
    confusion: np.ndarray
    """(true, predicted) window counts, in the order of the classes."""
    windows: int


@torch.no_grad()
def evaluate_classifier(model: SoundClassifier, scenes: SoundScenes) -> SoundEvaluation:
    """Every whole, non-overlapping window of every clip, judged against its clip's class."""
    window = model.config.window
    count = scenes.tokens.shape[1] // window
    batch = torch.as_tensor(scenes.tokens[:, :count * window].reshape(-1, window), dtype=torch.int64)
    truth = np.repeat(scenes.labels, count)
    predicted = model(batch).argmax(1).numpy()
    confusion = np.zeros((len(model.config.classes),) * 2, dtype=int)
    np.add.at(confusion, (truth, predicted), 1)
    return SoundEvaluation(float(np.mean(predicted == truth)), confusion, len(truth))
