"""PPO training of G1 policies: rsl_rl's PPO on the batched MuJoCo env, with checkpoints that resume.

rsl_rl (ETH/NVIDIA) is the PPO the legged-robot field trains with; this module only drives it: a
rollout of `steps_per_env` steps in every robot, one PPO update, then logging (TensorBoard scalars,
a PNG curve, the iteration's figures to the caller's `on_iteration`) and, every `save_every`
iterations, a checkpoint holding the whole run. `request_stop()` (the app calls it on Ctrl-C or
SIGTERM) finishes the iteration under way and saves it, so a run stopped any way but a kill resumes
exactly where it was (`Trainer(..., resume=True)`); after a kill it resumes from its last checkpoint.

The `Engine` says where the robots and networks run: MuJoCo's threaded rollout on the CPU, or MuJoCo
Warp on a GPU (or Warp's CPU device); inside a torch.distributed process group, every rank trains
its own robots and the ranks share one set of networks (`ranks.py`).
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import torch
from rsl_rl.algorithms import PPO

from policies.actor import DEFAULT_HIDDEN, mlp_config
from policies.checkpoint import (
    CheckpointError,
    check_contract,
    load_checkpoint,
    save_checkpoint,
)
from policies.contract import PolicyContract
from policies.training.curve import plot_learning_curve
from policies.training.history_start import widen_to_history
from policies.training.ppo_env import RslVecEnv
from policies.training.ranks import Ranks
from policies.training.symmetry import Mirror
from sim.envs.g1_stand import STAND_CONFIG
from sim.envs.g1_walk import WalkConfig
from sim.envs.randomization import Randomization
from sim.envs.vector import G1WalkVectorEnv
from sim.envs.warp_vector import G1WalkWarpEnv, WarpConfig

ENV_CONFIGS: dict[str, WalkConfig] = {"Bessemer/G1Walk-v0": WalkConfig(), "Bessemer/G1Stand-v0": STAND_CONFIG}
"""Trainable env ids and the task config each one trains."""


@dataclass(frozen=True)
class TrainConfig:
    env_id: str = "Bessemer/G1Walk-v0"
    iterations: int = 3000
    num_envs: int = 256
    steps_per_env: int = 24
    save_every: int = 25
    keep_checkpoints: int = 5
    seed: int = 1
    threads: int = 2
    randomization: str = "full"
    """`full` (every property `Randomization` varies), `pushes` (the nominal robot, pushed: what a policy
    needs to take shoves in the project's own sim) or `none`."""
    init_from: str | None = None
    """A checkpoint whose networks, normalizers and history this run starts from (e.g. a nominal run
    continued under randomization); its counters carry on, so the curve shows the whole lineage. Or an
    exported policy (`bessemer export`, the shipped `walk`): its actor and normalizer start the run,
    the critic is learned afresh and the counters start at zero."""
    actor_hidden: tuple[int, ...] = DEFAULT_HIDDEN
    critic_hidden: tuple[int, ...] = DEFAULT_HIDDEN
    init_std: float = 0.8
    stand_still_below: float | None = 0.1
    """The contract's `stand_still_below`: commands under this norm train standing still, both feet
    down; None trains the always-stepping gait of the first policies."""
    symmetry: bool = False
    """Each PPO minibatch also learns from the left-right mirror of every sample (`symmetry.py`): for
    runs that start symmetric. Turned on for an asymmetric walker mid-run (g1-walk-stand at iteration
    7,145), it degraded it: over 530 iterations mean return 20.4 -> 16.8, action noise 0.36 -> 0.41."""
    obs_history: int = 1
    """The contract's `obs_history`: observation frames the actor sees. Started `init_from` a single-frame
    policy, the run begins as that very policy (`history_start.py`)."""
    mirror_loss: float = 0.0
    """Weight of rsl_rl's mirror loss: the actor's mean action on a mirrored observation is pulled toward
    the mirror of its action on the original. Gentler than `symmetry`, which also feeds the mirrored
    samples to PPO: it leaves the rollout's returns alone and only draws the two sides together."""
    ppo: dict = field(default_factory=lambda: {
        "num_learning_epochs": 5, "num_mini_batches": 4, "clip_param": 0.2, "gamma": 0.99, "lam": 0.95,
        "value_loss_coef": 1.0, "entropy_coef": 0.01, "learning_rate": 1e-3, "max_grad_norm": 1.0,
        "schedule": "adaptive", "desired_kl": 0.01})

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        if "randomize" in data:
            data = {**data, "randomization": "full" if data["randomize"] else "none"}
        if "stand_still_below" not in data:
            data = {**data, "stand_still_below": None}
        known = {f.name for f in fields(cls)}
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known}
        return cls(**values)

    def rsl_rl(self, contract: PolicyContract) -> dict:
        """The runner configuration rsl_rl's PPO is constructed from."""
        symmetry = ({"symmetry_cfg": {"use_data_augmentation": self.symmetry, "use_mirror_loss": self.mirror_loss > 0,
                                      "mirror_loss_coeff": self.mirror_loss, "data_augmentation_func": Mirror(contract)}}
                    if self.symmetry or self.mirror_loss > 0 else {})
        return {"num_steps_per_env": self.steps_per_env, "obs_groups": {"actor": ["policy"], "critic": ["policy", "privileged"]},
                "algorithm": {"class_name": "PPO", **self.ppo, **symmetry},
                "actor": mlp_config(self.actor_hidden, self.init_std), "critic": mlp_config(self.critic_hidden),
                "multi_gpu": None}


RANDOMIZATIONS = {"full": Randomization, "pushes": Randomization.pushes_only, "none": Randomization.none}
BACKENDS = ("rollout", "warp")


@dataclass(frozen=True)
class Engine:
    """Where a run's robots and networks run: how it is computed, not what it learns, so it is not
    stored with the run (a run resumes on the backend that saved its robots' state)."""
    backend: str = "rollout"
    """`rollout` (MuJoCo's threaded rollout on the CPU) or `warp` (MuJoCo Warp)."""
    device: str = "cpu"
    """The Warp backend's device and the networks': `cpu` or `cuda:N`; the rollout backend's is the CPU."""
    local_rank: int = 0
    """This process's index on its machine, for rsl_rl's multi-process configuration."""


class RankMismatch(Exception):
    """The ranks of a distributed run would not train the same thing."""


def unknown_env(env_id: str) -> str | None:
    if env_id in ENV_CONFIGS:
        return None
    return f"unknown env id {env_id!r}: choose one of {', '.join(ENV_CONFIGS)}"


def starting_point(path: Path, contract: PolicyContract) -> dict:
    """What a new run takes from `path`: a checkpoint's networks, optimizer and counters, or an
    exported policy's actor (with its observation normalizer) alone."""
    from policies.inference import is_exported_policy, load_module, stored_contract

    if is_exported_policy(path):
        frames = stored_contract(path).get("obs_history", 1)
        if frames != contract.obs_history:
            raise CheckpointError(f"{path} sees {frames} observation frames and this run {contract.obs_history}: "
                                  f"give the run --obs-history {frames}")
        return {"exported_actor": load_module(path, contract).state_dict()}
    saved = load_checkpoint(path)
    check_contract(path, saved["contract"], contract)
    start = {k: saved[k] for k in ("algorithm", "iteration", "env_steps", "wall_seconds", "history")}
    frames = saved["contract"].get("obs_history", 1)
    if frames != contract.obs_history:
        if frames != 1:
            raise CheckpointError(f"{path} sees {frames} observation frames and this run {contract.obs_history}: "
                                  "start a run with history from a single-frame policy, or give it its own frames")
        start["algorithm"] = widen_to_history(saved["algorithm"], contract.frame_size, contract.obs_history)
    return start


def load_exported_actor(actor: torch.nn.Module, state: dict, source: str) -> None:
    """An export carries the actor's mean network and normalizer; its exploration noise is this run's."""
    try:
        missing, unexpected = actor.load_state_dict(state, strict=False)
    except RuntimeError as e:
        raise CheckpointError(f"{source}'s network does not fit this run's actor ({str(e).strip().splitlines()[-1].strip()}); "
                              "give --init-from a policy of the same layers") from None
    if unexpected or any(not key.startswith("distribution.") for key in missing):
        raise CheckpointError(f"{source}'s network does not fit this run's actor (missing {missing}, "
                              f"unexpected {unexpected})")


class Trainer:
    def __init__(self, config: TrainConfig, run_dir: Path, resume: bool = False,
                 contract: PolicyContract | None = None, iterations: int | None = None,
                 engine: Engine | None = None) -> None:
        """A new run of `config`, or with `resume` the run in `run_dir` under its own config
        (`iterations`, if given, moves its end)."""
        self.run_dir = run_dir
        self.engine = engine or Engine()
        device = self.engine.device if self.engine.backend == "warp" else "cpu"
        self.ranks = Ranks.current(device)
        self.latest = run_dir / "latest.pt"
        saved = None
        if resume:
            saved = load_checkpoint(self.latest)
            stored = TrainConfig.from_dict(saved["train_config"])
            config = replace(stored, iterations=iterations or stored.iterations)
        self.contract = replace(contract or PolicyContract(), stand_still_below=config.stand_still_below,
                                obs_history=config.obs_history)
        if resume:
            check_contract(self.latest, saved["contract"], self.contract)
        elif self.latest.exists():
            raise CheckpointError(f"{run_dir} already holds a run: resume it with --resume or choose another --run-dir")
        elif config.init_from is not None:
            saved = starting_point(Path(config.init_from), self.contract)
        if (problem := unknown_env(config.env_id)) is not None:
            raise CheckpointError(problem)
        if (problem := self.ranks.disagreement(self.contract.as_dict(), asdict(config))) is not None:
            raise RankMismatch(problem)
        own = _rank_state(saved, self.ranks, self.engine, self.latest) if resume else None
        self.config = config
        seed = config.seed + self.ranks.rank
        torch.manual_seed(seed)
        torch.set_num_threads(config.threads)
        randomization = RANDOMIZATIONS[config.randomization]()
        if self.engine.backend == "warp":
            vector = G1WalkWarpEnv(config.num_envs, ENV_CONFIGS[config.env_id], self.contract,
                                   randomization=randomization, seed=seed, warp=WarpConfig(device=device))
        else:
            vector = G1WalkVectorEnv(config.num_envs, ENV_CONFIGS[config.env_id], self.contract,
                                     threads=config.threads, randomization=randomization, seed=seed)
        self.env = RslVecEnv(vector, seed=seed)
        rsl_cfg = {**config.rsl_rl(self.contract), "multi_gpu": self.ranks.rsl_rl(self.engine.local_rank)}
        with contextlib.redirect_stdout(io.StringIO()):
            self.alg: PPO = PPO.construct_algorithm(self.env.get_observations(), self.env, rsl_cfg, self.env.device)
        self.iteration, self.env_steps, self.wall_seconds, self.history = 0, 0, 0.0, []
        if saved is not None and "exported_actor" in saved:
            load_exported_actor(self.alg.actor, saved["exported_actor"], config.init_from)
        elif saved is not None:
            self.alg.load(saved["algorithm"], None, strict=True)
            if own is not None:
                self.env.restore(own["env"])
                torch.set_rng_state(own["torch_rng"])
                if "cuda_rng" in own:
                    torch.cuda.set_rng_state(own["cuda_rng"], self.env.device)
            self.iteration, self.env_steps = saved["iteration"], saved["env_steps"]
            self.wall_seconds, self.history = saved["wall_seconds"], saved["history"]
        if self.ranks.distributed:
            self.alg.broadcast_parameters()
        self.saving = False
        """True while a checkpoint is being written: what interrupts the process now loses it."""
        self._stop = threading.Event()
        self._writer = None

    # -- one PPO iteration ---------------------------------------------------------------------------
    def _iterate(self) -> dict:
        start = time.perf_counter()
        physics_before = self.env.env.physics_seconds
        obs = self.env.get_observations()
        with torch.inference_mode():
            for _ in range(self.config.steps_per_env):
                actions = self.alg.act(obs)
                obs, rewards, dones, extras = self.env.step(actions)
                self.alg.process_env_step(obs, rewards, dones, extras)
            self.alg.compute_returns(obs)
        collect = time.perf_counter() - start
        losses = self.alg.update()
        seconds = time.perf_counter() - start
        self.iteration += 1
        samples = self.config.num_envs * self.config.steps_per_env * self.ranks.world
        self.env_steps += samples
        self.wall_seconds += seconds
        returns, lengths = self.env.finished_returns, self.env.finished_lengths
        row = {"iteration": self.iteration, "env_steps": self.env_steps, "wall_seconds": self.wall_seconds,
               "samples_per_second": samples / seconds, "collect_seconds": collect,
               "physics_seconds": self.env.env.physics_seconds - physics_before,
               "mean_return": float(np.mean(returns)) if returns else float("nan"),
               "mean_episode_seconds": float(np.mean(lengths)) * self.contract.control_dt if lengths else float("nan"),
               "action_std": float(self.alg.get_policy().output_std.detach().mean()), "learning_rate": self.alg.learning_rate,
               **{f"loss_{k}": float(v) for k, v in losses.items()}, **self.env.take_term_means()}
        return row

    # -- persistence ---------------------------------------------------------------------------------
    def save(self) -> Path | None:
        """Write a checkpoint (every rank takes part; rank 0 writes it and returns its path)."""
        self.saving = True
        try:
            path = self._save()
            self.ranks.wait_for_all()
            return path
        finally:
            self.saving = False

    def _own_state(self) -> dict:
        state = {"env": self.env.snapshot(), "torch_rng": torch.get_rng_state()}
        if self.env.device.startswith("cuda"):
            state["cuda_rng"] = torch.cuda.get_rng_state(self.env.device)
        return state

    def _save(self) -> Path | None:
        everyone = self.ranks.gather(self._own_state())
        if not self.ranks.main:
            return None
        payload = {"contract": self.contract.as_dict(), "contract_hash": self.contract.hash(),
                   "train_config": asdict(self.config), "iteration": self.iteration, "env_steps": self.env_steps,
                   "wall_seconds": self.wall_seconds, "history": self.history, "algorithm": self.alg.save(),
                   **everyone[0]}
        if self.ranks.distributed:
            payload["ranks"] = everyone[1:]
        numbered = self.run_dir / "checkpoints" / f"model_{self.iteration:06d}.pt"
        save_checkpoint(numbered, payload)
        save_checkpoint(self.latest, payload)
        for old in sorted(numbered.parent.glob("model_*.pt"))[: -self.config.keep_checkpoints]:
            old.unlink()
        if self.history:
            plot_learning_curve(self.history, self.run_dir / "learning_curve.png",
                                f"{self.config.env_id}: PPO (rsl_rl), {self.config.num_envs} robots")
        return numbered

    def _log(self, row: dict) -> None:
        from torch.utils.tensorboard import SummaryWriter

        if self._writer is None:
            self._writer = SummaryWriter(str(self.run_dir / "tensorboard"), purge_step=self.iteration)
        for key, value in row.items():
            if key != "iteration" and np.isfinite(value):
                self._writer.add_scalar(key if key.startswith(("loss_", "mean_")) else f"train/{key}", value,
                                        self.iteration)

    # -- the run -------------------------------------------------------------------------------------
    def request_stop(self) -> None:
        """End the run after the iteration under way, saving it; safe from a signal handler or another thread."""
        self._stop.set()

    def run(self, on_iteration: Callable[[dict], None] | None = None) -> bool:
        """Train until `config.iterations`; True when finished, False when stopped early (and saved).
        `on_iteration` gets each iteration's row of figures, as `history` keeps it (on every rank). A run that fails
        before its first checkpoint leaves no run folder behind (only one it made itself)."""
        main = self.ranks.main
        made_folder = main and not self.run_dir.exists()
        if main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            (self.run_dir / "config.json").write_text(json.dumps(
                {"train": asdict(self.config), "contract": self.contract.as_dict(), "contract_hash": self.contract.hash()},
                indent=2))
        try:
            while self.iteration < self.config.iterations and not self.ranks.any(self._stop.is_set()):
                row = self._iterate()
                self.history.append(row)
                if main:
                    self._log(row)
                if on_iteration is not None:
                    on_iteration(row)
                if self.iteration % self.config.save_every == 0:
                    self.save()
            if self.iteration % self.config.save_every != 0 or self.iteration == 0:
                self.save()
        except BaseException:
            if made_folder and not self.latest.exists():
                shutil.rmtree(self.run_dir, ignore_errors=True)
            raise
        finally:
            if self._writer is not None:
                self._writer.close()
        return self.iteration >= self.config.iterations


def _rank_state(saved: dict, ranks: Ranks, engine: Engine, path: Path) -> dict:
    """This rank's robots and random streams in a checkpoint, refused in one line when the checkpoint
    was written by another number of ranks or by the other backend."""
    backend = "warp" if "qpos" in saved["env"]["env"]["arrays"] else "rollout"
    if backend != engine.backend:
        raise CheckpointError(f"{path} holds the {backend} backend's robots: resume it with --backend {backend}")
    others = saved.get("ranks", [])
    if len(others) + 1 != ranks.world:
        raise CheckpointError(f"{path} was saved by {len(others) + 1} process(es): resume it with --nproc "
                              f"{len(others) + 1}")
    return saved if ranks.rank == 0 else others[ranks.rank - 1]
