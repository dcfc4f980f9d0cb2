"""`bessemer teleop`: keys move an arm through the arm_sdk override while the walking policy keeps the legs,
and the recorded session becomes a dataset episode whose actions carry the arm's motion."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest

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


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_keys_sent_as_rt_arm_sdk_move_the_arm_of_the_robot_deploy_drives_and_records(dds_domain, tmp_path):
    """Beside `bessemer deploy` (the bridge's G1 walking in state 200), teleop's keys travel as Unitree's
    rt/arm_sdk: the robot's left elbow rises to the keyed target, deploy's recording holds the motion, and
    when teleop stops, silence hands the arm back to the policy."""
    from robots.dds import DdsConfig, DdsRobot
    from robots.dds_transport import DdsLink
    from tests.app.test_dds_deploy import start_bridge, stop_bridge
    from tests.app.test_shutdown import wait_for_line
    from tests.app.test_unitree_arm import Joints

    record, deployed = tmp_path / "deploy.mcap", tmp_path / "deploy.json"
    bridge, bridge_summary = start_bridge(dds_domain, tmp_path)
    elbow = joint_index("left_elbow")
    target = POSES["stand"][elbow] + 0.5
    deploy = teleop = None
    try:
        DdsRobot(DdsConfig(domain=dds_domain, first_state_timeout=60.0)).close()  # the bridge serves states
        deploy = subprocess.Popen([sys.executable, "-m", "bessemer", "deploy", "--sim", "--domain", str(dds_domain),
                                   "--sequence", "4,200", "--duration", "120", "--max-state-age", "1000",
                                   "--record", str(record), "--summary-json", str(deployed)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert wait_for_line(deploy, "sequence done", 120), "deploy hands the legs to the walking policy"
        teleop = subprocess.Popen([sys.executable, "-m", "bessemer", "teleop", "--sim", "--domain", str(dds_domain),
                                   "--keys", "0:t]]]+++++", "--duration", "120"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert wait_for_line(teleop, "left_elbow target +1.50 rad", 60), "the keys were pressed"
        joints = Joints(DdsLink(dds_domain, "lo").participant)
        assert joints.reaches(elbow, lambda q: q > target - 0.1, 60.0), "the elbow follows the keys"
        teleop.send_signal(signal.SIGINT)
        assert teleop.wait(timeout=30) == 0, teleop.stderr.read()[-2000:]
        assert joints.reaches(elbow, lambda q: q < POSES["stand"][elbow] + 0.15, 30.0), "silence hands it back"
    finally:
        for proc in (teleop, deploy):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                proc.wait(timeout=60)
        stop_bridge(bridge, bridge_summary)
    summary = json.loads(deployed.read_text())
    assert summary["fsm"]["faults"] == 0 and summary["unitree_services"]["arm_sdk"]["received"] > 10
    recording = read_recording(record)
    command, fsm = recording.channels["/robot/command"], recording.channels["/fsm/state"]
    walking = fsm["state"] == FsmId.START
    assert abs(command["q"][walking][:, elbow].max() - target) < 1e-6, "deploy recorded the keyed target"
    assert np.ptp(command["q"][walking][:, :12], axis=0).max() > 0.1, "while the policy kept the legs"
