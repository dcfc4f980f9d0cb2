"""`bessemer camera-server`: a stand-in for Unitree's image server, to try the camera client without a robot."""

from __future__ import annotations

import argparse
import time

from bessemer.commands import CliError, arg_types


def run(args: argparse.Namespace) -> int:
    import zmq

    from perception.camera_server import CameraServer, moving_pattern

    width, height = args.size
    try:
        server = CameraServer(args.endpoint, header=args.header)
    except zmq.ZMQError as exc:
        raise CliError(f"cannot bind {args.endpoint}: {exc}") from None
    with server:
        print(f"sending {width}x{height} JPEG frames at {args.fps:g} fps on {args.endpoint}; Ctrl-C stops")
        start = time.monotonic()
        try:
            while True:
                server.send(moving_pattern(width, height, time.monotonic() - start))
                time.sleep(max(0.0, start + server.frames_sent / args.fps - time.monotonic()))
        except KeyboardInterrupt:
            pass
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    camera_parser = sub.add_parser("camera-server", help="a stand-in for the G1's image server: a moving pattern as JPEG "
                                                  "over ZMQ, no robot needed")
    camera_parser.add_argument("--endpoint", type=arg_types.zmq_endpoint, default="tcp://*:5555",
                               help="ZMQ endpoint to bind (default tcp://*:5555)")
    camera_parser.add_argument("--size", type=arg_types.frame_size, default="640x480",
                               help="WIDTHxHEIGHT of the image sent (default 640x480)")
    camera_parser.add_argument("--fps", type=arg_types.rate_hz, default=30.0, help="frames per second (default 30)")
    camera_parser.add_argument("--header", action="store_true", help="send the unit-test header before each JPEG")
    camera_parser.set_defaults(func=run)
