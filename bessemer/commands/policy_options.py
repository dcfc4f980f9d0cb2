"""`--policy` and `--cmd`, shared by the commands that can hand the robot to a learned policy."""

from __future__ import annotations

import argparse
from pathlib import Path

from bessemer.commands import CliError, arg_types


def add_policy_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policy", type=arg_types.policy_source("walk"), metavar="PATH",
                        help="policy for state 200: walk (the shipped walking policy, default), a `bessemer export` "
                             ".pt or a training checkpoint")
    parser.add_argument("--cmd", type=arg_types.velocity_command, default="0,0,0", metavar="VX,VY,WZ",
                        help="velocity command for the walking policy: forward, lateral m/s and yaw rate rad/s (default 0,0,0)")


def load_policy(args: argparse.Namespace, variant: str):
    """The learned policy the run asks for, or None when the sequence never reaches state 200."""
    from policies.checkpoint import CheckpointError
    from policies.inference import SHIPPED_WALK_POLICY, LearnedPolicy

    from policies.contract import command_problem

    if (problem := command_problem(args.cmd)) is not None:
        raise CliError(f"--cmd {','.join(f'{v:g}' for v in args.cmd)}: {problem}")
    if variant != "29dof":
        raise CliError(f"learned policies drive the 29-DoF G1; the {variant} variant has none (drop 200 or use --variant 29dof)")
    path = SHIPPED_WALK_POLICY if args.policy in (None, "walk") else Path(args.policy)
    if path == SHIPPED_WALK_POLICY and not path.exists():
        raise CliError("no walking policy ships with this version yet: train one with `bessemer train`, "
                       "export it and pass --policy FILE")
    try:
        return LearnedPolicy(path, command=args.cmd)
    except CheckpointError as exc:
        raise CliError(str(exc)) from None
