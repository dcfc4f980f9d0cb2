"""`bessemer dataset FILE.mcap... --out DIR`: recordings as a LeRobotDataset (v3.0) for learning."""

from __future__ import annotations

import argparse

from bessemer.commands import CliError, arg_types


def run(args: argparse.Namespace) -> int:
    from bessemer.commands import check_outputs
    from bessemer.runtime.lerobot_dataset import DatasetConfig, write_dataset
    from bessemer.runtime.recording import RecordingError, check_recording

    check_outputs({f"FILE {f}": f for f in args.files}, {"--out": args.out}, keep=("--out",), force=args.force)
    recordings = {}
    try:
        for path in args.files:
            recordings[path] = check_recording(path)
        info = write_dataset(recordings, args.out, DatasetConfig(fps=args.fps, task=args.task))
    except RecordingError as exc:
        where = f"{path}: " if len(recordings) < len(args.files) else ""
        raise CliError(f"{where}{exc}") from None
    except OSError as exc:
        raise CliError(f"could not write --out {args.out}: {exc.strerror}; nothing was left there") from None
    names = ", ".join(k for k in info["features"] if k.startswith(("observation", "action")))
    print(f"wrote {args.out}: LeRobotDataset {info['codebase_version']}, {info['total_episodes']} episodes, "
          f"{info['total_frames']} frames at {info['fps']} fps ({names})")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("dataset", help="turn recordings into a LeRobotDataset (v3.0: parquet frames, "
                                            "metadata and statistics), one episode each")
    parser.add_argument("files", nargs="+", type=arg_types.existing_file, metavar="FILE.mcap",
                        help="recordings from --record, all of one robot variant and policy contract")
    parser.add_argument("--out", type=arg_types.output_dir, required=True, metavar="DIR",
                        help="the dataset folder (an existing one is kept unless --force)")
    parser.add_argument("--fps", type=arg_types.count, default=50,
                        help="frames per second, sampled from the 500 Hz log (default 50, the policy's rate)")
    parser.add_argument("--task", type=arg_types.sentence, default="G1 run recorded by bessemer",
                        help="the episodes' task, LeRobot's language instruction")
    parser.add_argument("--force", action="store_true", help="replace an existing --out folder")
    parser.set_defaults(func=run)
