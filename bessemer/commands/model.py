"""`bessemer model`: the project's MJCF of the G1."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bessemer.commands import arg_types


def run(args: argparse.Namespace) -> int:
    from robots.g1.mjcf import robot_xml
    from sim.world import WorldConfig, build_world_xml

    mesh_dir = Path(args.mesh_dir) if args.mesh_dir else None
    if args.world:
        xml = build_world_xml(WorldConfig(variant=args.variant, mesh_dir=mesh_dir), band_rest_length=1.0)
    else:
        xml = robot_xml(args.variant, mesh_dir)
    if args.out:
        from bessemer.commands import write_output

        write_output(args.out, xml, "model")
        print(f"wrote {args.out}")
    else:
        sys.stdout.write(xml)
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    model_parser = sub.add_parser("model", help="print or write the project's MJCF of the G1")
    model_parser.add_argument("--variant", type=arg_types.variant, default="29dof", help="29dof (default) or 23dof")
    model_parser.add_argument("--world", action="store_true", help="include floor, light and elastic band")
    model_parser.add_argument("--mesh-dir", type=arg_types.existing_dir, metavar="DIR",
                              help="folder with Unitree's .STL meshes")
    model_parser.add_argument("--out", type=arg_types.output_file, metavar="PATH",
                              help="write to a file instead of stdout")
    model_parser.set_defaults(func=run)

