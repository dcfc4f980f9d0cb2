"""`bessemer`: the command line of the stack."""

from __future__ import annotations

import argparse
import os
import sys

from bessemer import commands
from bessemer.commands import (CliError, bench, bridge, camera_server, deploy, model, node, run, sim, train,
                               vision)

if not commands.has_display():
    os.environ.setdefault("MUJOCO_GL", "egl")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bessemer", description="Control stack for the Unitree G1.")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in (sim, bridge, deploy, run, node, bench, train, vision, camera_server, model):
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (CliError, ValueError, FileNotFoundError) as exc:
        print(f"bessemer: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
