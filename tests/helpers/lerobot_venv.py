"""A Python with LeRobot's dataset class, beside the project's: LeRobot pins a torch below the project's
2.13.0 and its dataset package needs torchvision, whose CPU build does not import beside our CPU torch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

LEROBOT_DATASET = "lerobot-dataset==0.4.4"
TORCHVISION = "torchvision==0.29.1"
"""torchvision 0.29.1 brings its own torch (2.14.1) into that virtualenv; the project's is untouched."""


@pytest.fixture(scope="session")
def lerobot_python() -> str:
    """Built once (minutes: torch and torchvision) and cached outside the clone."""
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "bessemer"
    venv = cache / "lerobot-dataset-0.4.4-py3.11"
    python = venv / "bin" / "python"
    ready = venv / ".ready"
    if not ready.exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", LEROBOT_DATASET, TORCHVISION], check=True)
        ready.touch()
    return str(python)
