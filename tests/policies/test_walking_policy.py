"""The shipped walking policy: it walks, turns and takes pushes in the project's sim, and walks the
same through `bessemer sim` and through `bessemer deploy --sim` against the DDS bridge. These are
the training issue's acceptance; they run once `policies/assets/g1_walk.pt` is in the tree."""

import json
import os
import signal
import subprocess
import sys

import pytest

from policies.training.evaluate import EvalConfig, evaluate
from policies.inference import SHIPPED_WALK_POLICY, LearnedPolicy

pytestmark = pytest.mark.skipif(not SHIPPED_WALK_POLICY.exists(),
                                reason="the acceptance of the walking policy, skipped until one ships")


@pytest.fixture(scope="module")
def policy():
    return LearnedPolicy(SHIPPED_WALK_POLICY)


def test_it_walks_forward_at_the_commanded_half_metre_per_second(policy):
    result = evaluate(policy, EvalConfig(command=(0.5, 0.0, 0.0), seeds=10, seconds=20.0))
    assert result["falls"] == 0, result["per_seed"]
    assert abs(result["forward_mps"] - 0.5) <= 0.1 and abs(result["lateral_mps"]) <= 0.1
    assert result["distance_m"] > 0.4 * 20 * 0.5


def test_it_turns_at_the_commanded_rate(policy):
    result = evaluate(policy, EvalConfig(command=(0.0, 0.0, 0.5), seeds=10, seconds=20.0))
    assert result["falls"] == 0 and abs(result["yaw_rate_rps"] - 0.5) <= 0.15


def test_it_survives_sideways_pushes_of_half_a_metre_per_second(policy):
    result = evaluate(policy, EvalConfig(command=(0.5, 0.0, 0.0), seeds=10, seconds=20.0, push_speed=0.5))
    assert result["pushes_per_robot"] == 4 and result["falls"] == 0, result["per_seed"]


def test_bessemer_sim_walks_with_it_by_default(tmp_path):
    out = tmp_path / "s.json"
    result = subprocess.run([sys.executable, "-m", "bessemer", "sim", "--sequence", "4,200", "--cmd", "0.5,0,0",
                             "--duration", "10", "--lockstep", "--summary-json", str(out)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    summary = json.loads(out.read_text())
    drive = summary["policy_drive"]
    assert summary["fsm"]["final_state"] == 200 and summary["fsm"]["faults"] == 0
    assert drive["seconds"] > 10 and abs(drive["forward_mps"] - 0.5) <= 0.1, drive


@pytest.mark.timeout(180)
def test_it_walks_through_deploy_and_the_dds_bridge_at_500_hz(tmp_path):
    domain = 180 + os.getpid() % 40  # CycloneDDS derives ports from the id: beyond 232 they leave 16 bits
    bridge_json, deploy_json = tmp_path / "bridge.json", tmp_path / "deploy.json"
    bridge = subprocess.Popen([sys.executable, "-m", "bessemer", "bridge", "--domain", str(domain), "--summary-json",
                               str(bridge_json)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deploy = subprocess.run([sys.executable, "-m", "bessemer", "deploy", "--sim", "--domain", str(domain),
                                 "--sequence", "4,200", "--cmd", "0.5,0,0", "--duration", "8",
                                 "--summary-json", str(deploy_json)], capture_output=True, text=True, timeout=120)
    finally:
        bridge.send_signal(signal.SIGINT)
        bridge.wait(timeout=30)
    assert deploy.returncode == 0, deploy.stderr
    summary, served = json.loads(deploy_json.read_text()), json.loads(bridge_json.read_text())
    assert summary["fsm"]["final_state"] == 200 and summary["fsm"]["faults"] == 0, summary["events"]
    assert summary["loop"]["rate_hz"] > 495
    assert served["base_xy_m"][0] > 0.5 * 8 * 0.6, "walked forward until the deploy damped it at exit"
