"""Training checkpoints on disk: written atomically, read back with one-line errors.

A checkpoint is everything a run needs to go on as if never stopped (networks, optimizer,
normalizers, the env's robots and random streams, the learning curve) plus the policy contract it
was trained under, so nothing reads it for another robot without being told which field differs.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path

import torch

from policies.contract import PolicyContract

FORMAT = "bessemer-checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message is one line that says what to do."""


def save_checkpoint(path: Path, payload: dict) -> None:
    """Write to a temporary file and rename, so a crash mid-write never leaves a broken checkpoint."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"format": FORMAT, "version": VERSION, **payload}, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path) -> dict:
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}: pass a file written by `bessemer train`")
    try:
        data = torch.load(path, map_location="cpu", weights_only=False)
    except (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, ValueError, OSError) as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise CheckpointError(f"{path} is not a readable checkpoint (corrupt or truncated: {reason}); "
                              "use an earlier one from the run's checkpoints/ folder") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a Bessemer training checkpoint; pass one written by `bessemer train`")
    if data.get("version") != VERSION:
        raise CheckpointError(f"{path} has checkpoint version {data.get('version')}, this Bessemer reads {VERSION}")
    return data


def check_contract(path: Path | str, stored: dict, contract: PolicyContract) -> None:
    """Refuse a policy made for another robot or observation, naming the first field that differs."""
    field = contract.mismatch(stored)
    if field is not None:
        raise CheckpointError(f"{path} was trained for another contract: {field}; "
                              "train or export a policy for this robot")
