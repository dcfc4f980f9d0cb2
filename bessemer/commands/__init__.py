"""The subcommands of `bessemer`, one module each, and what they share."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


class CliError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


def non_negative(text: str) -> float:
    """argparse type: a number >= 0 (NaN is refused too)."""
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return value


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def require_display(instead: str) -> None:
    """--viewer needs a display; say so before anything starts, with what to do instead."""
    if not has_display():
        raise CliError(f"--viewer needs a display and none is set (DISPLAY/WAYLAND_DISPLAY); {instead}")


def check_writable(path: Path, what: str) -> None:
    """Fail before the run starts, not after it, if an output file cannot be written."""
    parent = path.resolve().parent
    if not parent.is_dir():
        raise ValueError(f"cannot write {what} {path}: folder {parent} does not exist")
    if path.is_dir():
        raise ValueError(f"cannot write {what} {path}: it is a folder; give a file name")
    existed = path.exists()
    try:
        with path.open("ab"):
            pass
    except OSError as exc:
        raise ValueError(f"cannot write {what} {path}: {exc.strerror}; choose another path") from None
    if not existed:
        path.unlink()
