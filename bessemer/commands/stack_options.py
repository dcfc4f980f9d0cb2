"""Options every command that talks to a running stack shares: its name, host, ports and keys."""

from __future__ import annotations

import argparse
from pathlib import Path

from bessemer.endpoints import Endpoints


def add_stack_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", default="bessemer", help="stack name: two stacks on one machine need two names")
    parser.add_argument("--host", default="127.0.0.1", help="address of the stack's sockets (default loopback)")
    parser.add_argument("--base-port", type=int, default=5560, help="first of the stack's five TCP ports (default 5560)")
    parser.add_argument("--keys", type=Path, help="CURVE keys folder (from `bessemer keys`), needed beyond loopback")
    parser.add_argument("--curve", action="store_true", help="use CURVE on loopback too (needs --keys)")


def endpoints_from(args: argparse.Namespace) -> Endpoints:
    return Endpoints(stack=args.stack, host=args.host, base_port=args.base_port, keys=args.keys, curve=args.curve)
