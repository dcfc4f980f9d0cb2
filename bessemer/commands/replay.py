"""`bessemer replay FILE.mcap`: the recorded commands into the simulator, open loop; how far the states part."""

from __future__ import annotations

import argparse
import json

from bessemer.commands import CliError, arg_types


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from bessemer.commands import check_outputs, write_output
    from bessemer.runtime.recording import RecordingError, check_recording
    from bessemer.runtime.replay import policy_actions, replay
    from policies.checkpoint import CheckpointError

    check_outputs({"FILE": args.file, "--policy": args.policy}, {"--json": args.json})
    console = Console(stderr=True)
    try:
        recording = check_recording(args.file)
        policy = policy_actions(recording, args.policy) if args.policy else None
        with Progress(TextColumn("replaying"), BarColumn(), TextColumn("{task.completed}/{task.total} ticks"),
                      TimeRemainingColumn(), console=console, transient=True) as progress:
            task = progress.add_task("replay", total=None)
            result = replay(recording, lambda done, total: progress.update(task, completed=done, total=total))
    except (RecordingError, CheckpointError) as exc:
        raise CliError(f"{args.file}: {exc}" if isinstance(exc, RecordingError) else str(exc)) from None
    summary = {"file": str(args.file), "variant": recording.metadata["bessemer"]["variant"],
               "complete": recording.complete, **result.summary()}
    if policy is not None:
        summary["policy"] = policy
    _print(Console(), summary)
    if args.json:
        write_output(args.json, json.dumps(summary, indent=2) + "\n", "replay report")
    return 0


def _print(console, summary: dict) -> None:
    from rich import box
    from rich.table import Table

    start = {"exact": "the recorded MuJoCo state", "joints": "the first recorded joints and orientation"}
    title = (f"{summary['file']}: {summary['ticks']} ticks ({summary['seconds']:.2f} s) replayed open loop from "
             f"{start[summary['start']]}; simulated minus recorded (rad, rad/s, m)")
    table = Table(title=title, box=box.SIMPLE, title_justify="left")
    table.add_column("", no_wrap=True)
    for column in ("q rms", "q max", "q final", "dq rms", "dq max"):
        table.add_column(column, justify="right", no_wrap=True)
    for name, e in summary["joints"].items():
        q, dq = e["q_rad"], e["dq_rad_s"]
        table.add_row(name.removesuffix("_joint"), *(f"{v:.2e}" for v in (q["rms"], q["max"], q["final"], dq["rms"],
                                                                           dq["max"])))
    pelvis = summary["pelvis"]
    for label, key in (("pelvis orientation", "orientation_rad"), ("pelvis gyro", "gyro_rad_s"),
                       ("pelvis position", "position_m")):
        if key in pelvis:
            e = pelvis[key]
            table.add_row(label, f"{e['rms']:.2e}", f"{e['max']:.2e}", f"{e['final']:.2e}", "", "", style="bold")
    console.print(table)
    if summary["stopped_at_tick"] is not None:
        console.print(f"stopped at tick {summary['stopped_at_tick']}: the recording lacks it (dropped or cut short)")
    if "policy" in summary:
        p = summary["policy"]
        console.print(f"{p['policy']} on {p['steps']} recorded observations: largest action difference "
                      f"{p['max']:.2e} (x{p['action_scale']:g} rad of target)")


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("replay", help="replay a recording's commands in the simulator and report how far "
                                           "simulated and recorded states part")
    parser.add_argument("file", type=arg_types.existing_file, metavar="FILE.mcap",
                        help="a recording from --record (bessemer sim or deploy)")
    parser.add_argument("--policy", type=arg_types.existing_file, metavar="PATH",
                        help="also run this policy (a `bessemer export` .pt or a training checkpoint) on the "
                             "recorded observations and compare its actions with the recorded ones")
    parser.add_argument("--json", type=arg_types.output_file, metavar="OUT",
                        help="write the report (per joint and for the pelvis) as JSON")
    parser.set_defaults(func=run)
