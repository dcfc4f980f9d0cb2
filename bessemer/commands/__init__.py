"""The subcommands of `bessemer`, one module each, and what they share."""

from __future__ import annotations

import os
from pathlib import Path


class CliError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


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
