"""Options every command that talks to a running stack shares: its name, host, ports and keys."""

from __future__ import annotations

import argparse

from bessemer.commands import arg_types
from bessemer.endpoints import Endpoints


def add_stack_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", type=arg_types.name, default="bessemer",
                        help="stack name: two stacks on one machine need two names")
    parser.add_argument("--host", type=arg_types.host, default="127.0.0.1",
                        help="address of the stack's sockets (default loopback)")
    parser.add_argument("--base-port", type=arg_types.base_port, default=5560,
                        help="first of the stack's five TCP ports (default 5560)")
    parser.add_argument("--keys", type=arg_types.existing_dir,
                        help="CURVE keys folder (from `bessemer keys`), needed beyond loopback")
    parser.add_argument("--curve", action="store_true", help="use CURVE on loopback too (needs --keys)")


def endpoints_from(args: argparse.Namespace) -> Endpoints:
    return Endpoints(stack=args.stack, host=args.host, base_port=args.base_port, keys=args.keys, curve=args.curve)
