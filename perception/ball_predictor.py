"""Where a rolling ball will be: a small network over the last second of head-camera detections.

Input: the newest `window` frames' floor positions (the newest must hold a detection), each relative
to the newest and masked where the frame had none, and the newest position itself scaled by the room,
since the walls it will bounce off are where they are. Output: the ball's displacement `horizons_s`
ahead, and to where it will come to rest. A rolling ball slows at a rate set by the floor, slides
before it rolls, bounces off walls and stops; a constant-velocity filter knows none of that, while
the network learns it from the project's own simulated throws (`perception.training.ball`). An MLP,
not a recurrent net: one second of 20 Hz frames is 62 numbers, and it costs well under a millisecond.

Weights are stored in float16 with the config and how they were trained, as the vision encoder's.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch
from torch import nn

from perception.weights_file import read_weights

SHIPPED_WEIGHTS = Path(__file__).parent / "assets" / "ball_predictor.pt"
FILE_FORMAT = "bessemer-ball-predictor"
FILE_VERSION = 1


class BallWeightsError(ValueError):
    """A weights file that is not a ball predictor's: one line, said before any use."""


@dataclass(frozen=True)
class BallPredictorConfig:
    rate_hz: float = 20.0
    """Camera frames per second the window is sampled at. The detector costs little, and at 10 Hz a ball
    pushed away from the far edge of the view was often seen once before it left it."""
    window: int = 20
    horizons_s: tuple[float, ...] = (0.5, 1.0, 2.0)
    room_m: tuple[float, float] = (8.0, 7.0)
    """The floor plan (centred on the origin) the predictor knows the walls of."""
    hidden: int = 256
    layers: int = 3

    @property
    def inputs(self) -> int:
        return 3 * self.window + 2

    @property
    def outputs(self) -> int:
        return 2 * (len(self.horizons_s) + 1)


@dataclass(frozen=True)
class BallForecast:
    now: np.ndarray
    """(2,) the newest detection."""
    ahead: dict[float, np.ndarray]
    """Horizon (s) -> (2,) forecast position."""
    rest: np.ndarray
    """(2,) where the ball will come to rest."""


def window_features(windows: np.ndarray, room_m: tuple[float, float]) -> np.ndarray:
    """(N, W, 2) floor positions, oldest first, NaN where a frame had no detection and never NaN in the
    newest -> (N, 3W + 2) inputs: offsets from the newest, masks, the newest over the room's half-size."""
    windows = np.asarray(windows, dtype=np.float32)
    newest = windows[:, -1]
    mask = ~np.isnan(windows[..., 0])
    offsets = np.where(mask[..., None], windows - newest[:, None], 0.0)
    half = np.array(room_m, dtype=np.float32) / 2
    return np.concatenate([offsets.reshape(len(windows), -1), mask.astype(np.float32), newest / half], 1)


class BallPredictor(nn.Module):
    def __init__(self, config: BallPredictorConfig = BallPredictorConfig()) -> None:
        super().__init__()
        self.config = c = config
        layers: list[nn.Module] = []
        width = c.inputs
        for _ in range(c.layers - 1):
            layers += [nn.Linear(width, c.hidden), nn.GELU()]
            width = c.hidden
        self.net = nn.Sequential(*layers, nn.Linear(width, c.outputs))
        self.trained: dict = {}

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """(N, inputs) -> (N, horizons + 1, 2) displacements from the newest detection; the last is the rest."""
        return self.net(features).reshape(len(features), -1, 2)

    @torch.inference_mode()
    def predict(self, windows: np.ndarray) -> np.ndarray:
        """(N, W, 2) windows as `window_features` takes them -> (N, horizons + 1, 2) world positions."""
        features = torch.from_numpy(window_features(windows, self.config.room_m))
        return self(features).numpy() + np.asarray(windows, dtype=np.float32)[:, -1][:, None]

    def forecast(self, window: np.ndarray) -> BallForecast:
        """One (W, 2) window -> its forecast."""
        out = self.predict(window[None])[0]
        return BallForecast(np.asarray(window[-1], dtype=float),
                            {h: out[i].astype(float) for i, h in enumerate(self.config.horizons_s)},
                            out[-1].astype(float))

    def save(self, path: str | Path, trained: dict | None = None) -> Path:
        path = Path(path)
        if trained is not None:
            self.trained = dict(trained)
        state = {k: v.detach().to(torch.float16) for k, v in self.state_dict().items()}
        torch.save({"format": FILE_FORMAT, "version": FILE_VERSION, "config": asdict(self.config),
                    "trained": self.trained, "state_dict": state}, path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> BallPredictor:
        path = Path(path)
        blob = read_weights(path, FILE_FORMAT, FILE_VERSION, "ball predictor", BallWeightsError)
        stored = blob["config"]
        if not isinstance(stored, dict) or set(stored) != {f.name for f in fields(BallPredictorConfig)}:
            raise BallWeightsError(f"{path} holds a predictor config this code does not know")
        stored = {k: tuple(v) if isinstance(v, list) else v for k, v in stored.items()}
        predictor = cls(BallPredictorConfig(**stored))
        try:
            predictor.load_state_dict({k: v.float() for k, v in blob["state_dict"].items()})
        except (RuntimeError, AttributeError) as exc:
            raise BallWeightsError(f"{path}: weights do not fit its own config ({str(exc).splitlines()[0]})") from None
        predictor.trained = dict(blob.get("trained") or {})
        return predictor.eval()


@functools.cache
def load_shipped() -> BallPredictor:
    """The predictor trained on the project's own simulated throws and shipped with it (loaded once)."""
    return BallPredictor.load(SHIPPED_WEIGHTS)
