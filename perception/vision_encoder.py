"""A small vision transformer that tells whether the target ball is in the head camera's frame, and where.

Plain torch (torchvision and timm do not import beside the CPU build of torch here): the 768-value
RGB patches of `perception.patches.to_patches` go through one linear projection into tokens, a
learned class token and learned position embeddings join them, pre-norm transformer blocks mix
them, and three numbers come out of the class token: the presence logit, the bearing (degrees,
positive to the left, in the torso frame) and the log of the distance, which the camera, pitched down
at the floor, reads from how low and how large the ball appears; a log, so the error is relative. Position embeddings start as a 2-D sine-cosine grid, so
a patch's place in the frame is readable from the first step, which a few thousand frames need.

The defaults (width 128, 4 blocks of 4 heads) are sized for a 1-thread perception node: a 224x224
frame costs about 5 ms, a width of 192 about 9 ms, and the smaller one trains twice as fast on a CPU.
Weights are stored in float16 with the config inside, and run in float32.
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from perception.patches import to_patches
from perception.weights_file import read_weights

SHIPPED_WEIGHTS = Path(__file__).parent / "assets" / "ball_vit.pt"
FILE_FORMAT = "bessemer-vision-encoder"
FILE_VERSION = 2


class VisionWeightsError(ValueError):
    """A weights file that is not an encoder's, or is one for another config: one line, said before any use."""


@dataclass(frozen=True)
class VisionEncoderConfig:
    image_size: int = 224
    patch: int = 16
    width: int = 128
    depth: int = 4
    heads: int = 4
    mlp_ratio: int = 4
    bearing_scale_deg: float = 45.0
    """The bearing output is the network's number times this: bearings of balls in view stay within about +-45."""

    def __post_init__(self) -> None:
        if self.image_size % self.patch:
            raise ValueError(f"image_size {self.image_size} is not a multiple of the {self.patch} px patch")
        if self.width % self.heads:
            raise ValueError(f"width {self.width} does not split into {self.heads} heads")

    @property
    def tokens(self) -> int:
        return (self.image_size // self.patch) ** 2

    @property
    def patch_values(self) -> int:
        return self.patch * self.patch * 3


@dataclass(frozen=True)
class BallSighting:
    present_probability: float
    bearing_deg: float
    """Meaningful only when the ball is present; positive to the left of the robot's heading."""
    distance_m: float
    """Horizontal, from the torso to the ball's centre; meaningful only when the ball is present."""

    @property
    def present(self) -> bool:
        return self.present_probability >= 0.5


class Block(nn.Module):
    """Pre-norm transformer block: x + attention(norm(x)), then x + MLP(norm(x))."""

    def __init__(self, width: int, heads: int, mlp_ratio: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.qkv, self.proj = nn.Linear(width, 3 * width), nn.Linear(width, width)
        self.mlp = nn.Sequential(nn.Linear(width, mlp_ratio * width), nn.GELU(), nn.Linear(mlp_ratio * width, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        q, k, v = self.qkv(self.norm1(x)).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        x = x + self.proj(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, n, c))
        return x + self.mlp(self.norm2(x))


def _sincos_grid(side: int, width: int) -> torch.Tensor:
    """(side*side, width) 2-D sine-cosine position code, rows then columns, as in MAE's ViT."""
    quarter = width // 4
    frequencies = 1.0 / 10_000 ** (torch.arange(quarter) / quarter)
    rows, columns = torch.meshgrid(torch.arange(side), torch.arange(side), indexing="ij")
    parts = []
    for axis in (rows, columns):
        angle = axis.reshape(-1, 1).float() * frequencies
        parts += [angle.sin(), angle.cos()]
    code = torch.cat(parts, 1)
    return F.pad(code, (0, width - code.shape[1]))


class VisionEncoder(nn.Module):
    def __init__(self, config: VisionEncoderConfig = VisionEncoderConfig()) -> None:
        super().__init__()
        self.config = c = config
        self.embed = nn.Linear(c.patch_values, c.width)
        self.cls = nn.Parameter(torch.zeros(1, 1, c.width))
        self.pos = nn.Parameter(torch.cat([torch.zeros(1, c.width), _sincos_grid(c.image_size // c.patch, c.width)])[None])
        self.blocks = nn.Sequential(*(Block(c.width, c.heads, c.mlp_ratio) for _ in range(c.depth)))
        self.norm = nn.LayerNorm(c.width)
        self.head = nn.Linear(c.width, 3)
        self.trained: dict = {}
        """How the weights were trained (render seed, frames, epochs), as saved with them."""
        nn.init.normal_(self.cls, std=0.02)

    def patches(self, images: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Frames (B, H, W, 3) or (H, W, 3), uint8 0-255, as (B, tokens, 768) patches; a frame of another
        size is refused, as the position embeddings exist for this grid only."""
        if isinstance(images, np.ndarray) and not images.flags.writeable:
            images = images.copy()
        x = torch.as_tensor(images)
        if x.ndim == 3:
            x = x[None]
        size = self.config.image_size
        if x.ndim != 4 or x.shape[1:] != (size, size, 3):
            got = "x".join(map(str, x.shape[1:])) if x.ndim == 4 else f"shape {tuple(x.shape)}"
            raise ValueError(f"the vision encoder takes {size}x{size}x3 RGB frames, got {got}: crop or resize "
                             f"to {size}x{size} first")
        return to_patches(x, self.config.patch)

    def forward(self, x: torch.Tensor | np.ndarray) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Frames (B, H, W, 3) or (H, W, 3), or their patches (B, tokens, 768), pixel values 0-255 in any
        dtype -> (presence logit, bearing in degrees, log of the distance in metres), each (B,)."""
        x = torch.as_tensor(x)
        c = self.config
        if x.ndim == 3 and x.shape[-1] == c.patch_values and x.shape[-2] == c.tokens:
            patches = x
        else:
            patches = self.patches(x)
        tokens = self.embed(patches.to(self.embed.weight.dtype) * (1 / 127.5) - 1.0)
        tokens = torch.cat([self.cls.expand(len(tokens), -1, -1), tokens], 1) + self.pos
        out = self.head(self.norm(self.blocks(tokens)[:, 0]))
        return out[:, 0], out[:, 1] * c.bearing_scale_deg, out[:, 2]

    @torch.inference_mode()
    def sight(self, frame: np.ndarray | torch.Tensor) -> BallSighting:
        """One (H, W, 3) uint8 frame -> presence probability, bearing and distance."""
        logit, bearing, log_distance = self(self.patches(frame))
        return BallSighting(float(torch.sigmoid(logit[0])), float(bearing[0]), float(torch.exp(log_distance[0])))

    def save(self, path: str | Path, trained: dict | None = None) -> Path:
        """Float16 weights with the config and `trained` (how they were trained, which sets `self.trained`)."""
        path = Path(path)
        if trained is not None:
            self.trained = dict(trained)
        state = {k: v.detach().to(torch.float16) for k, v in self.state_dict().items()}
        torch.save({"format": FILE_FORMAT, "version": FILE_VERSION, "config": asdict(self.config),
                    "trained": self.trained, "state_dict": state}, path)
        return path

    @classmethod
    def load(cls, path: str | Path, config: VisionEncoderConfig | None = None) -> VisionEncoder:
        """The encoder saved at `path`, in eval mode; with `config`, refused unless the file holds that one."""
        path = Path(path)
        blob = read_weights(path, FILE_FORMAT, FILE_VERSION, "vision encoder", VisionWeightsError)
        stored = blob["config"]
        names = {f.name for f in fields(VisionEncoderConfig)}
        if not isinstance(stored, dict) or set(stored) != names:
            raise VisionWeightsError(f"{path} holds an encoder config this code does not know")
        saved = VisionEncoderConfig(**stored)
        if config is not None and saved != config:
            diff = ", ".join(f"{k} {getattr(saved, k)} (file) vs {getattr(config, k)}"
                             for k in sorted(names) if getattr(saved, k) != getattr(config, k))
            raise VisionWeightsError(f"{path} holds an encoder for another config: {diff}")
        encoder = cls(saved)
        try:
            encoder.load_state_dict({k: v.float() for k, v in blob["state_dict"].items()})
        except (RuntimeError, AttributeError) as exc:
            raise VisionWeightsError(f"{path}: weights do not fit its own config ({str(exc).splitlines()[0]})") from None
        encoder.trained = dict(blob.get("trained") or {})
        return encoder.eval()

    def summary(self) -> str:
        c, params = self.config, sum(p.numel() for p in self.parameters())
        return (f"ViT of {c.depth} blocks, width {c.width}, {c.heads} heads on {c.tokens} tokens of "
                f"{c.patch}x{c.patch}: {params / 1e6:.2f} M parameters, {math.ceil(2 * params / 1024)} KiB in float16")


@functools.cache
def load_shipped() -> VisionEncoder:
    """The ball encoder trained on the project's own renders and shipped with it (loaded once)."""
    return VisionEncoder.load(SHIPPED_WEIGHTS)


def sight_ball(frame: np.ndarray, encoder: VisionEncoder | None = None) -> BallSighting:
    """Presence, bearing and distance of the target ball in one 224x224 head-camera frame (the shipped encoder by default)."""
    return (encoder or load_shipped()).sight(frame)
