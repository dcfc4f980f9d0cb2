"""`--policy` and `--cmd`, shared by the commands that can hand the robot to a learned policy."""

from __future__ import annotations

import argparse
from pathlib import Path

from bessemer.commands import CliError


def add_policy_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policy", metavar="PATH",
                        help="policy for state 200: walk (the shipped walking policy, default), a `bessemer export` "
                             ".pt or a training checkpoint")
    parser.add_argument("--cmd", default="0,0,0", metavar="VX,VY,WZ",
                        help="velocity command for the walking policy: forward, lateral m/s and yaw rate rad/s (default 0,0,0)")


def parse_command(text: str) -> tuple[float, float, float]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 3:
        raise CliError(f"--cmd takes three numbers VX,VY,WZ (m/s, m/s, rad/s), got {text!r}")
    return values


def load_policy(args: argparse.Namespace, variant: str):
    """The learned policy the run asks for, or None when the sequence never reaches state 200."""
    from policies.checkpoint import CheckpointError
    from policies.inference import SHIPPED_WALK_POLICY, LearnedPolicy

    command = parse_command(args.cmd)
    if variant != "29dof":
        raise CliError(f"learned policies drive the 29-DoF G1; the {variant} variant has none (drop 200 or use --variant 29dof)")
    path = SHIPPED_WALK_POLICY if args.policy in (None, "walk") else Path(args.policy)
    if path == SHIPPED_WALK_POLICY and not path.exists():
        raise CliError("no walking policy ships with this version yet: train one with `bessemer train`, "
                       "export it and pass --policy FILE")
    try:
        return LearnedPolicy(path, command=command)
    except CheckpointError as exc:
        raise CliError(str(exc)) from None
