"""Training on two ranks (torch.distributed, gloo on the CPU): every rank holds the same networks after
every update, each steps its own robots, rank 0's checkpoint resumes both exactly, and ranks that
would train different things refuse to start."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

from policies.checkpoint import CheckpointError, load_checkpoint
from policies.training.trainer import RankMismatch, Trainer, TrainConfig

TINY = TrainConfig(iterations=4, num_envs=4, steps_per_env=8, save_every=2, threads=1,
                   actor_hidden=(32, 32), critic_hidden=(32, 32))


def _weights(trainer: Trainer) -> dict:
    return {k: v.clone() for k, v in trainer.alg.get_policy().state_dict().items()} | {
        f"critic.{k}": v.clone() for k, v in trainer.alg.critic.state_dict().items()}


def _rank(rank: int, world: int, port: int, tmp: Path) -> None:
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    after_update = []
    straight = Trainer(TINY, tmp / "straight")
    straight.run(on_iteration=lambda row: after_update.append(_weights(straight)))
    Trainer(replace(TINY, iterations=2), tmp / "split").run()
    resumed = Trainer(TINY, tmp / "split", resume=True, iterations=4)
    resumed.run()
    try:
        Trainer(replace(TINY, num_envs=4 + 2 * rank), tmp / "disagree")
        refusal = None
    except RankMismatch as exc:
        refusal = str(exc)
    torch.save({"after_update": after_update, "straight": _weights(straight), "resumed": _weights(resumed),
                "states": straight.env.env.states.copy(), "refusal": refusal}, tmp / f"rank{rank}.pt")
    dist.destroy_process_group()


def test_two_ranks_hold_the_same_networks_after_every_update_and_resume_exactly(tmp_path, port_blocks):
    mp.start_processes(_rank, args=(2, port_blocks(), tmp_path), nprocs=2, start_method="spawn")
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=False) for r in range(2)]
    assert len(ranks[0]["after_update"]) == TINY.iterations
    for update, (a, b) in enumerate(zip(ranks[0]["after_update"], ranks[1]["after_update"])):
        for key in a:
            torch.testing.assert_close(b[key], a[key], rtol=0, atol=0, msg=f"{key} after update {update + 1}")
    first, last = ranks[0]["after_update"][0], ranks[0]["after_update"][-1]
    assert any(not torch.equal(first[k], last[k]) for k in first), "the updates changed the networks"
    assert not np.array_equal(ranks[0]["states"], ranks[1]["states"]), "each rank steps its own robots"
    for rank in ranks:
        for key, value in rank["straight"].items():
            torch.testing.assert_close(rank["resumed"][key], value, rtol=0, atol=0, msg=key)
    saved = load_checkpoint(tmp_path / "straight" / "latest.pt")
    assert saved["env_steps"] == 2 * TINY.iterations * TINY.num_envs * TINY.steps_per_env
    assert len(saved["ranks"]) == 1, "rank 0's checkpoint carries rank 1's robots"
    with pytest.raises(CheckpointError, match=r"was saved by 2 process\(es\): resume it with --nproc 2"):
        Trainer(TINY, tmp_path / "straight", resume=True)
    refusal = "rank 1's training configuration differs from rank 0's in num_envs (6 vs 4)"
    assert [r["refusal"][: len(refusal)] for r in ranks] == [refusal, refusal], "both ranks refuse, before building"
    assert not (tmp_path / "disagree").exists()
