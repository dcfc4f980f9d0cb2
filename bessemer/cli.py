"""`bessemer`: the command line of the stack."""

from __future__ import annotations

import argparse
import os
import signal
import sys

from bessemer import commands
from bessemer.commands import (CliError, audio, ball, bench, bridge, camera_server, dataset, deploy, evaluate, model,
                               node, replay, run, sim, teleop, train, view, vision)

if not commands.has_display():
    os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
"""Before torch loads OpenMP: its spinning threads, on a CPU shared with the physics threads or other
jobs, made a PPO update 19 times slower than one thread (2-core x86_64, loaded: 518 vs 27 ms per
minibatch; passive 29 ms)."""

MUJOCO_GL_BACKENDS = ("egl", "osmesa", "glfw")
NEGATIVE_VALUE_OPTIONS = ("--cmd",)
"""Options whose value may start with a minus (VX,VY,WZ), taken as values, not as options."""


class OneLineParser(argparse.ArgumentParser):
    """A refusal is one line on stderr that names the option, and exit status 2."""

    def error(self, message: str) -> None:
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="bessemer", description="Control stack for the Unitree G1.")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in (sim, bridge, deploy, run, node, bench, train, evaluate, vision, ball, audio, camera_server, model,
                    replay, view, dataset, teleop):
        command.add_parser(sub)
    return parser


def _negative_values_attached(argv: list[str]) -> list[str]:
    """`--cmd -0.3,0,0` as `--cmd=-0.3,0,0`: argparse would take the value for an option."""
    out: list[str] = []
    for arg in argv:
        if out and out[-1] in NEGATIVE_VALUE_OPTIONS and arg.startswith("-"):
            out[-1] = f"{out[-1]}={arg}"
        else:
            out.append(arg)
    return out


def main(argv: list[str] | None = None) -> int:
    # Ctrl-C stops a command cleanly even when it was started where SIGINT is ignored (`bessemer bridge &`).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        try:
            args = build_parser().parse_args(_negative_values_attached(sys.argv[1:] if argv is None else list(argv)))
        except SystemExit as exc:
            return exc.code or 0
        gl = os.environ.get("MUJOCO_GL")
        if gl is not None and gl not in MUJOCO_GL_BACKENDS:
            raise CliError(f"MUJOCO_GL={gl!r} is not a MuJoCo rendering backend: set it to one of "
                           f"{', '.join(MUJOCO_GL_BACKENDS)}, or unset it")
        return args.func(args)
    except (CliError, ValueError, OSError) as exc:
        print(f"bessemer: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bessemer: interrupted before anything ran to its end", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
