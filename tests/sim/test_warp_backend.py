"""The MuJoCo Warp backend against the rollout backend, on Warp's CPU device: same observations,
rewards, terminations and resets, step by step, with and without domain randomization.

MuJoCo Warp integrates in float32 and the rollout backend in float64, so states agree to ~1e-5 over
these horizons, not bitwise. The actions are moderate (a policy's, not full-scale noise): under
violent random actions a contact that starts one physics step earlier on one backend makes the two
part by ~1e-3 at once, and even moderate actions and pushes meet such events now and then. So
almost every value must agree tightly and every value loosely: a wrong formula, variant or reset
differs by far more. A foot whose contact sensor sits on its threshold can read touching on one
backend and not on the other: the two contact terms are compared for agreement in most rows.
"""

from dataclasses import replace

import numpy as np
import pytest
import torch

from policies.contract import PolicyContract
from sim.envs.g1_walk import WalkConfig
from sim.envs.randomization import Randomization
from sim.envs.vector import G1WalkVectorEnv
from sim.envs.warp_vector import G1WalkWarpEnv

ROBOTS, STEPS, WALK_STEPS = 4, 16, 24
SHORT = WalkConfig(episode_seconds=0.16)
"""Eight-step episodes: every robot is reset twice within the horizon."""
CONTACT_TERMS = ("contact", "contact_no_vel")
ACTION_STD = 0.3
TIGHT, LOOSE, SHARE = 1e-3, 0.1, 0.98
"""Every value within LOOSE of the other backend's, a SHARE of them over the horizon within TIGHT."""
TERM_TOL = 1e-2
"""Each reward term (the contact terms aside) within 1e-2, or 1 %, of the other backend's."""


class Agreement:
    def __init__(self) -> None:
        self.tight, self.total = 0, 0

    def __call__(self, actual: torch.Tensor, desired: np.ndarray, what: str) -> None:
        diff = np.abs(actual.numpy() - desired)
        assert diff.max() <= LOOSE, f"{what}: largest difference {diff.max():.3g}"
        self.tight += int(np.sum(diff <= TIGHT))
        self.total += diff.size

    def check(self) -> None:
        assert self.tight >= SHARE * self.total, f"only {self.tight / self.total:.1%} within {TIGHT:g}"


def _both(randomization: Randomization, config: WalkConfig = SHORT, seed: int = 7,
          contract: PolicyContract | None = None):
    rollout = G1WalkVectorEnv(ROBOTS, config, contract, threads=1, randomization=randomization, seed=seed)
    warp = G1WalkWarpEnv(ROBOTS, config, contract, randomization=randomization, seed=seed)
    return rollout, warp


@pytest.mark.parametrize("randomization, contract", [
    (Randomization.none(), None),
    (replace(Randomization(models=4), push_seconds=(0.1, 0.2), push_speed=0.5),
     PolicyContract(stand_still_below=0.1, obs_history=3)),
], ids=["nominal", "randomized-pushed-standing-history"])
def test_the_warp_backend_steps_as_the_rollout_backend_does(randomization, contract):
    """The second case also stops the gait clock of robots told to stand (half of the commands) and
    stacks three observation frames, restarted where robots reset."""
    config = replace(SHORT, standing_fraction=0.5) if contract is not None else SHORT
    rollout, warp = _both(randomization, config, contract=contract)
    _agree = Agreement()
    obs_a, _ = rollout.reset(seed=7)
    obs_b, _ = warp.reset(seed=7)
    _agree(obs_b, obs_a, "reset observations")
    if randomization.models > 1:
        assert len(set(warp.variant)) > 1, "robots step on different model variants"
    rng = np.random.default_rng(0)
    contact_agree, contact_total, resets, clock_stopped = 0, 0, 0, False
    for k in range(STEPS):
        actions = rng.normal(0, ACTION_STD, (ROBOTS, 12)).astype(np.float32)
        obs_a, rew_a, term_a, trunc_a, info_a = rollout.step(actions)
        obs_b, rew_b, term_b, trunc_b, info_b = warp.step(torch.from_numpy(actions))
        np.testing.assert_array_equal(term_b.numpy(), term_a, err_msg=f"step {k}")
        np.testing.assert_array_equal(trunc_b.numpy(), trunc_a, err_msg=f"step {k}")
        _agree(obs_b, obs_a, f"observations at step {k}")
        smooth = [0, 1, 2, 3, 6, 7, 8]
        _agree(warp.privileged[:, smooth], rollout.privileged[:, smooth], f"privileged observations at step {k}")
        contact_agree += int(np.sum(warp.privileged[:, 4:6].numpy() == rollout.privileged[:, 4:6]))
        contact_total += 2 * ROBOTS
        for name, value in info_a.items():
            if name == "final_obs":
                _agree(info_b[name], value, f"final observations at step {k}")
            elif name == "final_index":
                np.testing.assert_array_equal(info_b[name].numpy(), value)
                resets += len(value)
            elif name in CONTACT_TERMS:
                contact_agree += int(np.sum(np.isclose(info_b[name].numpy(), value, atol=1e-3)))
                contact_total += ROBOTS
            else:
                np.testing.assert_allclose(info_b[name].numpy(), value, atol=TERM_TOL, rtol=TERM_TOL,
                                           err_msg=f"{name} at step {k}")
        np.testing.assert_array_equal(warp.variant, rollout.variant)
        np.testing.assert_array_equal(warp.gait.steps.numpy(), rollout.gait.steps)
        clock_stopped |= bool((rollout.gait.steps < rollout.steps).any())
    _agree.check()
    assert resets >= 2 * ROBOTS, "every robot was reset within the horizon"
    assert contact_agree >= 0.95 * contact_total
    assert clock_stopped == (contract is not None), "robots told to stand stopped their gait clock"


def test_the_shipped_policy_walks_on_the_warp_backend_as_on_the_rollout_backend():
    """The shipped policy was trained on the rollout backend; on Warp it takes the same actions and
    goes forward without falling."""
    from policies.inference import SHIPPED_WALK_POLICY, load_module, stored_contract

    config = WalkConfig().holding((0.5, 0.0, 0.0))
    contract = PolicyContract().with_choices_of(stored_contract(SHIPPED_WALK_POLICY))
    rollout, warp = _both(Randomization.none(), config, contract=contract)
    policy = load_module(SHIPPED_WALK_POLICY, contract)
    obs_a, _ = rollout.reset(seed=3)
    obs_b, _ = warp.reset(seed=3)
    start = warp.base_position()
    with torch.inference_mode():
        for _ in range(WALK_STEPS):
            act_a = policy(torch.from_numpy(obs_a)).numpy()
            act_b = policy(obs_b)
            np.testing.assert_allclose(act_b.numpy(), act_a, atol=5e-3)
            obs_a, *_, info_a = rollout.step(act_a)
            obs_b, _, term_b, *_ = warp.step(act_b)
            assert not term_b.any()
    advanced = (warp.base_position() - start)[:, 0]
    assert (advanced > 0.02).all(), f"walked forward {advanced.tolist()} m in {WALK_STEPS * 0.02:g} s"
    np.testing.assert_allclose(warp.base_position().numpy(), rollout.base_position(), atol=5e-3)


def test_a_snapshot_restores_the_warp_env_exactly():
    first = G1WalkWarpEnv(2, SHORT, randomization=Randomization(models=3), seed=1)
    first.reset(seed=1)
    actions = torch.zeros(2, 12)
    for _ in range(3):
        first.step(actions)
    snapshot = first.snapshot()
    second = G1WalkWarpEnv(2, SHORT, randomization=Randomization(models=3), seed=1)
    second.reset(seed=5)
    second.restore(snapshot)
    for _ in range(3):
        obs_1, rew_1, *_ = first.step(actions)
        obs_2, rew_2, *_ = second.step(actions)
        torch.testing.assert_close(obs_2, obs_1, rtol=0, atol=0)
        torch.testing.assert_close(rew_2, rew_1, rtol=0, atol=0)


def test_bessemer_train_runs_on_the_warp_backend_and_its_policy_loads_on_the_rollout_backend(tmp_path, capsys):
    from bessemer.cli import main
    from policies.checkpoint import load_checkpoint
    from policies.training.trainer import Trainer, TrainConfig

    run = tmp_path / "warp-run"
    small = ["--num-envs", "2", "--steps-per-env", "4", "--threads", "1", "--quiet"]
    assert main(["train", "--backend", "warp", "--device", "cpu", "--run-dir", str(run), "--iterations", "2",
                 *small]) == 0
    saved = load_checkpoint(run / "latest.pt")
    assert saved["iteration"] == 2 and saved["env_steps"] == 2 * 2 * 4
    assert [h["iteration"] for h in saved["history"]] == [1, 2]
    assert all(h["physics_seconds"] > 0 for h in saved["history"]), "the robots stepped on Warp"
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--iterations", "3", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds the warp backend's robots: resume it with --backend warp" in err[0]
    on_rollout = Trainer(TrainConfig(num_envs=2, steps_per_env=4, threads=1, init_from=str(run / "latest.pt")),
                         tmp_path / "rollout-run")
    obs = torch.randn(8, on_rollout.contract.obs_size)
    with torch.inference_mode():
        expected = torch.load(run / "latest.pt", weights_only=False)["algorithm"]["actor_state_dict"]
        actual = on_rollout.alg.actor.state_dict()
        for key, value in expected.items():
            torch.testing.assert_close(actual[key], value, rtol=0, atol=0, msg=key)
        assert torch.isfinite(on_rollout.alg.actor.as_jit()(obs)).all()


@pytest.mark.parametrize("argv, message", [
    (["--device", "cuda"], "the rollout backend runs on the CPU; use --backend warp"),
    (["--backend", "warp", "--device", "cuda"], "torch finds no CUDA GPU here"),
])
def test_a_device_this_machine_lacks_is_refused_in_one_line(argv, message, tmp_path, capsys):
    from bessemer.cli import main

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    assert main(["train", "--run-dir", str(tmp_path / "run"), *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "run").exists()


def test_a_warp_without_a_needed_feature_is_refused_in_one_line(monkeypatch):
    import sim.envs.warp_support as support

    real = support._version
    monkeypatch.setattr(support, "_version", lambda p: (1, 18) if p == "warp-lang" else real(p))
    assert support.warp_problem("cpu") == ("the Warp backend needs warp-lang >= 1.19 (found 1.18): "
                                           "pip install -e '.[warp]'")


@pytest.mark.slow
def test_bessemer_train_nproc_runs_two_warp_processes_that_resume_together(tmp_path, capsys):
    """The one command for several processes (about 45 s on two loaded cores: two interpreters)."""
    from bessemer.cli import main
    from policies.checkpoint import load_checkpoint

    run = tmp_path / "warp-run"
    small = ["--num-envs", "2", "--steps-per-env", "4", "--threads", "1", "--quiet"]
    assert main(["train", "--backend", "warp", "--nproc", "2", "--run-dir", str(run), "--iterations", "2",
                 *small]) == 0
    saved = load_checkpoint(run / "latest.pt")
    assert saved["iteration"] == 2 and saved["env_steps"] == 2 * 2 * 2 * 4, "two ranks' samples per iteration"
    assert len(saved["ranks"]) == 1 and "qpos" in saved["ranks"][0]["env"]["env"]["arrays"]
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--backend", "warp", "--iterations", "3", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "was saved by 2 process(es): resume it with --nproc 2" in err[0]
    assert main(["train", "--resume", str(run), "--backend", "warp", "--nproc", "2", "--iterations", "3"]) == 0
    assert load_checkpoint(run / "latest.pt")["iteration"] == 3
