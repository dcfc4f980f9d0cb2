"""A Python with LeRobot's dataset class beside the project's, built small: LeRobot's dataset package with
only what its dataset class imports, and the project's own CPU torch linked in rather than downloaded
(torchvision, which pip would pair with a CUDA torch of several GB, is installed alone)."""

from __future__ import annotations

import fcntl
import importlib.metadata
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

LEROBOT_DATASET = "lerobot-dataset==0.4.4"
TORCHVISION = "torchvision==0.28.0"
"""The torchvision built for torch 2.13 (the project's); PyPI has only its CUDA build, whose C++ ops then
cannot load: lerobot_load.py says how torchvision imports without them."""
LOADING_NEEDS = ("datasets>=4.0.0,<4.2.0", "huggingface-hub>=0.34.2,<0.36.0", "av>=15.0.0,<16.0.0",
                 "jsonlines>=4.0.0,<5.0.0", "deepdiff>=7.0.1,<9.0.0", "termcolor>=2.4.0,<4.0.0",
                 "packaging>=24.2,<26.0", "setuptools>=71.0.0,<81.0.0", "pillow")
"""lerobot-dataset's own requirements that its dataset class imports, in its ranges; the rest (cmake,
opencv-python-headless, imageio[ffmpeg]) serve recording and encoding and are left out."""


def _torch_requirements() -> list[str]:
    """What the project's torch needs beside it (sympy, networkx, ...), without its optional extras."""
    return [r for r in importlib.metadata.requires("torch") or [] if "extra ==" not in r]


def _link_project_torch(venv: Path) -> None:
    """Expose the project's torch to the virtualenv through a folder of links named by a .pth file: only
    torch's own top-level names are seen, nothing else of the project's environment. Done after every pip
    run, so no pip there ever sees (or could replace) the project's torch."""
    torch = importlib.metadata.distribution("torch")
    names = {Path(str(f)).parts[0] for f in torch.files or [] if not str(f).startswith("..")}
    site = Path(str(torch.locate_file("")))
    links = venv / "project-torch"
    if all((links / n).is_symlink() and (links / n).readlink() == site / n for n in names):
        return
    shutil.rmtree(links, ignore_errors=True)
    links.mkdir()
    for name in sorted(names):
        (links / name).symlink_to(site / name)
    purelib = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    (purelib / "project-torch.pth").write_text(f"{links}\n")


def _pip(python: Path, *args: str) -> None:
    """Quiet unless it fails: pip's resolver always warns of the requirements left out on purpose."""
    out = subprocess.run([str(python), "-m", "pip", "install", "-q", *args], capture_output=True, text=True)
    if out.returncode != 0:
        pytest.fail(f"pip install {' '.join(args)} failed:\n{out.stderr[-3000:]}")


@pytest.fixture(scope="session")
def lerobot_python() -> str:
    """Built once (about a minute) and cached outside the clone; xdist workers build it one at a time."""
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "bessemer"
    venv = cache / f"lerobot-dataset-0.4.4-torch-{importlib.metadata.version('torch')}-py3.11"
    python = venv / "bin" / "python"
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (venv / ".ready").exists():
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
            _pip(python, "--no-deps", LEROBOT_DATASET, TORCHVISION)
            _pip(python, *LOADING_NEEDS, *_torch_requirements())
            (venv / ".ready").touch()
        _link_project_torch(venv)
    return str(python)
