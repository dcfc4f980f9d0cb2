"""`bessemer teleop`: keys move an arm through the arm_sdk override while the walking policy keeps the legs,
and the recorded session becomes a dataset episode whose actions carry the arm's motion."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq

from bessemer.cli import main
from bessemer.runtime.recording import read_recording
from control.fsm import FsmId
from robots.g1.joints import joint_index
from robots.g1.poses import POSES


def test_keys_move_the_arm_while_the_policy_walks_and_the_session_becomes_an_episode(tmp_path, capsys):
    path, summary_path = tmp_path / "teleop.mcap", tmp_path / "teleop.json"
    script = "0:t]]]+++++,0:ww"
    assert main(["teleop", "--keys", script, "--duration", "1.5", "--record", str(path),
                 "--summary-json", str(summary_path)]) == 0
    summary = json.loads(summary_path.read_text())
    assert summary["fsm"]["final_state"] == FsmId.START and summary["fsm"]["faults"] == 0
    assert summary["policy_drive"]["forward_mps"] > 0.05, "the walking keys drove the legs forward"

    recording = read_recording(path)
    command, fsm = recording.channels["/robot/command"], recording.channels["/fsm/state"]
    elbow, other = joint_index("left_elbow"), joint_index("right_elbow")
    driving = fsm["state"] == FsmId.START
    assert abs(command["q"][-1, elbow] - (POSES["stand"][elbow] + 0.5)) < 1e-9
    assert abs(command["q"][-1, other] - POSES["stand"][other]) < 1e-6, "the other arm stays the policy's"
    targets = recording.channels["/policy/targets"]
    speed = np.abs(np.diff(targets["q"][:, elbow])) / 0.02
    assert 1.0 < speed.max() <= 4.0 + 1e-6, "the override's speed limit shaped the keys' jump of 0.5 rad"
    legs = command["q"][driving][:, :12]
    assert np.ptp(legs, axis=0).max() > 0.1, "the legs step"
    assert any(e["text"].endswith("teleop: left_elbow target +1.50 rad") for e in recording.events)

    out = tmp_path / "episode"
    assert main(["dataset", str(path), "--out", str(out), "--fps", "50"]) == 0
    frames = pq.read_table(out / "data" / "chunk-000" / "file-000.parquet")
    names = json.loads((out / "meta" / "info.json").read_text())["features"]["action"]["names"]
    actions = np.array(frames.column("action").to_pylist())
    assert actions[-1, names.index("left_elbow_joint")] == np.float32(POSES["stand"][elbow] + 0.5)
    capsys.readouterr()


def test_without_a_terminal_or_a_script_it_says_what_to_do(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main(["teleop"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--keys" in err[0]
