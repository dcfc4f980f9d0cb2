"""Training on several processes with torch.distributed: this process's rank, and the collective
steps every rank takes together (the app starts the processes and their process group).

Every rank steps its own robots with its own seed; rsl_rl's PPO averages the gradients over the
ranks (all-reduce) and broadcasts the learning rate, and its observation normalizers all-reduce their
statistics, so every rank holds the same networks after every update. Rank 0 writes the checkpoints,
with every rank's env state and random streams in them, so a run resumes exactly on as many ranks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Ranks:
    rank: int = 0
    world: int = 1
    device: str = "cpu"
    """Where collectives' tensors live: the CPU for gloo, this rank's GPU for NCCL."""

    @classmethod
    def current(cls, device: str = "cpu") -> Ranks:
        if not dist.is_initialized():
            return cls(device=device)
        return cls(dist.get_rank(), dist.get_world_size(), device)

    @property
    def distributed(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    def rsl_rl(self, local_rank: int) -> dict | None:
        """rsl_rl's multi-process configuration: None on one process."""
        if not self.distributed:
            return None
        return {"global_rank": self.rank, "local_rank": local_rank, "world_size": self.world}

    def gather(self, value: Any) -> list[Any] | None:
        """Every rank's `value`, in rank order, on rank 0 (None elsewhere); `[value]` on one process."""
        if not self.distributed:
            return [value]
        gathered = [None] * self.world if self.main else None
        dist.gather_object(value, gathered, dst=0)
        return gathered

    def wait_for_all(self) -> None:
        """Return once every rank has come here (a checkpoint rank 0 writes is on disk for all)."""
        if self.distributed:
            dist.barrier()

    def any(self, flag: bool) -> bool:
        """True on every rank when `flag` is true on any: ranks stop at the same iteration."""
        if not self.distributed:
            return flag
        t = torch.tensor([int(flag)], device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())

    def disagreement(self, contract: dict, config: dict) -> str | None:
        """Why the ranks may not train together (another policy contract or run configuration than
        rank 0's), or None; every rank gets the same answer."""
        if not self.distributed:
            return None
        mine = (contract, {k: v for k, v in config.items() if k != "seed"})
        everyone: list[Any] = [None] * self.world
        dist.all_gather_object(everyone, mine)
        for rank, (their_contract, their_config) in enumerate(everyone):
            for what, theirs, first in (("policy contract", their_contract, everyone[0][0]),
                                        ("training configuration", their_config, everyone[0][1])):
                if theirs != first:
                    field = next(k for k in first if theirs.get(k) != first[k])
                    return (f"rank {rank}'s {what} differs from rank 0's in {field} ({theirs.get(field)!r} vs "
                            f"{first[field]!r}): start every rank from the same code, flags and checkpoint")
        return None
