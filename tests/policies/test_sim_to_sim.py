"""Sim-to-sim: the shipped walking policy on a G1 model it was not trained on, and refusals of non-G1 models."""

from __future__ import annotations

import importlib.util

import pytest

from bessemer.cli import main
from policies.inference import SHIPPED_WALK_POLICY, LearnedPolicy
from policies.training.evaluate import EvalConfig, evaluate
from sim.foreign_g1 import MENAGERIE_PACKAGE, load_foreign_g1, menagerie_g1
from sim.world import WorldConfig, build_world_xml

needs_menagerie = pytest.mark.skipif(importlib.util.find_spec(MENAGERIE_PACKAGE) is None,
                                     reason="Menagerie's G1 comes with the sim2sim extra: pip install 'bessemer[sim2sim]'")


@needs_menagerie
def test_the_shipped_policy_walks_forward_on_menageries_g1():
    foreign = load_foreign_g1(menagerie_g1())
    config = EvalConfig(command=(0.5, 0.0, 0.0), seeds=2, seconds=3.0, settle_seconds=1.0)
    result = evaluate(LearnedPolicy(SHIPPED_WALK_POLICY), config, foreign=foreign)
    assert result["model"] == str(menagerie_g1())
    assert result["falls"] == 0
    assert result["forward_mps"] > 0.3
    assert abs(result["lateral_mps"]) < 0.2
    assert result["distance_m"] > 0.6


@needs_menagerie
def test_menageries_g1_takes_the_contracts_pd_law_and_the_2_ms_step():
    model = load_foreign_g1(menagerie_g1()).model
    assert model.nu == 29 and model.opt.timestep == 0.002
    assert model.actuator_biasprm[3, 1:3].tolist() == [-150.0, -4.0]  # left knee: the contract's kp, kd


def test_a_model_without_a_g1_joint_is_refused_in_one_line(tmp_path, capsys):
    xml = build_world_xml(WorldConfig(), 1.0).replace("left_knee_joint", "left_knee")
    path = tmp_path / "no_knee.xml"
    path.write_text(xml)
    summary = tmp_path / "summary.json"
    code = main(["eval", "--model", str(path), "--seconds", "1", "--summary-json", str(summary)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and "left_knee_joint" in err[0] and err[0].startswith("bessemer: error: --model"), err
    assert not summary.exists()


def test_a_file_that_is_not_mjcf_is_refused_in_one_line(tmp_path, capsys):
    path = tmp_path / "g1.xml"
    path.write_text("<mujoco><worldbody>")
    assert main(["eval", "--model", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a loadable MJCF" in err[0], err
