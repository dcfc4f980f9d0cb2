"""Whether MuJoCo Warp can run the walk env here, and why not, in one line, before anything is built.

The Warp backend needs `mujoco-warp` 4.0 (per-world model fields through `put_model(batch_sizes=)`,
which carry each robot's randomized physics) on `warp-lang` 1.19 or later, and a CUDA device when
one is asked for. Warp compiles its kernels on first use and keeps them in its kernel cache
(`~/.cache/warp/<version>`), so only a machine's first run pays for the compile.
"""

from __future__ import annotations

import inspect
from importlib import metadata
from types import ModuleType

MIN_WARP = (1, 19)
MIN_MUJOCO_WARP = (4, 0)
INSTALL = "pip install -e '.[warp]'"


def _version(package: str) -> tuple[int, ...] | None:
    try:
        return tuple(int(p) for p in metadata.version(package).split(".")[:2])
    except (metadata.PackageNotFoundError, ValueError):
        return None


def warp_problem(device: str = "cpu") -> str | None:
    """Why the Warp backend cannot run on `device` (`cpu`, `cuda`, `cuda:N`), or None when it can."""
    for package, minimum in (("warp-lang", MIN_WARP), ("mujoco-warp", MIN_MUJOCO_WARP)):
        found = _version(package)
        if found is None:
            return f"the Warp backend needs {package} (not installed): {INSTALL}"
        if found < minimum:
            return (f"the Warp backend needs {package} >= {'.'.join(map(str, minimum))} "
                    f"(found {'.'.join(map(str, found))}): {INSTALL}")
    wp, mjw = import_warp()
    if "batch_sizes" not in inspect.signature(mjw.put_model).parameters:
        return f"this mujoco-warp has no per-world model fields (put_model(batch_sizes=)), needed for randomization: {INSTALL}"
    if device.startswith("cuda"):
        if not wp.is_cuda_available():
            return f"--device {device}: Warp finds no CUDA GPU here (use --device cpu, or a machine with an NVIDIA GPU)"
        index = int(device.partition(":")[2] or 0)
        if index >= wp.get_cuda_device_count():
            return f"--device {device}: this machine has {wp.get_cuda_device_count()} CUDA GPU(s)"
    elif device != "cpu":
        return f"unknown device {device!r}: cpu, cuda or cuda:N"
    return None


def import_warp() -> tuple[ModuleType, ModuleType]:
    """warp and mujoco_warp, initialized quietly (Warp otherwise prints every kernel module it loads)."""
    import warp as wp

    wp.config.quiet = True
    wp.config.log_level = wp.LOG_WARNING
    import mujoco_warp as mjw

    wp.init()
    return wp, mjw
