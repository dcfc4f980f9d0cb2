import os
import shutil
import socket
import subprocess
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
"""As `bessemer` sets it: OpenMP threads that spin stall torch on a shared CPU (see `bessemer/cli.py`)."""

PEER_CYCLONEDDS = "0.10.2"
"""The CycloneDDS that Unitree's SDK pins and the G1's own software runs."""

PORTS = range(12000, 32000)
"""Where tests take TCP ports: below Linux's ephemeral range (32768+), where an outgoing connection
may hold one."""
DDS_DOMAINS = range(2, 233)
"""Domain ids tests may use: not 0 (a robot's) nor 1 (the simulator's default); CycloneDDS's port
arithmetic leaves 16 bits above 232."""


def _worker() -> tuple[int, int]:
    """This process's pytest-xdist worker index and the number of workers; (0, 1) without xdist."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(name.removeprefix("gw")), int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))


def _candidates(slots: int) -> Iterator[int]:
    """Slot numbers for this process: each xdist worker walks its own residue class, starting where
    its PID points, so workers never share a slot and concurrent runs rarely do."""
    index, count = _worker()
    own = range(index, slots, count)
    start = os.getpid() % len(own)
    for k in range(len(own)):
        yield own[(start + k) % len(own)]


def _bindable(kind: int, port: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as probe:
        try:
            probe.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


class _Allocator:
    """Hands out slots that nothing on the machine holds now and that this process has not handed out."""

    def __init__(self, slots: int, free: Callable[[int], bool]) -> None:
        self.slots, self.free, self.given = slots, free, set()

    def take(self) -> int:
        for slot in _candidates(self.slots):
            if slot not in self.given and self.free(slot):
                self.given.add(slot)
                return slot
        raise RuntimeError("no free slot left for this test process")


PORT_BLOCK = 10
"""Ports in one block: a stack's seven (base..base+6) and room for a test's own servers."""

_port_blocks = _Allocator(len(PORTS) // PORT_BLOCK, lambda slot: all(
    _bindable(socket.SOCK_STREAM, PORTS.start + slot * PORT_BLOCK + i) for i in range(PORT_BLOCK)))
_domains = _Allocator(len(DDS_DOMAINS), lambda slot: all(
    _bindable(socket.SOCK_DGRAM, 7400 + 250 * DDS_DOMAINS[slot] + offset) for offset in (0, 1, 10, 11)))
"""A domain is free while its discovery and first participant's ports are (ParticipantIndex auto)."""


@pytest.fixture(scope="session")
def port_blocks() -> Callable[[], int]:
    """Call it for the first of PORT_BLOCK consecutive free TCP ports; for fixtures of any scope."""
    return lambda: PORTS.start + _port_blocks.take() * PORT_BLOCK


@pytest.fixture
def base_port(port_blocks) -> int:
    """The first of PORT_BLOCK consecutive free TCP ports that no other test of this run uses."""
    return port_blocks()


@pytest.fixture(scope="session")
def dds_domains() -> Callable[[], int]:
    """Call it for a DDS domain that no other test of this run uses; for fixtures of any scope."""
    return lambda: DDS_DOMAINS[_domains.take()]


@pytest.fixture
def dds_domain(dds_domains) -> int:
    """A DDS domain that no other test of this run (any xdist worker) uses and no participant is on."""
    return dds_domains()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        mark = item.get_closest_marker("acceptance")
        if mark is not None:
            item.user_properties.append(("acceptance", mark.args[0]))


_acceptance: dict[str, list] = defaultdict(list)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    group = dict(report.user_properties).get("acceptance")
    if group is not None:
        _acceptance[group].append(report)


def pytest_terminal_summary(terminalreporter) -> None:
    """Each acceptance group's wall time (first setup to last teardown, across workers) and its tests'."""
    if not _acceptance:
        return
    terminalreporter.section("acceptance wall times")
    for group, reports in sorted(_acceptance.items()):
        tests = {r.nodeid for r in reports}
        wall = max(r.stop for r in reports) - min(r.start for r in reports)
        busy = sum(r.duration for r in reports)
        failed = len({r.nodeid for r in reports if r.failed})
        terminalreporter.write_line(f"{group}: {len(tests)} tests, {wall:.0f} s wall, {busy:.0f} s in tests"
                                    + (f", {failed} failed" if failed else ""))


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
