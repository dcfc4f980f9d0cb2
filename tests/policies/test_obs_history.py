"""Policies that see several observation frames: the env, the runtime and the mirror stack them the
same way, oldest first, and a run widened from a single-frame policy starts as that very policy."""

from dataclasses import replace

import numpy as np
import pytest
import torch
from tensordict import TensorDict

from policies.checkpoint import CheckpointError, load_checkpoint
from policies.contract import PolicyContract
from policies.inference import LearnedPolicy
from policies.observation import ObservationHistory
from policies.training.export import export_policy
from policies.training.symmetry import Mirror
from policies.training.trainer import Trainer
from sim.envs.vector import G1WalkVectorEnv
from sim.robot import SimRobot
from tests.policies.test_train import TINY

FRAMES = 3
CONTRACT = PolicyContract(stand_still_below=0.1, obs_history=FRAMES)


@pytest.mark.parametrize("lib", (np, torch))
def test_the_history_starts_as_the_frame_repeated_and_each_step_drops_the_oldest(lib):
    history = ObservationHistory(FRAMES)
    first = lib.asarray(np.arange(8.0).reshape(2, 4))
    assert np.array_equal(np.asarray(history.start(first)), np.tile(np.arange(8.0).reshape(2, 4), FRAMES))
    second, third = first + 100, first + 200
    history.add(second)
    stacked = np.asarray(history.add(third))
    assert np.array_equal(stacked, np.concatenate([np.asarray(first), np.asarray(second), np.asarray(third)], axis=1))
    restarted = np.asarray(history.start(first + 7, lib.asarray(np.array([1]))))
    assert np.array_equal(restarted[0], stacked[0]) and np.array_equal(restarted[1], np.tile(np.asarray(first[1] + 7), FRAMES))


def test_the_vector_env_observes_its_frames_oldest_first_and_a_snapshot_keeps_them():
    env = G1WalkVectorEnv(2, contract=CONTRACT, threads=1)
    frame = CONTRACT.frame_size
    obs, _ = env.reset(seed=0)
    assert obs.shape == (2, CONTRACT.obs_size) and np.array_equal(obs[:, :frame], obs[:, -frame:])
    still = np.zeros((2, 12), dtype=np.float32)
    snap = env.snapshot()
    after, *_ = env.step(still)
    assert np.array_equal(after[:, : 2 * frame], obs[:, frame:]), "the older frames move one place back"
    assert not np.array_equal(after[:, -frame:], obs[:, -frame:]), "and the newest is this step's"
    env.restore(snap)
    again, *_ = env.step(still)
    assert np.array_equal(again, after), "and what it handed out before stays as it was"


def test_the_mirror_mirrors_every_frame_alike():
    single, stacked = Mirror(replace(CONTRACT, obs_history=1)), Mirror(CONTRACT)
    frames = torch.randn(4, FRAMES, CONTRACT.frame_size)
    mirrored = stacked.observations(TensorDict({"policy": frames.reshape(4, -1)}, batch_size=[4]))["policy"]
    for k in range(FRAMES):
        one = single.observations(TensorDict({"policy": frames[:, k]}, batch_size=[4]))["policy"]
        assert torch.equal(mirrored.reshape(4, FRAMES, -1)[:, k], one)


def test_a_run_with_history_starts_as_the_single_frame_policy_it_widens_and_ships_to_the_runtime(tmp_path):
    base = replace(TINY, iterations=1)
    assert Trainer(base, tmp_path / "single").run()
    single = Trainer(base, tmp_path / "single", resume=True)
    widened = Trainer(replace(base, obs_history=FRAMES, init_from=str(tmp_path / "single" / "latest.pt")),
                      tmp_path / "history")
    assert widened.contract.obs_history == FRAMES
    frame_size = CONTRACT.frame_size
    current = torch.randn(64, frame_size)
    older = torch.randn(64, (FRAMES - 1) * frame_size) * 3
    with torch.no_grad():
        want = single.alg.actor(TensorDict({"policy": current}, batch_size=[64]))
        got = widened.alg.actor(TensorDict({"policy": torch.cat((older, current), dim=1)}, batch_size=[64]))
    torch.testing.assert_close(got, want, rtol=0, atol=1e-5)
    assert widened.run(), "and it trains on"
    pt, _ = export_policy(tmp_path / "history" / "latest.pt", tmp_path / "walk")
    policy = LearnedPolicy(pt)
    assert policy.contract.obs_history == FRAMES and policy.observation.size == CONTRACT.obs_size
    assert load_checkpoint(tmp_path / "history" / "latest.pt")["contract"]["obs_history"] == FRAMES
    robot, targets, seen = SimRobot(control_period=CONTRACT.control_dt), np.zeros((6, 29)), []
    robot.reset(np.array(CONTRACT.default_pose))
    for k in range(4):
        policy.act(robot.read(), k * CONTRACT.control_dt, targets)
        robot.advance()
        seen.append(policy.observation.reshape(FRAMES, -1).copy())
    assert all(np.array_equal(f, seen[0][-1]) for f in seen[0]), "the hand-over starts the history afresh"
    assert np.array_equal(seen[3][:-1], seen[2][1:]) and not np.array_equal(seen[3][-1], seen[2][-1]), \
        "each step's frame enters last and the oldest leaves"
    assert np.isfinite(targets).all()


def test_a_history_policy_is_not_widened_again_to_another_length(tmp_path):
    assert Trainer(replace(TINY, iterations=1, obs_history=2), tmp_path / "two").run()
    with pytest.raises(CheckpointError, match="2 observation frames and this run 3"):
        Trainer(replace(TINY, obs_history=3, init_from=str(tmp_path / "two" / "latest.pt")), tmp_path / "three")
