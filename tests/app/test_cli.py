"""`bessemer sim` as a user runs it: the summary it writes, the video it records, its errors."""

import json
import os
import subprocess
import sys

import pytest

from bessemer.cli import main
from control.fsm import transition_table_markdown
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_sim_lockstep_writes_a_summary_of_a_standing_robot(tmp_path, capsys):
    out = tmp_path / "summary.json"
    assert main(["sim", "--lockstep", "--duration", "2", "--summary-json", str(out)]) == 0
    summary = json.loads(out.read_text())
    assert summary["standing"] is True
    assert summary["fsm"]["visited"] == [1, 4] and summary["fsm"]["final_state"] == 4
    assert abs(summary["base_height_m"] - summary["base_height_nominal_m"]) < 0.02
    assert summary["max_tilt_after_standup_rad"] < 0.1
    assert summary["loop"]["ticks"] > 1000 and summary["mode"] == "lockstep"
    assert "standing" in capsys.readouterr().out


def test_sim_records_a_video(tmp_path):
    video = tmp_path / "run.mp4"
    assert main(["sim", "--duration", "0.2", "--video", str(video), "--summary-json", str(tmp_path / "s.json")]) == 0
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["video"]["frames"] >= 30
    data = video.read_bytes()
    assert len(data) > 10_000 and data[4:8] == b"ftyp"


@pytest.mark.parametrize("argv,message", [
    (["sim", "--variant", "g2"], "argument --variant: unknown variant 'g2': choose one of 29dof, 23dof"),
    (["sim", "--sequence", "4,9"], "unknown FSM state id '9'"),
    (["sim", "--spawn-pose", "kneel"], "unknown pose 'kneel': choose one of zero, stand, squat, sit"),
    (["sim", "--sequence", "2"], "step 1: 1 -> 2 is not an allowed transition"),
    (["sim", "--sequence", "4,200", "--policy", "/nonexistent/walk.pt"], "'/nonexistent/walk.pt' is neither walk nor a policy file"),
    (["sim", "--sequence", "4,200", "--cmd", "0.5,0"], "argument --cmd: expected three numbers VX,VY,WZ"),
    (["sim", "--sequence", "4,200", "--cmd", "-0.7,0,0"], "--cmd -0.7,0,0: the forward speed -0.7 is outside the trained range"),
    (["sim", "--video", "/nonexistent-dir/run.mp4"], "folder /nonexistent-dir does not exist"),
    (["sim", "--video", "run.avi"], "must end in .mp4"),
    (["sim", "--summary-json", "/proc/summary.json"], "argument --summary-json: cannot write to /proc/summary.json"),
    (["deploy", "--iface", "eth9"], "network interface 'eth9' does not exist"),
    (["deploy", "--sim", "--sequence", "4,7"], "argument --sequence: unknown FSM state id '7'"),
    (["bridge", "--remote-script", "2:start,3:Q"], "item '3:Q': expected SECONDS >= 0 and known keys"),
    (["bridge", "--remote-script", "soon:start"], "expected SECONDS:KEY"),
    (["camera-server", "--size", "640by480"], "argument --size: expected WIDTHxHEIGHT"),
])
def test_bad_input_gets_one_clear_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and err[0].startswith("bessemer") and ": error: " in err[0]


def test_viewer_without_display_is_refused():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    proc = subprocess.run([sys.executable, "-m", "bessemer", "sim", "--viewer"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("bessemer: error: --viewer needs a display and none is set (DISPLAY/WAYLAND_DISPLAY); "
                                   "run headless or record with --video")


def test_readme_prints_the_fsm_table_the_code_uses():
    assert transition_table_markdown() in (ROOT / "README.md").read_text()


def test_deploy_without_a_robot_says_why_and_exits_2(capsys, dds_domain):
    assert main(["deploy", "--sim", "--domain", str(dds_domain), "--no-unitree-services"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"no valid LowState_ on rt/lowstate for 2 s (domain {dds_domain}, interface lo)" in err[0]
