"""Every bad input is refused before anything moves: one line on stderr, exit status 2, nothing
written or overwritten.

The option sweep is generated from the parser itself: every option that takes a value must have one
of `bessemer.commands.arg_types`' validators (or fixed choices), and each validator's own bad values
are tried on every option that uses it, so a new option cannot arrive without its validation. The
refusals that need more than one option (collisions, keys, commands outside the trained range) are
kept below as data.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from bessemer.cli import build_parser, main

THIS_FILE = str(Path(__file__).resolve())
REQUIRED = {
    ("deploy",): ["--sim"], ("run",): ["--sim"], ("node",): ["policy"], ("fsm",): ["1"],
    ("keys",): ["/tmp"], ("export",): [THIS_FILE], ("eval",): [],
}
"""What each subcommand needs besides the option under test, so the option is what gets refused."""
VALUE_FREE = (argparse._StoreTrueAction, argparse._HelpAction, argparse._SubParsersAction)


def subcommands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from subcommands(sub, path + (name,))
            return
    yield path, parser


def value_options():
    for path, parser in subcommands(build_parser()):
        for action in parser._actions:
            if not isinstance(action, VALUE_FREE):
                yield path, action


def bad_cases():
    for path, action in value_options():
        option = action.option_strings[0] if action.option_strings else None
        if option is None:
            continue
        values = getattr(action.type, "bad", ()) or (("nosuch",) if action.choices else ())
        for value in values:
            yield pytest.param(path, option, value, id=f"{' '.join(path)} {option}={value!r}")


BAD_CASES = list(bad_cases())


def refused(argv: list[str], capsys) -> str:
    """Run the CLI; assert a clean refusal and return its one line."""
    code = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, f"{argv}: exit {code}"
    assert len(err) == 1 and "Traceback" not in err[0], err
    assert err[0].startswith("bessemer") and ": error: " in err[0], err
    return err[0]


def test_every_option_that_takes_a_value_is_validated():
    unvalidated = [f"{' '.join(path)} {action.option_strings or action.dest}" for path, action in value_options()
                   if not (hasattr(action.type, "bad") or action.choices)]
    assert not unvalidated, "options without a validating type from arg_types: " + ", ".join(unvalidated)


def test_the_sweep_is_large():
    assert len(BAD_CASES) + len(COMBINED) >= 250


@pytest.mark.parametrize("path,option,value", BAD_CASES)
def test_a_bad_value_is_refused_naming_its_option(path, option, value, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = refused([*path, *REQUIRED.get(path, []), f"{option}={value}"], capsys)
    assert f"argument {option}" in line
    assert not any(tmp_path.iterdir()), "nothing is written"


def _checkpoint_like(tmp_path: Path) -> Path:
    path = tmp_path / "latest.pt"
    path.write_bytes(b"not really a checkpoint")
    return path


COMBINED = [
    ("sim: summary onto the video", lambda d: ["sim", "--video", str(d / "a.mp4"), "--summary-json", str(d / "a.mp4")],
     "is also --video"),
    ("sim: an existing video", lambda d: ["sim", "--video", str(d / "kept.mp4")], "exists: pass --force"),
    ("eval: summary onto the policy", lambda d: ["eval", "--policy", str(d / "latest.pt"), "--summary-json",
                                                 str(d / "latest.pt")], "is also --policy"),
    ("export: onto its checkpoint", lambda d: ["export", str(d / "latest.pt"), "--out", str(d / "latest")],
     "is also checkpoint"),
    ("export: over an earlier export", lambda d: ["export", str(d / "latest.pt"), "--out", str(d / "kept")],
     "exists: pass --force"),
    ("keys: over existing keys", lambda d: ["keys", str(d / "keys")], "already holds CURVE keys"),
    ("vision: over existing weights", lambda d: ["vision", "train", "--out", str(d / "kept.mp4")], "exists: pass --force"),
    ("sim: command beyond the trained range", lambda d: ["sim", "--sequence", "4,200", "--cmd", "50,0,0"],
     "outside the trained range"),
    ("sim: a negative command outside it", lambda d: ["sim", "--sequence", "4,200", "--cmd", "-0.9,0,0"],
     "outside the trained range"),
    ("deploy: lateral beyond range", lambda d: ["deploy", "--sim", "--sequence", "4,200", "--cmd", "0,0.5,0"],
     "outside the trained range"),
    ("run: a sequence the FSM refuses", lambda d: ["run", "--sim", "--sequence", "2"], "not an allowed transition"),
    ("run: a policy file that is no policy", lambda d: ["run", "--sim", "--policy", str(d / "latest.pt")], "latest.pt"),
    ("run: curve without keys", lambda d: ["run", "--sim", "--curve"], "--curve needs CURVE keys"),
    ("status: beyond loopback without keys", lambda d: ["status", "--host", "192.0.2.1"], "needs CURVE keys"),
    ("sim: 200 on the 23-DoF G1", lambda d: ["sim", "--variant", "23dof", "--sequence", "4,200"], "29-DoF"),
]


@pytest.mark.parametrize("argv_of,message", [pytest.param(a, m, id=i) for i, a, m in COMBINED])
def test_combinations_that_would_lose_data_or_move_the_robot_wrongly_are_refused(argv_of, message, capsys, tmp_path):
    from bessemer.endpoints import create_keys

    _checkpoint_like(tmp_path)
    (tmp_path / "kept.mp4").write_bytes(b"a recording")
    (tmp_path / "kept.pt").write_bytes(b"an export")
    (tmp_path / "kept.onnx").write_bytes(b"an export")
    create_keys(tmp_path / "keys")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert message in refused(argv_of(tmp_path), capsys)
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before, "nothing was written, overwritten or regenerated"


def test_mujoco_gl_set_to_nonsense_is_one_line(capsys, monkeypatch):
    monkeypatch.setenv("MUJOCO_GL", "bogus")
    assert "MUJOCO_GL='bogus'" in refused(["model"], capsys)


def test_a_negative_command_needs_no_equals_sign(tmp_path):
    summary = tmp_path / "s.json"
    assert main(["eval", "--cmd", "-0.3,0,0", "--seeds", "1", "--seconds", "0.1", "--summary-json", str(summary)]) == 0
    assert json.loads(summary.read_text())["config"]["command"][0] == -0.3
