"""The subcommands of `bessemer`, one module each, and what they share."""

from __future__ import annotations

import os


class CliError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
