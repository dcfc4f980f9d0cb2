"""`bessemer vision train` and `bessemer vision eval`: the ball encoder, learned from and judged on
the project's own head-camera renders."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bessemer.commands import CliError, arg_types, check_outputs

if TYPE_CHECKING:
    from perception.training.vision import VisionTrainConfig
    from perception.vision_encoder import VisionEncoder
    from sim.ball_frames import BallFrames


def _render(count: int, seed: int, quiet: bool):
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from sim.ball_frames import render_ball_frames

    columns = (TextColumn(f"[bold]render[/] seed {seed}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, disable=quiet) as progress:
        task = progress.add_task("render", total=count)
        frames = render_ball_frames(count, seed, progress=lambda done: progress.update(task, completed=done))
    print(f"rendered {count} frames of 224x224 (seed {seed}) in {frames.render_seconds:.1f} s: "
          f"{frames.frames_per_second:.0f} frames/s, ball in view in {int(frames.present.sum())}")
    return frames


def _train(frames: BallFrames, config: VisionTrainConfig, quiet: bool) -> tuple[VisionEncoder, list[dict]]:
    """`train_encoder` under a progress bar (none when `quiet`): the steps, the last epoch's losses."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from perception.training.vision import VisionProgress, train_encoder

    columns = (TextColumn("[bold]vision[/]"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[status]}"),
               TimeRemainingColumn())
    with Progress(*columns, disable=quiet) as progress:
        task = progress.add_task("train", total=None, status="")

        def show(at: VisionProgress) -> None:
            progress.update(task, total=at.steps, completed=at.step)
            if (row := at.epoch) is not None:
                progress.update(task, status=f"epoch {row['epoch']}: presence {row['presence_loss']:.3f}  "
                                             f"bearing {row['bearing_loss']:.3f}  distance {row['distance_loss']:.3f}")

        return train_encoder(frames, config, on_progress=show)


def _report(result, seed: int) -> None:
    print(f"held out (seed {seed}, {result.frames} frames, {result.present_frames} with the ball in view): "
          f"presence accuracy {100 * result.presence_accuracy:.1f} %, bearing error median "
          f"{result.bearing_median_deg:.1f} deg, p90 {result.bearing_p90_deg:.1f} deg, distance error median "
          f"{100 * result.distance_median:.1f} %, p90 {100 * result.distance_p90:.1f} %")


def train(args: argparse.Namespace) -> int:
    import torch

    from perception.training.vision import HELD_OUT_SEED, VisionTrainConfig, evaluate_encoder

    given = {k: getattr(args, k) for k in ("frames", "epochs", "batch", "lr", "seed") if getattr(args, k) is not None}
    config = VisionTrainConfig(**given)
    eval_seed = HELD_OUT_SEED if args.eval_seed is None else args.eval_seed
    if eval_seed == config.seed:
        raise CliError(f"--eval-seed {eval_seed} is the training seed: held-out frames need another")
    out = Path(args.out)
    check_outputs({}, {"--out": out}, keep=("--out",), force=args.force)
    torch.set_num_threads(args.threads)
    frames = _render(config.frames, config.seed, args.quiet)
    start = time.perf_counter()
    encoder, history = _train(frames, config, args.quiet)
    minutes = (time.perf_counter() - start) / 60
    last = history[-1]
    print(f"trained {encoder.summary()}")
    print(f"  {config.epochs} epochs of {config.frames} frames in {minutes:.1f} min on {args.threads} thread(s); "
          f"last epoch: presence loss {last['presence_loss']:.3f}, bearing loss {last['bearing_loss']:.3f}, "
          f"distance loss {last['distance_loss']:.3f}")
    encoder.save(out, trained={"seed": config.seed, "frames": config.frames, "epochs": config.epochs})
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB)")
    _report(evaluate_encoder(encoder, _render(args.eval_frames, eval_seed, args.quiet)), eval_seed)
    return 0


def evaluate(args: argparse.Namespace) -> int:
    import torch

    from perception.vision_encoder import SHIPPED_WEIGHTS, VisionEncoder
    from perception.training.vision import HELD_OUT_SEED, evaluate_encoder

    seed = HELD_OUT_SEED if args.seed is None else args.seed
    torch.set_num_threads(args.threads)
    weights = Path(args.weights) if args.weights else SHIPPED_WEIGHTS
    encoder = VisionEncoder.load(weights)
    if encoder.trained.get("seed") == seed:
        raise CliError(f"{weights} was trained on seed {seed}: give another --seed for held-out frames")
    print(f"{weights}: {encoder.summary()}")
    _report(evaluate_encoder(encoder, _render(args.frames, seed, args.quiet)), seed)
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Defaults left as None come from `VisionTrainConfig` and the seeds in `perception.training.vision`,
    read when the command runs, so building the parser imports no torch."""
    vision = sub.add_parser("vision", help="the head camera's ball encoder: train it on rendered frames, evaluate it")
    actions = vision.add_subparsers(dest="vision_command", required=True)

    p = actions.add_parser("train", help="render labelled frames, train the encoder, write its weights, evaluate it")
    p.add_argument("--frames", type=arg_types.int_in(1, 10**6, "a number of frames"),
                   help="training frames (default: the shipped encoder's recipe)")
    p.add_argument("--epochs", type=arg_types.int_in(1, 10**4, "a number of epochs"),
                   help="passes over them (default: the recipe's)")
    p.add_argument("--batch", type=arg_types.int_in(1, 4096, "a batch size"),
                   help="frames per step (default: the recipe's)")
    p.add_argument("--lr", type=arg_types.float_in(0.0, 1.0, low_open=True, what="a learning rate"),
                   help="peak learning rate (default: the recipe's)")
    p.add_argument("--seed", type=arg_types.seed, help="render and training seed (default: the shipped encoder's)")
    p.add_argument("--eval-frames", type=arg_types.int_in(1, 10**6, "a number of frames"), default=200,
                   help="held-out frames to evaluate on (default 200)")
    p.add_argument("--eval-seed", type=arg_types.seed, help="their seed (default: the held-out seed, as for eval)")
    p.add_argument("--out", type=arg_types.output_file, default="ball_vit.pt", metavar="PATH",
                   help="weights file to write (default ball_vit.pt)")
    p.add_argument("--threads", type=arg_types.threads, default=1, help="torch threads (default 1)")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=train)

    p = actions.add_parser("eval", help="presence accuracy and bearing error on freshly rendered held-out frames")
    p.add_argument("--weights", type=arg_types.existing_file, metavar="PATH",
                   help="weights file (default: the shipped encoder)")
    p.add_argument("--frames", type=arg_types.int_in(1, 10**6, "a number of frames"), default=200,
                   help="frames to render (default 200)")
    p.add_argument("--seed", type=arg_types.seed, help="their seed (default: the held-out seed, never trained on)")
    p.add_argument("--threads", type=arg_types.threads, default=1, help="torch threads (default 1)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=evaluate)
