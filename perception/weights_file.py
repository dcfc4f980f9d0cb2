"""Reading a perception model's weights file: one place that refuses what is not one, in one line.

A file carries a format name and version beside its config and tensors; `torch.load` with
`weights_only` never runs code from it.
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import torch


def read_weights(path: Path, file_format: str, version: int, what: str, error: type[Exception]) -> dict:
    """The stored dictionary, or `error` saying why `path` is not a `what` file of `version`."""
    if not path.is_file():
        raise FileNotFoundError(f"no {what} weights at {path}")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, ValueError, OSError) as exc:
        raise error(f"{path} is not a {what} file ({type(exc).__name__})") from None
    if not isinstance(blob, dict) or blob.get("format") != file_format:
        raise error(f"{path} is not a {what} file")
    if blob.get("version") != version:
        raise error(f"{path} is a {what} file of version {blob.get('version')}, this code reads version {version}")
    return blob
