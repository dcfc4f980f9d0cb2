"""`bessemer train`: rsl_rl's PPO on the batched env, checkpoints that resume with nothing lost."""

import signal
import subprocess
import sys
import time
from dataclasses import asdict, replace

import numpy as np
import pytest
import torch

from bessemer.cli import main
from policies.checkpoint import CheckpointError, load_checkpoint
from policies.training.symmetry import Mirror
from policies.training.trainer import Trainer, TrainConfig
from sim.envs.randomization import Randomization

TINY = TrainConfig(iterations=4, num_envs=4, steps_per_env=8, save_every=2, threads=1,
                   actor_hidden=(32, 32), critic_hidden=(32, 32))


def actor_weights(trainer: Trainer) -> dict:
    return {k: v.clone() for k, v in trainer.alg.get_policy().state_dict().items()}


def test_a_run_writes_checkpoints_tensorboard_and_a_png_curve(tmp_path):
    trainer = Trainer(replace(TINY, iterations=3), tmp_path / "run")
    assert trainer.run()
    run = tmp_path / "run"
    saved = load_checkpoint(run / "latest.pt")
    assert saved["iteration"] == 3 and saved["env_steps"] == 3 * 4 * 8
    assert [h["iteration"] for h in saved["history"]] == [1, 2, 3]
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["model_000002.pt", "model_000003.pt"]
    assert (run / "learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert any(p.name.startswith("events.out.tfevents") for p in (run / "tensorboard").iterdir())
    assert saved["contract_hash"] == trainer.contract.hash()


def test_an_interrupted_run_resumes_exactly_where_it_stopped(tmp_path):
    straight = Trainer(TINY, tmp_path / "straight")
    assert straight.run()

    first = Trainer(replace(TINY, iterations=2), tmp_path / "split")
    seen = []

    def stop_after_the_first(row: dict) -> None:
        seen.append(row["iteration"])
        first.request_stop()

    assert not first.run(on_iteration=stop_after_the_first)
    assert seen == [1], "the iteration under way finishes, no other starts"
    resumed = Trainer(TINY, tmp_path / "split", resume=True, iterations=4)
    assert resumed.iteration == 1 and resumed.config.iterations == 4, "saved though --save-every had not come round"
    resumed.run()

    a, b = actor_weights(straight), actor_weights(resumed)
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=key)
    assert [h["mean_return"] for h in straight.history] == pytest.approx(
        [h["mean_return"] for h in resumed.history], nan_ok=True)
    np.testing.assert_array_equal(straight.env.env.states, resumed.env.env.states)


def test_a_run_started_from_another_runs_policy_keeps_its_networks_and_lineage(tmp_path):
    nominal = Trainer(replace(TINY, iterations=2, randomization="none"), tmp_path / "nominal")
    nominal.run()
    config = replace(TINY, randomization="full", init_from=str(tmp_path / "nominal" / "latest.pt"))
    randomized = Trainer(config, tmp_path / "randomized")
    a, b = actor_weights(nominal), actor_weights(randomized)
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=key)
    assert randomized.iteration == 2 and randomized.env_steps == nominal.env_steps
    assert len(randomized.env.env.variants) == Randomization().models
    randomized.run()
    assert [h["iteration"] for h in load_checkpoint(tmp_path / "randomized" / "latest.pt")["history"]] == [1, 2, 3, 4]


def test_a_run_started_from_an_exported_policy_acts_as_that_policy(tmp_path):
    from policies.inference import SHIPPED_WALK_POLICY, load_module, stored_contract

    config = replace(TINY, actor_hidden=(256, 128, 128), init_from=str(SHIPPED_WALK_POLICY), init_std=0.3,
                     obs_history=stored_contract(SHIPPED_WALK_POLICY).get("obs_history", 1))
    trainer = Trainer(config, tmp_path / "fine-tune")
    obs = torch.randn(16, trainer.contract.obs_size)
    with torch.inference_mode():
        shipped = load_module(SHIPPED_WALK_POLICY, trainer.contract)(obs)
        started = trainer.alg.actor.as_jit()(obs)
    torch.testing.assert_close(started, shipped)
    std = trainer.alg.actor.state_dict()["distribution.std_param"]
    assert trainer.iteration == 0 and float(std.mean()) == pytest.approx(0.3)


def test_an_exported_policy_of_other_layers_is_refused_in_one_line(tmp_path):
    from policies.inference import SHIPPED_WALK_POLICY, stored_contract

    frames = stored_contract(SHIPPED_WALK_POLICY).get("obs_history", 1)
    with pytest.raises(CheckpointError, match="does not fit this run's actor"):
        Trainer(replace(TINY, init_from=str(SHIPPED_WALK_POLICY), obs_history=frames), tmp_path / "run")


def test_an_exported_policy_of_other_observation_frames_is_refused_naming_its_frames(tmp_path):
    from policies.inference import SHIPPED_WALK_POLICY, stored_contract

    frames = stored_contract(SHIPPED_WALK_POLICY).get("obs_history", 1)
    other = 1 if frames > 1 else 2
    with pytest.raises(CheckpointError, match=f"sees {frames} observation frames and this run {other}: "
                                              f"give the run --obs-history {frames}"):
        Trainer(replace(TINY, actor_hidden=(256, 128, 128), init_from=str(SHIPPED_WALK_POLICY), obs_history=other),
                tmp_path / "run")


def test_a_new_run_refuses_a_folder_that_holds_one(tmp_path):
    Trainer(replace(TINY, iterations=1), tmp_path / "run").run()
    with pytest.raises(CheckpointError, match="already holds a run: resume it with --resume"):
        Trainer(TINY, tmp_path / "run")


def test_resume_of_a_corrupt_checkpoint_says_which_file(tmp_path):
    run = tmp_path / "run"
    Trainer(replace(TINY, iterations=1), run).run()
    data = (run / "latest.pt").read_bytes()
    (run / "latest.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"latest.pt is not a readable checkpoint \(corrupt or truncated"):
        Trainer(TINY, run, resume=True)


def test_ctrl_c_saves_the_iteration_under_way_and_the_cli_resumes_it(tmp_path):
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "bessemer", "train", "--run-dir", str(run), "--iterations", "400", "--num-envs", "4",
           "--steps-per-env", "8", "--save-every", "1000", "--threads", "1", "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (run / "tensorboard").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    stopped = load_checkpoint(run / "latest.pt")["iteration"]
    assert 0 < stopped < 400, "saved at the iteration it stopped, though --save-every had not come round"
    assert f"resume with: bessemer train --resume {run}" in out

    result = subprocess.run([sys.executable, "-m", "bessemer", "train", "--resume", str(run), "--iterations",
                             str(stopped + 2), "--quiet"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"resuming {run} at iteration {stopped}" in result.stdout
    history = load_checkpoint(run / "latest.pt")["history"]
    assert [h["iteration"] for h in history] == list(range(1, stopped + 3)), "no iteration lost or repeated"


def test_a_second_ctrl_c_while_the_checkpoint_is_written_does_not_lose_it(tmp_path, monkeypatch, capsys):
    import policies.training.trainer as trainer_module

    write = trainer_module.save_checkpoint

    def impatient_user(path, payload):
        signal.raise_signal(signal.SIGINT)  # the first stops the run after this iteration
        signal.raise_signal(signal.SIGINT)  # the second, while it is being saved
        write(path, payload)

    monkeypatch.setattr(trainer_module, "save_checkpoint", impatient_user)
    callers_handler = signal.getsignal(signal.SIGINT)
    run = tmp_path / "run"
    assert main(["train", "--run-dir", str(run), "--iterations", "400", "--num-envs", "4", "--steps-per-env", "8",
                 "--save-every", "2", "--threads", "1", "--quiet"]) == 130
    assert load_checkpoint(run / "latest.pt")["iteration"] == 2
    assert (run / "checkpoints" / "model_000002.pt").is_file()
    assert "stopped and saved at iteration 2" in capsys.readouterr().out
    assert signal.getsignal(signal.SIGINT) is callers_handler, "Ctrl-C is the caller's again"


def test_unknown_env_id_is_one_line_naming_the_choices(tmp_path):
    result = subprocess.run([sys.executable, "-m", "bessemer", "train", "--env", "Bessemer/G1Fly-v0",
                             "--run-dir", str(tmp_path / "r")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == ("bessemer train: error: argument --env: unknown env id 'Bessemer/G1Fly-v0': "
                                     "choose one of Bessemer/G1Stand-v0, Bessemer/G1Walk-v0")
    assert not (tmp_path / "r").exists()


def test_a_symmetric_run_learns_from_mirrored_samples_and_resumes_so(tmp_path):
    trainer = Trainer(replace(TINY, iterations=1, symmetry=True), tmp_path / "run")
    assert trainer.run() and trainer.alg.symmetry is not None and trainer.alg.symmetry.use_data_augmentation
    assert "loss_symmetry" in load_checkpoint(tmp_path / "run" / "latest.pt")["history"][-1]
    resumed = Trainer(TINY, tmp_path / "run", resume=True, iterations=2)
    assert resumed.alg.symmetry is not None and resumed.run()
    assert Trainer(replace(TINY, iterations=1), tmp_path / "plain").alg.symmetry is None
    old = {k: v for k, v in asdict(TINY).items() if k != "symmetry"}
    assert TrainConfig.from_dict(old).symmetry is False, "a run saved before the mirror resumes as it trained"



def _lopsided_run(run_dir, mirror_loss: float) -> float:
    """How far the actor's mirror images disagree after a short run that starts lopsided."""
    trainer = Trainer(replace(TINY, iterations=3, mirror_loss=mirror_loss), run_dir)
    with torch.no_grad():
        trainer.alg.actor.mlp[-1].bias.copy_(torch.linspace(-1.0, 1.0, trainer.contract.action_size))
    assert trainer.run()
    mirror, obs = Mirror(trainer.contract), trainer.env.get_observations()
    with torch.no_grad():
        return float(((trainer.alg.actor(mirror.observations(obs)) - mirror.actions(trainer.alg.actor(obs))) ** 2).mean())


def test_the_mirror_loss_draws_a_lopsided_actor_toward_its_mirror_image(tmp_path):
    trainer = Trainer(replace(TINY, iterations=1, mirror_loss=1.0), tmp_path / "flags")
    assert trainer.alg.symmetry.use_mirror_loss and not trainer.alg.symmetry.use_data_augmentation
    assert _lopsided_run(tmp_path / "mirrored", 20.0) < 0.2 * _lopsided_run(tmp_path / "plain", 0.0)
    assert "loss_symmetry" in load_checkpoint(tmp_path / "mirrored" / "latest.pt")["history"][-1]
