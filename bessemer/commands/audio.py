"""`bessemer audio train` and `bessemer audio eval`: the source detector behind the sound bearing and
the sound classifier, fitted on and judged against the project's own synthesized scenes."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bessemer.commands import CliError, arg_types, check_outputs

if TYPE_CHECKING:
    from perception.training.sound_classifier import SoundEvaluation, SoundScenes


def _bar(label: str, quiet: bool):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(TextColumn(f"[bold]{label}[/]"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    disable=quiet)


def _scenes(clips: int, seed: int, rooms: int, label: str, quiet: bool) -> SoundScenes:
    from perception.codebook import SHIPPED_CODEBOOK, AudioCodebook
    from perception.training.sound_classifier import synthesize_scenes

    with _bar(label, quiet) as progress:
        task = progress.add_task(label)
        return synthesize_scenes(AudioCodebook.load(SHIPPED_CODEBOOK), clips, seed, rooms,
                                 progress=lambda done, total: progress.update(task, completed=done, total=total))


def _report(result: SoundEvaluation, clips: int) -> None:
    from perception.sound_classes import SOUND_CLASSES

    print(f"held out ({clips} scenes per class, {result.windows} one-second windows): accuracy "
          f"{100 * result.accuracy:.1f} %")
    width = max(len(c) for c in SOUND_CLASSES) + 2
    print("true \\ said".ljust(width + 4) + "".join(c.rjust(width) for c in SOUND_CLASSES))
    for name, row in zip(SOUND_CLASSES, result.confusion):
        print(f"    {name.ljust(width)}" + "".join(str(v).rjust(width) for v in row))


def _save_atomically(save, path: Path) -> None:
    partial = path.with_name(f".{path.name}.partial{path.suffix}")
    try:
        save(partial)
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise CliError(f"could not write {path}: {exc.strerror}") from None


def train(args: argparse.Namespace) -> int:
    import torch

    outputs = {"--detector-out": None if args.classifier_only else args.detector_out,
               "--classifier-out": None if args.detector_only else args.classifier_out}
    check_outputs({}, outputs, keep=tuple(outputs), force=args.force)
    torch.set_num_threads(args.threads)
    if not args.classifier_only:
        _train_detector(args)
    if not args.detector_only:
        _train_classifier(args)
    return 0


def _train_detector(args: argparse.Namespace) -> None:
    import numpy as np

    from perception.training.source_detector import DetectorTrainConfig, detector_examples, fit_detector

    detector_config = DetectorTrainConfig(scenes=args.scenes)
    with _bar("detector scenes", args.quiet) as progress:
        task = progress.add_task("scenes", total=args.scenes)
        features, sounding = detector_examples(detector_config, lambda done, total: progress.update(task, completed=done))
    detector = fit_detector(features, sounding, detector_config)
    flagged = float(np.mean([detector.probability(f) < detector.threshold for f in features[~sounding]]))
    found = float(np.mean([detector.probability(f) >= detector.threshold for f in features[sounding]]))
    _save_atomically(detector.save, args.detector_out)
    print(f"source detector: {len(features)} blocks of {args.scenes} scenes ({int(sounding.sum())} sounding); on them "
          f"{100 * flagged:.1f} % of silent blocks flagged, {100 * found:.1f} % of sounding ones kept; "
          f"wrote {args.detector_out}")


def _train_classifier(args: argparse.Namespace) -> None:
    from perception.training.sound_classifier import HELD_OUT_SEED, SoundTrainConfig, evaluate_classifier, train_classifier

    start = time.perf_counter()
    config = SoundTrainConfig(clips_per_class=args.clips)
    scenes = _scenes(config.clips_per_class, config.seed, config.rooms, "sound scenes", args.quiet)
    with _bar("classifier", args.quiet) as progress:
        task = progress.add_task("steps", total=config.steps)
        model = train_classifier(scenes, config, progress=lambda step, total, loss: progress.update(task, completed=step))
    _save_atomically(model.save, args.classifier_out)
    print(f"sound classifier: {sum(p.numel() for p in model.parameters()):,} weights, trained on "
          f"{config.clips_per_class} scenes per class; wrote {args.classifier_out} "
          f"({args.classifier_out.stat().st_size / 1024:.0f} KiB) after {(time.perf_counter() - start) / 60:.1f} min")
    held_out = _scenes(args.eval_clips, HELD_OUT_SEED, 12, "held-out scenes", args.quiet)
    _report(evaluate_classifier(model, held_out), args.eval_clips)


def evaluate(args: argparse.Namespace) -> int:
    import torch

    from perception.sound_classifier import SHIPPED_SOUND_CLASSIFIER, SoundClassifier
    from perception.training.sound_classifier import HELD_OUT_SEED, evaluate_classifier

    torch.set_num_threads(args.threads)
    weights = args.classifier or SHIPPED_SOUND_CLASSIFIER
    model = SoundClassifier.load(weights)
    held_out = _scenes(args.clips, HELD_OUT_SEED, 12, "held-out scenes", args.quiet)
    print(f"{weights}:")
    _report(evaluate_classifier(model, held_out), args.clips)
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    audio = sub.add_parser("audio", help="the sound bearing's source detector and the sound classifier: train, evaluate")
    actions = audio.add_subparsers(dest="audio_command", required=True)

    p = actions.add_parser("train", help="synthesize scenes, fit the source detector and the sound classifier, "
                                         "write both, evaluate the classifier on held-out scenes")
    p.add_argument("--scenes", type=arg_types.int_in(4, 10_000, "a number of scenes"), default=160,
                   help="randomized rooms and arrays the detector is fitted on (default 160)")
    p.add_argument("--clips", type=arg_types.int_in(2, 100_000, "a number of scenes"), default=160,
                   help="scenes per sound class the classifier is trained on (default 160)")
    p.add_argument("--eval-clips", type=arg_types.int_in(1, 100_000, "a number of scenes"), default=60,
                   help="held-out scenes per class to evaluate on (default 60)")
    p.add_argument("--detector-out", type=arg_types.output_file, default=Path("source_detector.npz"), metavar="PATH",
                   help="detector file to write (default source_detector.npz)")
    p.add_argument("--classifier-out", type=arg_types.output_file, default=Path("sound_classifier.pt"),
                   metavar="PATH", help="classifier weights to write (default sound_classifier.pt)")
    p.add_argument("--threads", type=arg_types.threads, default=1, help="torch threads (default 1)")
    only = p.add_mutually_exclusive_group()
    only.add_argument("--detector-only", action="store_true", help="fit the source detector alone")
    only.add_argument("--classifier-only", action="store_true", help="train the sound classifier alone")
    p.add_argument("--force", action="store_true", help="overwrite existing output files")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=train)

    p = actions.add_parser("eval", help="the sound classifier's accuracy and confusion on held-out scenes")
    p.add_argument("--classifier", type=arg_types.existing_file, metavar="PATH",
                   help="weights file (default: the shipped classifier)")
    p.add_argument("--clips", type=arg_types.int_in(1, 100_000, "a number of scenes"), default=60,
                   help="held-out scenes per class (default 60)")
    p.add_argument("--threads", type=arg_types.threads, default=1, help="torch threads (default 1)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=evaluate)
