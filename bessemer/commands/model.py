"""`bessemer model`: the project's MJCF of the G1."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    from robots.g1.mjcf import robot_xml
    from sim.world import WorldConfig, build_world_xml

    mesh_dir = Path(args.mesh_dir) if args.mesh_dir else None
    if args.world:
        xml = build_world_xml(WorldConfig(variant=args.variant, mesh_dir=mesh_dir), band_rest_length=1.0)
    else:
        xml = robot_xml(args.variant, mesh_dir)
    if args.out:
        from bessemer.commands import check_writable

        check_writable(Path(args.out), "model")
        Path(args.out).write_text(xml)
        print(f"wrote {args.out}")
    else:
        sys.stdout.write(xml)
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    model_parser = sub.add_parser("model", help="print or write the project's MJCF of the G1")
    model_parser.add_argument("--variant", default="29dof", help="29dof (default) or 23dof")
    model_parser.add_argument("--world", action="store_true", help="include floor, light and elastic band")
    model_parser.add_argument("--mesh-dir", metavar="DIR", help="folder with Unitree's .STL meshes")
    model_parser.add_argument("--out", metavar="PATH", help="write to a file instead of stdout")
    model_parser.set_defaults(func=run)

