"""The subcommands of `bessemer`, one module each, and what they share."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path


class CliError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


@contextlib.contextmanager
def ignoring_interrupts() -> Iterator[None]:
    """Shutdown work (damping, summaries, checkpoints) runs to its end: Ctrl-C is ignored inside, so a
    second one in quick succession cannot cut it short."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def require_display(instead: str) -> None:
    """--viewer needs a display; say so before anything starts, with what to do instead."""
    if not has_display():
        raise CliError(f"--viewer needs a display and none is set (DISPLAY/WAYLAND_DISPLAY); {instead}")


def check_writable(path: Path, what: str) -> None:
    """Fail before the run starts, not after it, if an output file cannot be written."""
    if not str(path):
        raise ValueError(f"cannot write {what}: the file name is empty")
    parent = path.resolve().parent
    if not parent.is_dir():
        raise ValueError(f"cannot write {what} {path}: folder {parent} does not exist")
    if path.is_dir():
        raise ValueError(f"cannot write {what} {path}: it is a folder; give a file name")
    if path.exists() and not path.is_file():
        raise ValueError(f"cannot write {what} {path}: it is not a regular file")
    existed = path.exists()
    try:
        with path.open("ab"):
            pass
    except OSError as exc:
        raise ValueError(f"cannot write {what} {path}: {exc.strerror}; choose another path") from None
    if not existed:
        path.unlink()


def check_outputs(inputs: dict[str, Path | None], outputs: dict[str, Path | None], keep: tuple[str, ...] = (),
                  force: bool = False) -> None:
    """Before any work: no output overwrites an input or another output, and outputs named in `keep`
    (recordings, policies, weights: what a user made) that exist are refused unless `force`."""
    seen: dict[Path, str] = {}
    for option, path in inputs.items():
        if path is not None:
            seen[Path(path).resolve()] = option
    for option, path in outputs.items():
        if path is None:
            continue
        resolved = Path(path).resolve()
        if resolved in seen:
            raise CliError(f"{option} {path} is also {seen[resolved]}: writing it would destroy that; choose another path")
        seen[resolved] = option
        if option in keep and resolved.exists() and not force:
            raise CliError(f"{option} {path} exists: pass --force to overwrite it, or choose another path")


def write_output(path: Path, text: str, what: str) -> None:
    """Write a whole file or nothing: a failed write (a full disk) leaves any earlier file as it was."""
    tmp = path.with_name(f".{path.name}.partial")
    try:
        tmp.write_text(text)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise CliError(f"could not write {what} {path}: {exc.strerror}") from None
