"""`bessemer bench --envs`: env-steps/s of the batched vector env beside gymnasium's SyncVectorEnv of
the same env, and beside the raw physics ceiling: the same steps' time inside MuJoCo's rollout
alone (the robots' own states and contacts, so the ceiling is of the very work done). Then PPO
end to end (`bessemer train`'s own loop: rollout, update, logging) in samples/s, and the time one
50 Hz policy step takes in the runtime (observation, network, targets) on one thread.

With `backend="warp"`, the same figures of the MuJoCo Warp backend beside them, on the device Warp
finds (a CUDA GPU, else Warp's CPU device, where a smaller batch keeps the run short): env steps/s,
its physics ceiling, and PPO samples/s end to end."""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

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


def bench_envs(num_envs: int = 256, threads: int = 2, seconds: float = 5.0, backend: str = "rollout") -> dict:
    """`num_envs` defaults to what `bessemer train` steps: the batch the vector env is built for."""
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
    result = {"num_envs": num_envs, "threads": threads, "vector_env_steps_per_s": vector_rate,
              "sync_vector_env_steps_per_s": sync_rate, "physics_ceiling_env_steps_per_s": ceiling,
              "vs_sync": vector_rate / sync_rate, "of_ceiling": vector_rate / ceiling}
    result |= bench_training(threads)
    return result | bench_warp(num_envs, threads, seconds) if backend == "warp" else result


def bench_warp(num_envs: int, threads: int, seconds: float, iterations: int = 3) -> dict:
    """The Warp backend on the device it finds; on the CPU device with at most 64 robots (its rate
    no longer grows beyond that there). The first step compiles or loads Warp's kernels: not timed."""
    import torch

    from policies.training.trainer import Engine, Trainer, TrainConfig
    from sim.envs.warp_vector import G1WalkWarpEnv, WarpConfig

    device = "cuda" if torch.cuda.is_available() else "cpu"
    n = num_envs if device == "cuda" else min(num_envs, 64)
    print(f"envs: Warp backend, {n} robots on {device}", file=sys.stderr, flush=True)
    env = G1WalkWarpEnv(n, warp=WarpConfig(device=device))
    env.reset(seed=0)
    zeros = torch.zeros((n, env.contract.action_size), device=env.device)
    env.step(zeros)
    env.physics_seconds = 0.0
    start, steps = time.perf_counter(), 0
    while time.perf_counter() - start < seconds or steps < 3 * n:
        env.step(zeros)
        steps += n
    wall = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(replace(TrainConfig(), iterations=iterations, num_envs=n, save_every=iterations,
                                  threads=threads), Path(tmp) / "run", engine=Engine("warp", device))
        trainer.run()
    rows = trainer.history[1:]
    seconds_ppo = sum(r["wall_seconds"] - p["wall_seconds"] for p, r in zip(trainer.history, rows))
    return {"warp_device": device, "warp_num_envs": n, "warp_env_steps_per_s": steps / wall,
            "warp_physics_ceiling_env_steps_per_s": steps / env.physics_seconds,
            "warp_ppo_samples_per_s": len(rows) * n * trainer.config.steps_per_env / seconds_ppo}


def bench_training(threads: int, iterations: int = 6) -> dict:
    """PPO samples/s with `bessemer train`'s defaults, and the runtime's per-step inference time."""
    import torch

    from policies.training.export import export_policy
    from policies.inference import SHIPPED_WALK_POLICY, LearnedPolicy
    from policies.training.trainer import Trainer, TrainConfig
    from robots.interface import RobotState

    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(replace(TrainConfig(), iterations=iterations, save_every=iterations, threads=threads),
                          Path(tmp) / "run")
        trainer.run()
        rows = trainer.history[1:]
        samples = sum(trainer.config.num_envs * trainer.config.steps_per_env for _ in rows)
        ppo_rate = samples / sum(r["wall_seconds"] - p["wall_seconds"] for p, r in zip(trainer.history, rows))
        physics = sum(r["physics_seconds"] for r in rows) / sum(
            r["wall_seconds"] - p["wall_seconds"] for p, r in zip(trainer.history, rows))
        path = SHIPPED_WALK_POLICY if SHIPPED_WALK_POLICY.exists() else export_policy(
            Path(tmp) / "run" / "latest.pt", Path(tmp) / "policy")[0]
        torch.set_num_threads(1)
        policy = LearnedPolicy(path, command=(0.5, 0.0, 0.0))
        state, targets = RobotState(29), np.zeros((6, 29))
        state.quat[:] = (1, 0, 0, 0)
        times = []
        for k in range(2000):
            start = time.perf_counter()
            policy.act(state, k * 0.02, targets)
            times.append(time.perf_counter() - start)
        torch.set_num_threads(threads)
    return {"ppo_samples_per_s": ppo_rate, "ppo_num_envs": trainer.config.num_envs, "ppo_physics_share": physics,
            "inference_p50_us": 1e6 * float(np.percentile(times[100:], 50)),
            "inference_p99_us": 1e6 * float(np.percentile(times[100:], 99)), "inference_policy": str(path.name)}


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
    table.add_row(f"PPO end to end (rsl_rl, {r['ppo_num_envs']} robots, rollout + update)",
                  f"{r['ppo_samples_per_s']:,.0f} samples/s", f"physics {100 * r['ppo_physics_share']:.0f} % of it")
    if "warp_device" in r:
        where = f"{r['warp_num_envs']} robots on {r['warp_device']}"
        table.add_row(f"MuJoCo Warp backend ({where})", f"{r['warp_env_steps_per_s']:,.0f}",
                      f"x{r['warp_env_steps_per_s'] / r['vector_env_steps_per_s']:.2f} of the rollout backend")
        table.add_row("  its physics ceiling (Warp's steps alone)", f"{r['warp_physics_ceiling_env_steps_per_s']:,.0f}", "")
        table.add_row(f"  PPO end to end on it ({where})", f"{r['warp_ppo_samples_per_s']:,.0f} samples/s",
                      f"x{r['warp_ppo_samples_per_s'] / r['ppo_samples_per_s']:.2f} of the rollout backend's")
    table.add_row(f"policy step at run time, 1 thread ({r['inference_policy']})",
                  f"p50 {r['inference_p50_us']:.0f} / p99 {r['inference_p99_us']:.0f} us", "< 20 ms (50 Hz)")
    Console(highlight=False).print(table)
