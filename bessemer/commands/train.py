"""`bessemer train` and `bessemer export`: learn a policy and ship it.

`bessemer train --nproc N` starts N training processes on this machine, each a rank of one
torch.distributed process group (gloo on the CPU, NCCL on GPUs); under `torchrun` (several
machines) each process finds its rank in the environment torchrun sets. Ctrl-C reaches every rank
from the terminal, SIGTERM to the launcher is passed on, and the ranks stop and save together.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from bessemer.commands import CliError, arg_types, check_outputs

if TYPE_CHECKING:
    from policies.training.trainer import Trainer


@contextlib.contextmanager
def _stop_on_signals(trainer: Trainer) -> Iterator[None]:
    """Ctrl-C or SIGTERM: the run finishes the iteration under way and saves it. Another one abandons
    the iteration (the run resumes from its last checkpoint), but is ignored while a checkpoint is being
    written, which it would otherwise lose."""
    requested = False

    def handle(signum: int, frame: object) -> None:
        nonlocal requested
        if not requested:
            requested = True
            trainer.request_stop()
        elif not trainer.saving:
            raise KeyboardInterrupt

    previous = {s: signal.signal(s, handle) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _run_with_progress(trainer: Trainer, quiet: bool) -> bool:
    """The run under a progress bar (none when `quiet`); True when it finished, False when stopped."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn("[bold]train[/]"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[status]}"),
               TimeRemainingColumn())
    with _stop_on_signals(trainer), Progress(*columns, disable=quiet) as progress:
        task = progress.add_task("train", total=trainer.config.iterations, completed=trainer.iteration, status="")

        def show(row: dict) -> None:
            progress.update(task, completed=row["iteration"], status=(
                f"{row['samples_per_second']:,.0f} samples/s  return {row['mean_return']:.2f}  "
                f"episode {row['mean_episode_seconds']:.1f} s  std {row['action_std']:.2f}"))

        return trainer.run(on_iteration=show)


def _check_engine(args: argparse.Namespace) -> None:
    """Refuse, in one line, a backend or device this machine cannot run, before anything starts."""
    if args.backend == "rollout" and args.device != "cpu":
        raise CliError(f"--device {args.device}: the rollout backend runs on the CPU; use --backend warp for a GPU")
    if args.backend == "warp":
        from sim.envs.warp_support import warp_problem

        if args.device.startswith("cuda"):
            import torch

            if not torch.cuda.is_available():
                raise CliError(f"--device {args.device}: torch finds no CUDA GPU here (no GPU, or a CPU build of "
                               "torch); use --device cpu")
            if args.nproc > torch.cuda.device_count():
                raise CliError(f"--nproc {args.nproc} with --device cuda needs a GPU per process; this machine "
                               f"has {torch.cuda.device_count()}")
        if (problem := warp_problem(args.device)) is not None:
            raise CliError(problem)


def _join_process_group(args: argparse.Namespace) -> tuple[str, int]:
    """This process's device and local rank; inside a torch.distributed launch (WORLD_SIZE > 1), join
    the process group: gloo for CPU tensors, NCCL for GPU ones, one GPU per process on a machine."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    device = args.device
    if world <= 1:
        return device, 0
    import torch
    import torch.distributed as dist

    if device.startswith("cuda"):
        device = f"cuda:{local}"
        torch.cuda.set_device(local)
    dist.init_process_group("nccl" if device.startswith("cuda") else "gloo")
    return device, local


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rank_main(args: argparse.Namespace, rank: int, world: int, port: int) -> None:
    """One rank of `--nproc`, as torchrun would start it: the environment names its place."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank), LOCAL_WORLD_SIZE=str(world))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        code = train(args)
    except CliError as exc:
        if rank == 0:
            print(f"bessemer: error: {exc}", file=sys.stderr)
        code = 2
    sys.exit(code)


def _launch(args: argparse.Namespace) -> int:
    """`--nproc N`: N ranks on this machine; Ctrl-C reaches each from the terminal, SIGTERM is passed on."""
    import torch.multiprocessing as mp

    ctx = mp.get_context("spawn")
    port = _free_port()
    ranks = [ctx.Process(target=_rank_main, args=(args, rank, args.nproc, port)) for rank in range(args.nproc)]
    previous = {signal.SIGINT: signal.signal(signal.SIGINT, signal.SIG_IGN)}
    for process in ranks:
        process.start()
    previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, lambda *_: [p.terminate() for p in ranks if p.is_alive()])
    try:
        for process in ranks:
            process.join()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    return max(process.exitcode if process.exitcode >= 0 else 128 - process.exitcode for process in ranks)


def train(args: argparse.Namespace) -> int:
    from policies.checkpoint import CheckpointError
    from policies.training.trainer import Engine, RankMismatch, Trainer, TrainConfig

    if args.resume and args.init_from:
        raise CliError("--init-from starts a new run and --resume continues one: give one of them")
    _check_engine(args)
    if args.resume:
        run_dir = Path(args.resume)
    else:
        name = args.env.split("/")[-1].lower() + time.strftime("-%Y%m%d-%H%M%S")
        run_dir = Path(args.run_dir) if args.run_dir else Path("runs") / name
    if args.nproc > 1 and "WORLD_SIZE" not in os.environ:
        return _launch(argparse.Namespace(**{**vars(args), "run_dir": None if args.resume else str(run_dir)}))
    device, local_rank = _join_process_group(args)
    main = int(os.environ.get("RANK", "0")) == 0
    defaults = TrainConfig()
    ppo = {**defaults.ppo, "entropy_coef": args.entropy_coef}
    config = TrainConfig(env_id=args.env, iterations=defaults.iterations if args.iterations is None else args.iterations, num_envs=args.num_envs,
                         steps_per_env=args.steps_per_env, save_every=args.save_every, seed=args.seed,
                         threads=args.threads, randomization=args.randomization,
                         init_from=str(args.init_from) if args.init_from else None,
                         init_std=defaults.init_std if args.init_std is None else args.init_std, ppo=ppo,
                         symmetry=args.symmetry, mirror_loss=args.mirror_loss, obs_history=args.obs_history)
    try:
        trainer = Trainer(config, run_dir, resume=bool(args.resume), iterations=args.iterations,
                          engine=Engine(args.backend, device, local_rank))
    except (CheckpointError, RankMismatch) as exc:
        raise CliError(str(exc)) from None
    if not main:
        return 0 if _run_with_progress(trainer, quiet=True) else 130
    if args.init_from:
        print(f"starting {run_dir} from {args.init_from}'s policy at iteration {trainer.iteration} "
              f"({trainer.env_steps:,} env steps so far)")
    if args.resume:
        print(f"resuming {run_dir} at iteration {trainer.iteration} of {trainer.config.iterations} "
              f"({trainer.env_steps:,} env steps so far)")
    finished = _run_with_progress(trainer, args.quiet)
    last = trainer.history[-1] if trainer.history else {}
    print(f"{'finished' if finished else 'stopped and saved'} at iteration {trainer.iteration}: "
          f"{trainer.env_steps:,} env steps in {trainer.wall_seconds / 60:.1f} min, "
          f"mean return {last.get('mean_return', float('nan')):.2f}")
    print(f"checkpoint {trainer.latest}  curve {run_dir / 'learning_curve.png'}  "
          f"tensorboard --logdir {run_dir / 'tensorboard'}")
    if not finished:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        extra = "".join(f" {flag} {value}" for flag, value, usual in (
            ("--backend", args.backend, "rollout"), ("--device", args.device, "cpu"), ("--nproc", world, 1))
            if value != usual)
        print(f"resume with: bessemer train --resume {run_dir}{extra}")
    return 0 if finished else 130


def export(args: argparse.Namespace) -> int:
    from policies.checkpoint import CheckpointError
    from policies.contract import PolicyContract
    from policies.inference import stored_contract
    from policies.training.export import export_policy

    checkpoint = Path(args.checkpoint)
    out = Path(args.out) if args.out else checkpoint.with_name("policy")
    check_outputs({"checkpoint": checkpoint}, {"--out (.pt)": out.with_suffix(".pt"), "--out (.onnx)": out.with_suffix(".onnx")},
                  keep=("--out (.pt)", "--out (.onnx)"), force=args.force)
    try:
        paths = export_policy(checkpoint, out)
    except CheckpointError as exc:
        raise CliError(str(exc)) from None
    for path in paths:
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")
    contract = PolicyContract().with_choices_of(stored_contract(paths[0]))
    frames = f" ({contract.obs_history} frames of {contract.frame_size})" if contract.obs_history > 1 else ""
    print(f"contract {contract.hash()}: {contract.action_size} leg joints, {contract.obs_size} observations{frames}, "
          f"{1 / contract.control_dt:g} Hz")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a policy with PPO (rsl_rl) on the batched MuJoCo env")
    p.add_argument("--env", type=arg_types.env_id, default="Bessemer/G1Walk-v0",
                   help="Bessemer/G1Walk-v0 (default) or Bessemer/G1Stand-v0")
    p.add_argument("--iterations", type=arg_types.count,
                   help="PPO iterations of the whole run (default 3000; with --resume: "
                                                   "the run's own, or more to extend it)")
    p.add_argument("--num-envs", type=arg_types.int_in(1, 65536, "a number of robots"), default=256,
                   help="robots simulated together (default 256)")
    p.add_argument("--steps-per-env", type=arg_types.int_in(1, 10000, "a number of steps"), default=24,
                   help="steps per robot per iteration (default 24)")
    p.add_argument("--save-every", type=arg_types.count, default=25, help="iterations between checkpoints (default 25)")
    p.add_argument("--seed", type=arg_types.seed, default=1)
    p.add_argument("--threads", type=arg_types.threads, default=2, help="physics and torch threads (default 2)")
    p.add_argument("--entropy-coef", type=arg_types.float_in(0.0, 1.0, what="a coefficient"), default=0.01,
                   help="PPO's entropy bonus (default 0.01); lower it when fine-tuning a policy that already walks, "
                        "so exploration noise does not grow back")
    p.add_argument("--symmetry", action="store_true",
                   help="each PPO minibatch also learns from the left-right mirror of every sample (for a run that "
                        "starts from scratch or a symmetric policy)")
    p.add_argument("--obs-history", type=arg_types.int_in(1, 50, "a number of frames"), default=1, metavar="FRAMES",
                   help="observation frames the policy sees, the current one and those before it (default 1); "
                        "with --init-from a single-frame policy, the run starts as that very policy")
    p.add_argument("--mirror-loss", type=arg_types.float_in(0.0, 100.0, what="a weight"), default=0.0, metavar="WEIGHT",
                   help="weight of a loss that draws the actor's left and right mirror images together (default 0: "
                        "off); gentler than --symmetry, for a walker that is already lopsided")
    p.add_argument("--randomization", choices=("full", "pushes", "none"), default="full",
                   help="full: friction, masses, payload, gains, latency, pushes, sensor noise (default); "
                        "pushes: the nominal robot, pushed; none: the nominal robot only")
    p.add_argument("--run-dir", type=arg_types.output_dir, metavar="DIR",
                   help="where checkpoints, TensorBoard logs and the curve go "
                                                    "(default runs/<env>-<time>)")
    p.add_argument("--resume", type=arg_types.existing_dir, metavar="DIR",
                   help="go on with the run in DIR from its last checkpoint")
    p.add_argument("--init-from", type=arg_types.existing_file, metavar="CHECKPOINT",
                   help="start a new run from another run's policy (its networks, "
                                                             "normalizers and counters), e.g. to add randomization; "
                                                             "or from an exported policy's actor (e.g. "
                                                             "policies/assets/g1_walk.pt)")
    p.add_argument("--init-std", type=arg_types.float_in(0.0, 10.0, low_open=True, what="a standard deviation"),
                   help="the actor's initial exploration noise (default 0.8); lower (e.g. 0.3) to fine-tune a "
                        "policy that already walks")
    p.add_argument("--backend", choices=("rollout", "warp"), default="rollout",
                   help="rollout: MuJoCo's threaded rollout on the CPU (default); warp: MuJoCo Warp, on a GPU with "
                        "--device cuda (needs the warp extra: pip install -e '.[warp]')")
    p.add_argument("--device", type=arg_types.device, default="cpu",
                   help="where the Warp backend and the networks run: cpu (default), cuda or cuda:N")
    p.add_argument("--nproc", type=arg_types.int_in(1, 256, "a number of processes"), default=1,
                   help="training processes on this machine (torch.distributed: gloo on CPUs, NCCL with "
                        "--device cuda, one GPU each); each its own --num-envs robots and seed, gradients "
                        "averaged. For several machines start `torchrun -m bessemer train` on each instead")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=train)

    p = sub.add_parser("export", help="export a checkpoint's policy to TorchScript and ONNX, contract inside")
    p.add_argument("checkpoint", type=arg_types.existing_file,
                   help="a checkpoint written by `bessemer train` (e.g. runs/NAME/latest.pt)")
    p.add_argument("--out", type=arg_types.output_file, metavar="PATH",
                   help="output path without suffix (default: policy beside the checkpoint)")
    p.add_argument("--force", action="store_true", help="overwrite an existing export")
    p.set_defaults(func=export)
