"""The architecture's rule, written once: libraries import downward only and know nothing of the app,
argv or a terminal.

Ranks, lowest first: `robots`; then `control`, `perception` and `policies` (each on its own); then
`sim` (the simulated G1 and its Gymnasium envs, which use the policy contract); then the training
code (`policies.training`, `perception.training`), the only library code that imports `sim`; then
the app, `bessemer`. A module may import its own package at its own rank and any package of a lower
rank, nothing else. Imports inside functions count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RANKS = {"robots": 0, "control": 1, "perception": 1, "policies": 1, "sim": 2,
         "policies.training": 3, "perception.training": 3, "bessemer": 4}
APP_ONLY_MODULES = {"argparse", "rich", "signal", "curses", "tqdm", "click"}
"""Command lines, terminal UIs and process signals belong to the app."""


def unit_of(module: str) -> str | None:
    """The layer a dotted module name belongs to (the longest matching prefix), or None if outside."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        if prefix in RANKS:
            return prefix
    return None


def imported_modules(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def violations(module: str, source: str) -> list[str]:
    """Every import of `source` (the text of `module`) that breaks the rule, as readable lines."""
    unit = unit_of(module)
    library = unit != "bessemer"
    out, reported = [], set()
    for line, target in imported_modules(source):
        if line in reported:
            continue
        top = target.split(".")[0]
        if library and top in APP_ONLY_MODULES:
            out.append(f"{module}:{line} imports {target}: argv, terminal UI and signals belong to the app")
            reported.add(line)
            continue
        target_unit = unit_of(target)
        if target_unit is None or target_unit == unit:
            continue
        if RANKS[target_unit] >= RANKS[unit]:
            out.append(f"{module}:{line} imports {target} ({target_unit}, rank {RANKS[target_unit]}) "
                       f"from {unit} (rank {RANKS[unit]}): only lower ranks may be imported")
            reported.add(line)
    if library and "sys.argv" in source:
        out.append(f"{module} reads sys.argv: argv belongs to the app")
    return out


def library_and_app_modules() -> list[tuple[str, Path]]:
    modules = []
    for package in ("robots", "control", "perception", "policies", "sim", "bessemer"):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            modules.append((".".join(parts[:-1] if parts[-1] == "__init__" else parts), path))
    return modules


def test_every_module_imports_downward_only():
    found = [v for module, path in library_and_app_modules() for v in violations(module, path.read_text())]
    assert not found, "layering broken:\n" + "\n".join(found)


@pytest.mark.parametrize("module,source,expected", [
    ("robots.dds", "from control.fsm import FsmId", "only lower ranks"),
    ("control.fsm", "def f():\n    from bessemer.runtime.low_level import LowLevel", "only lower ranks"),
    ("sim.envs.g1_walk", "import policies.training.trainer", "only lower ranks"),
    ("policies.inference", "from sim.robot import SimRobot", "only lower ranks"),
    ("control.safety", "from perception import bearing", "only lower ranks"),
    ("policies.training.trainer", "from rich.progress import Progress", "belong to the app"),
    ("perception.camera_server", "import argparse", "belong to the app"),
    ("sim.world", "import sys\nx = sys.argv[1]", "argv belongs to the app"),
])
def test_the_rule_catches_an_upward_or_app_import(module, source, expected):
    assert any(expected in v for v in violations(module, source))


@pytest.mark.parametrize("module,source", [
    ("policies.training.trainer", "from sim.envs.vector import G1WalkVectorEnv"),
    ("sim.envs.g1_walk", "from policies.contract import PolicyContract"),
    ("bessemer.commands.train", "import argparse\nfrom policies.training.trainer import Trainer"),
    ("control.fsm", "from robots.interface import RobotState"),
])
def test_the_rule_allows_downward_imports(module, source):
    assert violations(module, source) == []
