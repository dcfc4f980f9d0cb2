"""What is sounding, read from the audio codebook's tokens: the classes of `perception.sound_classes`.

A token already says what a 40 ms slice of the spectrum looks like, so the classifier learns an
embedding per token and reads a second of them (25 tokens) with one small convolution over time,
which sees what a bag of tokens cannot: a beep's on and off, a syllable's rise and fall, a knock's
ring. Mean and max over time then make the answer independent of where in the window the sound
falls. It is small enough (38 k weights) to run on every update of the perception node.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from perception.sound_classes import SOUND_CLASSES

SHIPPED_SOUND_CLASSIFIER = Path(__file__).parent / "assets" / "sound_classifier.pt"
"""Written by `bessemer audio train`; fitted on seeded synthetic scenes."""


@dataclass(frozen=True)
class SoundClassifierConfig:
    entries: int = 1024
    """Codebook entries: the token ids it reads."""
    window: int = 25
    """Tokens in one decision: a second at 25 tokens/s."""
    width: int = 32
    classes: tuple[str, ...] = SOUND_CLASSES


@dataclass(frozen=True)
class SoundClass:
    name: str
    probability: float


class SoundClassifier(nn.Module):
    def __init__(self, config: SoundClassifierConfig = SoundClassifierConfig()) -> None:
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.entries, config.width)
        self.conv = nn.Conv1d(config.width, config.width, kernel_size=5, padding=2)
        self.head = nn.Linear(2 * config.width, len(config.classes))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """(batch, window) token ids -> (batch, classes) logits."""
        x = self.embed(tokens).transpose(1, 2)
        x = torch.relu(self.conv(x)) + x
        return self.head(torch.cat([x.mean(-1), x.amax(-1)], dim=1))

    @torch.no_grad()
    def classify(self, tokens: np.ndarray) -> SoundClass:
        """The likeliest class of one window of token ids."""
        logits = self(torch.as_tensor(np.asarray(tokens, dtype=np.int64))[None])
        probabilities = torch.softmax(logits[0], 0)
        best = int(probabilities.argmax())
        return SoundClass(self.config.classes[best], float(probabilities[best]))

    def save(self, path: str | Path) -> None:
        torch.save({"config": json.dumps(asdict(self.config)), "state": self.state_dict()}, Path(path))

    @classmethod
    def load(cls, path: str | Path = SHIPPED_SOUND_CLASSIFIER) -> SoundClassifier:
        saved = torch.load(Path(path), weights_only=True)
        config = json.loads(saved["config"])
        model = cls(SoundClassifierConfig(**{**config, "classes": tuple(config["classes"])}))
        model.load_state_dict(saved["state"])
        return model.eval()


class StreamingSoundClass:
    """The class of the last `window` tokens of a stream, None until a window has been heard."""

    def __init__(self, classifier: SoundClassifier) -> None:
        self.classifier = classifier
        self._tokens: deque[int] = deque(maxlen=classifier.config.window)

    def push(self, tokens: np.ndarray) -> SoundClass | None:
        self._tokens.extend(int(t) for t in tokens)
        if len(self._tokens) < self._tokens.maxlen:
            return None
        return self.classifier.classify(np.fromiter(self._tokens, dtype=np.int64))
