"""Export and loading: the contract travels in the file, and a policy for another robot is refused."""

import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import onnx
import pytest
import torch
from onnx.reference import ReferenceEvaluator

from policies.checkpoint import CheckpointError
from policies.contract import PolicyContract
from policies.actor import CONTRACT_FILE, actor_from_checkpoint
from policies.training.export import export_policy
from policies.inference import LearnedPolicy
from policies.training.trainer import Trainer, TrainConfig
from robots.interface import RobotState

TINY = TrainConfig(iterations=1, num_envs=4, steps_per_env=8, save_every=1, threads=1, actor_hidden=(32, 32),
                   critic_hidden=(32, 32))
OTHER = replace(PolicyContract(), action_scale=0.5)
TRAINED = replace(PolicyContract(), stand_still_below=TINY.stand_still_below)
"""The contract TINY's runs train under: the robot's, with the gait training chooses by default."""


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    Trainer(TINY, root / "g1").run()
    Trainer(TINY, root / "other", contract=OTHER).run()
    return root / "g1" / "latest.pt", root / "other" / "latest.pt"


def test_torchscript_and_onnx_exports_compute_the_actor_and_carry_the_contract(checkpoints, tmp_path):
    jit_path, onnx_path = export_policy(checkpoints[0], tmp_path / "walk")
    actor = actor_from_checkpoint(checkpoints[0], PolicyContract())
    obs = torch.randn(16, 47)
    with torch.no_grad():
        expected = actor.as_jit()(obs).numpy()
    files = {CONTRACT_FILE: ""}
    script = torch.jit.load(str(jit_path), _extra_files=files)
    np.testing.assert_allclose(script(obs).detach().numpy(), expected, atol=1e-6)
    model = onnx.load(str(onnx_path))
    (actions,) = ReferenceEvaluator(model).run(None, {"obs": obs.numpy()})
    np.testing.assert_allclose(actions, expected, atol=1e-5)
    for meta in (json.loads(files[CONTRACT_FILE]), json.loads({p.key: p.value for p in model.metadata_props}[CONTRACT_FILE])):
        assert meta["contract_hash"] == TRAINED.hash()
        assert meta["contract"]["joint_names"][0] == "left_hip_pitch_joint" and meta["contract"]["control_dt"] == 0.02


def test_the_policy_maps_its_action_to_contract_targets_with_policy_gains(checkpoints, tmp_path):
    jit_path, _ = export_policy(checkpoints[0], tmp_path / "walk")
    policy = LearnedPolicy(jit_path, command=(0.5, 0.0, 0.0))
    contract = policy.contract
    state = RobotState(29)
    state.q[:] = contract.default_pose
    state.quat[:] = (1, 0, 0, 0)
    targets = np.zeros((6, 29))
    policy.act(state, 0.0, targets)
    action = policy.last_action
    assert np.abs(action).max() > 0, "a trained network, not a zero placeholder"
    expected = np.array(contract.default_pose)
    expected[:12] += contract.action_scale * action
    np.testing.assert_allclose(targets[0], expected, atol=1e-6)
    np.testing.assert_array_equal(targets[3], contract.kp)
    np.testing.assert_array_equal(targets[4], contract.kd)
    assert targets[5].min() == 1.0 and policy.rate_hz == 50.0


@pytest.mark.parametrize("kind", ["checkpoint", "export"])
def test_a_policy_for_another_contract_is_refused_naming_the_field(checkpoints, tmp_path, kind):
    path = checkpoints[1]
    if kind == "export":
        path, _ = export_policy(checkpoints[1], tmp_path / "other", contract=OTHER)
    with pytest.raises(CheckpointError, match=r"another contract: action_scale \(checkpoint 0.5, robot 0.25\)"):
        LearnedPolicy(path)


def test_corrupt_and_foreign_files_are_refused_in_one_line(checkpoints, tmp_path):
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"\x00not a policy" * 100)
    with pytest.raises(CheckpointError, match="is not a policy file"):
        LearnedPolicy(garbage)
    jit_path, _ = export_policy(checkpoints[0], tmp_path / "walk")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(jit_path.read_bytes()[:5000])
    with pytest.raises(CheckpointError, match="is not a policy file"):
        LearnedPolicy(truncated)
    plain = tmp_path / "plain.pt"
    torch.save({"weights": torch.zeros(3)}, plain)
    with pytest.raises(CheckpointError, match="is not a Bessemer training checkpoint"):
        LearnedPolicy(plain)


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bessemer", *args], capture_output=True, text=True, timeout=120)


def test_the_commands_refuse_bad_policies_before_anything_moves(checkpoints, tmp_path, base_port):
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"junk")
    for args in (("sim", "--sequence", "4,200", "--policy", str(garbage), "--lockstep"),
                 ("eval", "--policy", str(checkpoints[1])),
                 ("node", "policy", "--policy", str(checkpoints[1]), "--base-port", str(base_port)),
                 ("export", str(tmp_path / "missing.pt"))):
        result = cli(*args)
        assert result.returncode == 2, result
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("bessemer") and ": error: " in lines[0], result.stderr
    for command in (("eval",), ("node", "policy", "--base-port", str(base_port))):
        assert "another contract: action_scale" in cli(*command, "--policy", str(checkpoints[1])).stderr
    result = cli("sim", "--sequence", "4,200", "--variant", "23dof", "--policy", str(checkpoints[0]), "--lockstep")
    assert result.returncode == 2 and "learned policies drive the 29-DoF G1" in result.stderr


def test_export_cli_writes_both_files(checkpoints, tmp_path):
    result = cli("export", str(checkpoints[0]), "--out", str(tmp_path / "walk"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "walk.pt").stat().st_size > 0 and (tmp_path / "walk.onnx").stat().st_size > 0
    assert TRAINED.hash() in result.stdout


def test_the_first_policies_contract_hash_is_unchanged_by_later_fields():
    assert PolicyContract().hash() == "3a8ef39ef6fa2822", "the shipped walking policy's contract"
    stands = replace(PolicyContract(), stand_still_below=0.1)
    assert stands.hash() != PolicyContract().hash() and stands.as_dict()["stand_still_below"] == 0.1


def test_a_runtime_takes_the_policys_own_gait_choice_from_its_file():
    stands = replace(PolicyContract(), stand_still_below=0.1)
    assert PolicyContract().mismatch(stands.as_dict()) is None, "the policy's choice is not the robot's to refuse"
    assert PolicyContract().with_choices_of(stands.as_dict()) == stands
    assert stands.with_choices_of(PolicyContract().as_dict()) == PolicyContract(), "absent: the first policies' clock"


def test_an_export_keeps_the_checkpoints_gait_so_the_runtime_stands_still_with_it(tmp_path):
    stands = replace(PolicyContract(), stand_still_below=0.1)
    Trainer(replace(TINY, stand_still_below=0.1), tmp_path / "run").run()
    pt, _ = export_policy(tmp_path / "run" / "latest.pt", tmp_path / "policy")
    policy = LearnedPolicy(pt)
    assert policy.contract == stands and policy.can_stand_still
    state, targets = RobotState(29), np.zeros((6, 29))
    state.quat[0] = 1.0
    for k in range(30):
        policy.act(state, k * policy.contract.control_dt, targets)
    assert policy.gait.steps[0] == 0 and policy.standing, "a zero command: the reference never left both feet down"
