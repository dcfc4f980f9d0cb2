"""The shipped walking policy: it walks, turns and takes pushes in the project's sim, and walks the
same through `bessemer sim` and through `bessemer deploy --sim` against the DDS bridge. These are
the training issue's acceptance; they run once `policies/assets/g1_walk.pt` is in the tree."""

import json
import math
import signal
import subprocess
import sys

import pytest

from policies.training.eval_table import Bars
from policies.training.evaluate import EvalConfig, evaluate
from policies.inference import SHIPPED_WALK_POLICY, LearnedPolicy

pytestmark = [pytest.mark.skipif(not SHIPPED_WALK_POLICY.exists(),
                                 reason="the acceptance of the walking policy, skipped until one ships"),
              pytest.mark.acceptance("walking-policy")]
SEEDS = range(10)
"""Ten robots, each its own test so they run in parallel; a seed's robot is the same alone or in a batch."""
OFF_NOMINAL_SPEED_ERROR = 0.15
"""The bar for a robot off nominal (payload, floor, motors): looser than the nominal robot's 0.1 m/s."""


@pytest.fixture(scope="module")
def policy():
    return LearnedPolicy(SHIPPED_WALK_POLICY)


def robot(policy, seed, **config):
    (result,) = evaluate(policy, EvalConfig(seeds=1, first_seed=seed, seconds=20.0, **config))["per_seed"]
    return result


@pytest.mark.parametrize("seed", SEEDS)
def test_it_walks_straight_ahead_at_the_commanded_half_metre_per_second(policy, seed):
    result = robot(policy, seed, command=(0.5, 0.0, 0.0))
    assert not result["fell"], result
    assert abs(result["forward_mps"] - 0.5) <= 0.1 and abs(result["lateral_mps"]) <= 0.1, result
    assert abs(result["yaw_rate_rps"]) <= 0.15, f"it keeps its heading: {result}"
    assert result["distance_m"] > 0.4 * 20 * 0.5, result
    assert result["velocity_error_mps"] == pytest.approx(
        math.hypot(result["forward_mps"] - 0.5, result["lateral_mps"]), abs=2e-4), "the error of the mean velocity"


@pytest.mark.parametrize("rate", (0.5, -0.5))
@pytest.mark.parametrize("seed", SEEDS)
def test_it_turns_either_way_at_the_commanded_rate(policy, seed, rate):
    result = robot(policy, seed, command=(0.0, 0.0, rate))
    assert not result["fell"] and abs(result["yaw_rate_rps"] - rate) <= 0.15, result


@pytest.mark.parametrize("command", [(1.0, 0.0, 0.0), (-0.3, 0.0, 0.0), (0.0, 0.2, 0.0), (0.0, 0.0, 1.0),
                                     (0.0, 0.0, -1.0)],
                         ids=["forward-fast", "backward", "sideways", "turn-left-fast", "turn-right-fast"])
@pytest.mark.parametrize("seed", range(3))
def test_it_walks_fast_backward_sideways_and_turns_fast_within_a_robot_ready_walkers_bars(policy, seed, command):
    """Rows of `bessemer eval --table`, three seeds each (the table runs ten)."""
    bars = Bars()
    result = robot(policy, seed, command=command)
    assert not result["fell"], result
    assert result["velocity_error_mps"] <= bars.speed_error and result["yaw_rate_error_rps"] <= bars.yaw_error, result


@pytest.mark.parametrize("seed", range(3))
def test_it_stands_still_under_a_zero_command(policy, seed):
    result = robot(policy, seed, command=(0.0, 0.0, 0.0))
    assert not result["fell"] and result["velocity_error_mps"] <= Bars().stand_drift, result
    assert result["distance_m"] < 0.2, result


@pytest.mark.parametrize("seed", SEEDS)
def test_it_survives_sideways_pushes_of_a_metre_per_second_every_5_s_while_walking(policy, seed):
    config = EvalConfig(seeds=1, first_seed=seed, seconds=20.0, push_speed=1.0, push_every=5.0)
    result = evaluate(policy, config)
    assert result["pushes_per_robot"] == 4 and result["falls"] == 0, result["per_seed"]


@pytest.mark.parametrize("seed", range(3))
def test_it_walks_with_3_kg_more_on_a_slippery_floor_and_weaker_motors_at_once(policy, seed):
    config = EvalConfig(seeds=1, first_seed=seed, seconds=20.0, payload_kg=3.0, friction=0.4, gain_scale=0.85)
    result = evaluate(policy, config)
    assert result["falls"] == 0 and result["velocity_error_mps"] <= OFF_NOMINAL_SPEED_ERROR, result["per_seed"]


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
def test_it_walks_through_deploy_and_the_dds_bridge(tmp_path, dds_domain):
    bridge_json, deploy_json = tmp_path / "bridge.json", tmp_path / "deploy.json"
    bridge = subprocess.Popen([sys.executable, "-m", "bessemer", "bridge", "--domain", str(dds_domain),
                               "--summary-json", str(bridge_json)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deploy = subprocess.run([sys.executable, "-m", "bessemer", "deploy", "--sim", "--domain", str(dds_domain),
                                 "--sequence", "4,200", "--cmd", "0.5,0,0", "--duration", "8", "--max-state-age", "1000",
                                 "--summary-json", str(deploy_json)], capture_output=True, text=True, timeout=120)
    finally:
        bridge.send_signal(signal.SIGINT)
        bridge.wait(timeout=30)
    assert deploy.returncode == 0, deploy.stderr
    summary, served = json.loads(deploy_json.read_text()), json.loads(bridge_json.read_text())
    assert summary["fsm"]["final_state"] == 200 and summary["fsm"]["faults"] == 0, summary["events"]
    assert summary["loop"]["rate_hz"] > 250, "the 500 Hz loop kept running beside the policy"
    assert served["base_xy_m"][0] > 0.5 * 8 * 0.6, "walked forward until the deploy damped it at exit"
