"""Images as a sequence of square patches, the token layout a vision transformer reads.

Sizes that are not a multiple of the patch are refused, not padded: padding would invent pixels
that no camera saw, shift the content's statistics at the border and change the number of tokens
behind the caller's back, while the caller (the camera pipeline, which knows its field of view)
can crop or resize once to a multiple of 16. Refusing also keeps `from_patches` an exact inverse.
Works the same on numpy arrays and torch tensors, of any dtype, with or without a batch axis.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import torch

Array = TypeVar("Array", np.ndarray, torch.Tensor)


def to_patches(image: Array, patch: int = 16) -> Array:
    """(H, W, C) -> (H/p * W/p, p*p*C), or (B, H, W, C) -> (B, N, p*p*C). Patches in row-major order
    (left to right, then down); each one flattened row by row, channels innermost: 768 values for RGB.
    Like numpy's reshape, it returns a view of `image` where no copy is needed (an image one patch wide)."""
    if image.ndim not in (3, 4):
        raise ValueError(f"to_patches: expected (H, W, C) or (B, H, W, C), got shape {tuple(image.shape)}")
    *batch, h, w, c = image.shape
    _check_tiles(h, w, patch)
    grid = image.reshape(*batch, h // patch, patch, w // patch, patch, c).swapaxes(-4, -3)
    return grid.reshape(*batch, (h // patch) * (w // patch), patch * patch * c)


def from_patches(patches: Array, size: tuple[int, int], patch: int = 16) -> Array:
    """The exact inverse of `to_patches` for an image of `size` (H, W): (N, p*p*C) -> (H, W, C), batched alike."""
    h, w = size
    _check_tiles(h, w, patch)
    *batch, n, d = patches.shape
    if n != (h // patch) * (w // patch) or d % (patch * patch):
        raise ValueError(f"from_patches: {n} patches of {d} values do not tile {h}x{w} in {patch}x{patch} patches")
    c = d // (patch * patch)
    grid = patches.reshape(*batch, h // patch, w // patch, patch, patch, c).swapaxes(-4, -3)
    return grid.reshape(*batch, h, w, c)


def _check_tiles(h: int, w: int, patch: int) -> None:
    if h % patch or w % patch or h == 0 or w == 0:
        def nearest(n: int) -> int:
            return max(patch, round(n / patch) * patch)

        raise ValueError(f"{h}x{w} does not tile into {patch}x{patch} patches: crop or resize it to a multiple "
                         f"of {patch} first (e.g. {nearest(h)}x{nearest(w)})")
