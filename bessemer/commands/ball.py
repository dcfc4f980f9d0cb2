"""`bessemer ball train` and `bessemer ball plot`: the ball predictor, learned from throws the project's
own simulation rolls and its head camera watches, judged on held-out throws against a constant-velocity
Kalman filter, and drawn on them."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bessemer.commands import CliError, arg_types, check_outputs


def train(args: argparse.Namespace) -> int:
    import torch
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from bessemer.bench.ball_prediction import judge, print_ball_report, record_held_out
    from perception.ball_predictor import BallPredictorConfig
    from perception.training.ball import (HELD_OUT_FIRST_SEED, TRAIN_FIRST_SEED, BallTrainConfig, samples_from_tracks,
                                          train_predictor)
    from sim.ball_tracks import TrackConfig, record_tracks

    given = {k: getattr(args, k) for k in ("tracks", "epochs") if getattr(args, k) is not None}
    config = BallTrainConfig(**given)
    held_out = range(HELD_OUT_FIRST_SEED, HELD_OUT_FIRST_SEED + args.eval_tracks)
    if TRAIN_FIRST_SEED + config.tracks > held_out.start:
        raise CliError(f"--tracks {config.tracks} would reach the held-out seeds ({held_out.start}+): "
                       f"use at most {held_out.start - TRAIN_FIRST_SEED}")
    out = Path(args.out)
    check_outputs({}, {"--out": out}, keep=("--out",), force=args.force)
    torch.set_num_threads(args.threads)
    columns = (TextColumn("[bold]{task.description}[/]"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[status]}"), TimeRemainingColumn())
    start = time.perf_counter()
    with Progress(*columns, disable=args.quiet) as progress:
        task = progress.add_task(f"throws (seeds {TRAIN_FIRST_SEED}+)", total=config.tracks, status="")
        predictor_config = BallPredictorConfig()
        tracks = record_tracks(range(TRAIN_FIRST_SEED, TRAIN_FIRST_SEED + config.tracks),
                               TrackConfig(rate_hz=predictor_config.rate_hz),
                               progress=lambda done: progress.update(task, completed=done))
        samples = samples_from_tracks(tracks, predictor_config)
        task = progress.add_task("train", total=config.epochs, status="")
        predictor = train_predictor(samples, config, predictor_config, on_epoch=lambda row: progress.update(
            task, completed=row["epoch"], status=f"loss {row['loss']:.4f}"))
    minutes = (time.perf_counter() - start) / 60
    print(f"trained on {len(samples.windows)} frames of {config.tracks} throws ({config.epochs} epochs) in "
          f"{minutes:.1f} min on {args.threads} thread(s)")
    partial = out.with_name(f".{out.name}.partial")
    try:
        predictor.save(partial, trained={"first_seed": TRAIN_FIRST_SEED, "tracks": config.tracks,
                                         "epochs": config.epochs, "frames": len(samples.windows)})
        partial.replace(out)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise CliError(f"could not write the predictor {out}: {exc.strerror}") from None
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB)")
    recorded = record_held_out(args.eval_tracks, predictor_config.rate_hz, quiet=args.quiet)
    print_ball_report(judge(predictor, recorded))
    return 0


def plot(args: argparse.Namespace) -> int:
    import torch

    from bessemer.bench.ball_prediction import record_held_out
    from perception.ball_predictor import SHIPPED_WEIGHTS, BallPredictor
    from perception.training.ball import evaluate_predictor
    from perception.training.ball_plot import plot_forecasts

    out = Path(args.out)
    check_outputs({"--weights": args.weights}, {"--out": out}, keep=("--out",), force=args.force)
    torch.set_num_threads(1)
    predictor = BallPredictor.load(args.weights or SHIPPED_WEIGHTS)
    tracks = record_held_out(args.throws, predictor.config.rate_hz, quiet=args.quiet)
    drawn = plot_forecasts(predictor, tracks, evaluate_predictor(predictor, tracks).kalman, out)
    print(f"wrote {out}: {drawn} of {args.throws} held-out throws (those seen rolling for half a second)")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Defaults left as None come from `BallTrainConfig`, read when the command runs (no torch to build the parser)."""
    ball = sub.add_parser("ball", help="the rolling-ball predictor: train it on simulated throws the head camera watched")
    actions = ball.add_subparsers(dest="ball_command", required=True)
    p = actions.add_parser("train", help="roll and watch throws, train the predictor, write its weights, "
                                         "judge it on held-out throws against a constant-velocity Kalman filter")
    p.add_argument("--tracks", type=arg_types.int_in(1, 10**6, "a number of throws"),
                   help="training throws (default: the shipped predictor's recipe, 400)")
    p.add_argument("--epochs", type=arg_types.int_in(1, 10**4, "a number of epochs"),
                   help="passes over their frames (default: the recipe's)")
    p.add_argument("--eval-tracks", type=arg_types.int_in(1, 10**4, "a number of throws"), default=60,
                   help="held-out throws to judge on (default 60)")
    p.add_argument("--out", type=arg_types.output_file, default="ball_predictor.pt", metavar="PATH",
                   help="weights file to write (default ball_predictor.pt)")
    p.add_argument("--threads", type=arg_types.threads, default=1, help="torch threads (default 1)")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=train)

    p = actions.add_parser("plot", help="held-out throws seen from above: the true path, the detections, and the "
                                        "learned and constant-velocity forecasts from one moment, as a PNG")
    p.add_argument("--out", type=arg_types.output_file, default="ball_forecasts.png", metavar="PATH.png",
                   help="image to write (default ball_forecasts.png)")
    p.add_argument("--weights", type=arg_types.existing_file, metavar="PATH",
                   help="predictor weights (default: the shipped predictor)")
    p.add_argument("--throws", type=arg_types.int_in(1, 1000, "a number of throws"), default=8,
                   help="held-out throws to render, of which the first four seen rolling are drawn (default 8)")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=plot)
