"""One formula for every array library: observations, actions, gait and rewards run on numpy arrays
(the CPU envs and the robot) and on torch tensors on the simulator's device (the Warp env) alike.

Numpy arrays get numpy itself, so the CPU path computes exactly what plain numpy code computes; other
arrays get their array-API namespace (`array_api_compat`). Constants live in numpy; `like` gives
each one once per device and float type, so a step on a GPU copies no constant to it again.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
from array_api_compat import array_namespace, device

__all__ = ["device", "like", "namespace"]

_converted: dict[tuple[int, str, Any], tuple[np.ndarray, Any]] = {}


def namespace(x: Any) -> ModuleType:
    """numpy for numpy arrays, else the array-API namespace of `x` (torch's for a tensor)."""
    return np if isinstance(x, np.ndarray) else array_namespace(x)


def like(constant: np.ndarray, x: Any) -> Any:
    """`constant` in the library and on the device of `x` (floats in `x`'s float type); for numpy `x`,
    the constant itself (as for a constant already made for `x`'s device)."""
    if isinstance(x, np.ndarray) or not isinstance(constant, np.ndarray):
        return constant
    floating = constant.dtype.kind == "f"
    key = (id(constant), str(device(x)), x.dtype if floating else None)
    hit = _converted.get(key)
    if hit is None or hit[0] is not constant:
        xp = array_namespace(x)
        hit = _converted[key] = (constant, xp.asarray(constant, dtype=x.dtype if floating else None, device=device(x)))
    return hit[1]
