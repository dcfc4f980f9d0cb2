import itertools
import os
import shutil
import subprocess
from pathlib import Path

import pytest

os.environ.setdefault("MUJOCO_GL", "egl")

PEER_CYCLONEDDS = "0.10.2"
"""The CycloneDDS that Unitree's SDK pins and the G1's own software runs."""

_domains = itertools.count(1 + os.getpid() % 20 * 11)


@pytest.fixture
def dds_domain() -> int:
    """A DDS domain no other test of this run uses; CycloneDDS ports leave 16 bits above id 232."""
    return next(_domains) % 232 + 1


def _python310() -> str | None:
    candidates = [shutil.which("python3.10")]
    candidates += sorted(str(p) for p in Path.home().glob(".pyenv/versions/3.10*/bin/python3.10"))
    for candidate in filter(None, candidates):
        probe = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 10))"],
                               capture_output=True, text=True)
        if probe.stdout.strip() == "True":
            return candidate
    return None


@pytest.fixture(scope="session")
def cyclonedds010_python() -> str:
    """A Python 3.10 with CycloneDDS 0.10.2 and nothing else, built once and cached outside the clone."""
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "bessemer"
    venv = cache / f"peer-cyclonedds-{PEER_CYCLONEDDS}-py3.10"
    python = venv / "bin" / "python"
    ready = venv / ".ready"
    if not ready.exists():
        base = _python310()
        if base is None:
            pytest.skip("no Python 3.10 on this machine: CycloneDDS 0.10.2 has wheels only up to 3.10")
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([base, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", f"cyclonedds=={PEER_CYCLONEDDS}"], check=True)
        ready.touch()
    return str(python)


PEER_SCRIPT = Path(__file__).parent / "peers" / "cyclonedds010_peer.py"
