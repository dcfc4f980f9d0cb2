"""Ctrl-C twice in quick succession still leaves the robot damped and the summary written: shutdown
work ignores the second one."""

import json
import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.timeout(180)


def wait_for_line(proc, text, seconds):
    deadline = time.monotonic() + seconds
    seen = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        seen.append(line)
        if text in line:
            return True
    return False


def test_two_quick_ctrl_c_in_deploy_still_damp_the_robot_and_write_the_summary(dds_domain, tmp_path):
    bridge = subprocess.Popen([sys.executable, "-m", "bessemer", "bridge", "--domain", str(dds_domain)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    summary = tmp_path / "deploy.json"
    deploy = subprocess.Popen([sys.executable, "-m", "bessemer", "deploy", "--sim", "--domain", str(dds_domain),
                               "--sequence", "4", "--duration", "60", "--no-unitree-services", "--max-state-age", "1000",
                               "--summary-json", str(summary)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for_line(deploy, "standing", 60), "the robot stood up"
        deploy.send_signal(signal.SIGINT)
        time.sleep(0.05)
        deploy.send_signal(signal.SIGINT)
        out, err = deploy.communicate(timeout=60)
    finally:
        if deploy.poll() is None:
            deploy.kill()
        bridge.send_signal(signal.SIGINT)
        bridge.wait(timeout=30)
    assert "exit: robot left in damp" in err
    result = json.loads(summary.read_text())
    assert result["stopped_early"] and result["fsm"]["faults"] == 0
    assert "bessemer deploy: G1 29dof" in out, "the summary was printed too"
