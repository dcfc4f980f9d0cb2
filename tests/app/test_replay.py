"""`bessemer replay`: a simulated run's recorded commands, played open loop from its recorded start, reproduce it;
a robot's log starts from its joints; logs the replay cannot use are refused in one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from mcap.writer import Writer

from bessemer.cli import main
from bessemer.runtime.recording import read_recording
from policies.actor import CONTRACT_FILE
from policies.inference import SHIPPED_WALK_POLICY
from tests.helpers.recordings import SHARED, rewrite, walk  # noqa: F401 (a fixture)

pytestmark = SHARED


def report(args: list[str], tmp_path: Path) -> dict:
    out = tmp_path / "replay.json"
    assert main(["replay", *args, "--json", str(out)]) == 0
    return json.loads(out.read_text())


def test_replay_of_a_sim_run_reproduces_it(walk, tmp_path):
    result = report([str(walk), "--policy", str(SHIPPED_WALK_POLICY)], tmp_path)
    ticks = len(read_recording(walk).channels["/robot/state"])
    assert result["start"] == "exact" and result["ticks"] == ticks - 1 and result["stopped_at_tick"] is None
    assert len(result["joints"]) == 29
    assert max(j["q_rad"]["max"] for j in result["joints"].values()) < 1e-9
    assert max(j["dq_rad_s"]["max"] for j in result["joints"].values()) < 1e-9
    assert result["pelvis"]["position_m"]["max"] < 1e-9 and result["pelvis"]["orientation_rad"]["max"] < 1e-9
    policy = result["policy"]
    assert policy["steps"] > 20 and policy["max"] < 1e-5, "the same policy on the same observations"


def test_a_robot_log_replays_from_its_first_joints(walk, tmp_path):
    """Without a simulator's state (a real G1's log), the replay starts from the joints and orientation; the
    standing, walking robot is then only close, and the report says how close."""
    robot_log = rewrite(walk, tmp_path / "robot.mcap",
                        {"sim": None, "bessemer": {**read_recording(walk).metadata["bessemer"], "backend": "robot"}},
                        attachments=False)
    result = report([str(robot_log)], tmp_path)
    assert result["start"] == "joints" and "position_m" not in result["pelvis"]
    worst = max(j["q_rad"]["max"] for j in result["joints"].values())
    assert 1e-6 < worst < 1.0, worst


def test_a_policy_changed_since_is_told_apart(walk, tmp_path):
    """Another policy on the same observations: the report shows how its actions differ."""
    import torch

    module = torch.jit.load(str(SHIPPED_WALK_POLICY), _extra_files=(files := {CONTRACT_FILE: ""}))
    with torch.no_grad():
        for p in module.parameters():
            p.mul_(1.05)
    changed = tmp_path / "changed.pt"
    torch.jit.save(module, str(changed), _extra_files=files)
    result = report([str(walk), "--policy", str(changed)], tmp_path)
    assert result["policy"]["max"] > 1e-3


@pytest.mark.parametrize("case,message", [
    ("not mcap", "is not an MCAP file"),
    ("foreign", "not a Bessemer recording"),
    ("variant", "a variant this stack does not know"),
    ("contract", "another policy contract, differing in action_scale"),
])
def test_logs_replay_cannot_use_are_refused_in_one_line(case, message, walk, tmp_path, capsys):
    path = tmp_path / "bad.mcap"
    meta = read_recording(walk).metadata["bessemer"]
    if case == "not mcap":
        path.write_bytes(b"a photo, renamed\n" * 10)
    elif case == "foreign":
        with path.open("wb") as f:
            writer = Writer(f)
            writer.start()
            schema = writer.register_schema("foxglove.Log", "jsonschema", b"{}")
            channel = writer.register_channel("/rosout", "json", schema)
            writer.add_message(channel, 1, b'{"message": "hello"}', 1)
            writer.finish()
    elif case == "variant":
        rewrite(walk, path, {"bessemer": {**meta, "variant": "g1_41dof"}})
    else:
        contract = {**json.loads(meta["contract"]), "action_scale": 0.5}
        rewrite(walk, path, {"bessemer": {**meta, "contract": json.dumps(contract)}})
    args = ["replay", str(path)] + (["--policy", str(SHIPPED_WALK_POLICY)] if case == "contract" else [])
    assert main(args + ["--json", str(tmp_path / "out.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not (tmp_path / "out.json").exists()


def test_a_recording_cut_short_replays_up_to_the_cut(walk, tmp_path):
    data = walk.read_bytes()
    cut = tmp_path / "cut.mcap"
    cut.write_bytes(data[: len(data) // 2])
    recording = read_recording(cut)
    assert not recording.complete
    result = report([str(cut)], tmp_path)
    assert result["ticks"] == len(recording.channels["/robot/command"]) - 1 > 100
    assert max(j["q_rad"]["max"] for j in result["joints"].values()) < 1e-9
    assert np.isfinite(result["pelvis"]["orientation_rad"]["max"])


def test_a_policy_that_sees_other_observation_frames_is_refused_in_one_line(walk, tmp_path, capsys):
    """A policy must act on the observations as recorded: one that stacks another number of frames cannot."""
    import torch

    module = torch.jit.load(str(SHIPPED_WALK_POLICY), _extra_files=(files := {CONTRACT_FILE: ""}))
    meta = json.loads(files[CONTRACT_FILE])
    recorded = meta["contract"].get("obs_history", 1)
    meta["contract"]["obs_history"] = recorded + 1
    other = tmp_path / "other.pt"
    torch.jit.save(module, str(other), _extra_files={CONTRACT_FILE: json.dumps(meta)})
    assert main(["replay", str(walk), "--policy", str(other), "--json", str(tmp_path / "out.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"sees {recorded + 1} observation frames and the recorded policy saw {recorded}" in err[0], err
    assert not (tmp_path / "out.json").exists()
