"""`bessemer bench --envs`: env-steps/s of the batched vector env beside gymnasium's SyncVectorEnv of
the same env, and beside the raw physics ceiling: the same steps' time inside MuJoCo's rollout
alone (the robots' own states and contacts, so the ceiling is of the very work done)."""

from __future__ import annotations

import sys
import time

import gymnasium as gym
import numpy as np

from sim.envs.g1_walk import G1WalkEnv
from sim.envs.vector import G1WalkVectorEnv


def _rate(step, batch: int, seconds: float) -> float:
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        steps += batch
    return steps / (time.perf_counter() - start)


def bench_envs(num_envs: int = 64, threads: int = 2, seconds: float = 5.0) -> dict:
    print(f"envs: {num_envs} robots on {threads} threads, {seconds:g} s per measurement", file=sys.stderr, flush=True)
    vector = G1WalkVectorEnv(num_envs, threads=threads)
    vector.reset(seed=0)
    zeros = np.zeros((num_envs, vector.contract.action_size), dtype=np.float32)
    vector.physics_seconds = 0.0
    start, steps = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        vector.step(zeros)
        steps += num_envs
    wall = time.perf_counter() - start
    vector_rate, ceiling = steps / wall, steps / vector.physics_seconds

    sync = gym.vector.SyncVectorEnv([G1WalkEnv for _ in range(8)])
    sync.reset(seed=0)
    sync_zeros = np.zeros((8, vector.contract.action_size), dtype=np.float32)
    sync_rate = _rate(lambda: sync.step(sync_zeros), 8, seconds)
    return {"num_envs": num_envs, "threads": threads, "vector_env_steps_per_s": vector_rate,
            "sync_vector_env_steps_per_s": sync_rate, "physics_ceiling_env_steps_per_s": ceiling,
            "vs_sync": vector_rate / sync_rate, "of_ceiling": vector_rate / ceiling}


def print_envs_report(r: dict) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"bessemer bench --envs: {r['num_envs']} G1s, {r['threads']} threads, one run", box=box.SIMPLE)
    for column in ("figure", "env steps/s", "goal"):
        table.add_column(column)
    table.add_row("batched vector env (mujoco rollout)", f"{r['vector_env_steps_per_s']:,.0f}", "")
    table.add_row("  gymnasium SyncVectorEnv, same env", f"{r['sync_vector_env_steps_per_s']:,.0f}",
                  f">= 3x: x{r['vs_sync']:.1f} {'met' if r['vs_sync'] >= 3 else 'NOT met'}")
    table.add_row("  raw physics ceiling (its rollout time alone)", f"{r['physics_ceiling_env_steps_per_s']:,.0f}",
                  f">= 70 %: {100 * r['of_ceiling']:.0f} % {'met' if r['of_ceiling'] >= 0.7 else 'NOT met'}")
    Console(highlight=False).print(table)
