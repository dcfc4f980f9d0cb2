"""`bessemer bench`: the stack's and the DDS path's figures."""

from __future__ import annotations

import argparse
import json

from bessemer.commands import arg_types, write_output


def run(args: argparse.Namespace) -> int:
    if args.ball:
        from bessemer.bench.ball_prediction import bench_ball, print_ball_report

        results = bench_ball(args.ball_throws)
        print_ball_report(results)
    elif args.bearing:
        from bessemer.bench.audio_bearing import bench_bearing, print_bearing_report

        results = bench_bearing(scenes=args.rooms)
        print_bearing_report(results)
    elif args.perception:
        from bessemer.bench.percepts import bench_perception, print_perception_report

        results = bench_perception(bearing_scenes=args.rooms)
        print_perception_report(results)
    elif args.envs:
        from bessemer.bench.envs import bench_envs, print_envs_report

        results = bench_envs(backend=args.backend)
        print_envs_report(results)
    elif args.zmq:
        from bessemer.bench.zmq_path import print_zmq_report, run_zmq_benchmarks

        results = run_zmq_benchmarks(args.realtime_seconds)
        print_zmq_report(results)
    elif args.dds:
        from bessemer.bench.dds_path import print_dds_report, run_dds_benchmarks

        results = run_dds_benchmarks(args.realtime_seconds)
        print_dds_report(results)
    else:
        from bessemer.bench.loop import run_benchmarks

        results = run_benchmarks(realtime_seconds=args.realtime_seconds, lockstep_seconds=args.lockstep_seconds)
    if args.json:
        write_output(args.json, json.dumps(results, indent=2, default=str) + "\n", "benchmark JSON")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    bench_parser = sub.add_parser("bench", help="benchmark physics, the stack in lock-step, and the real-time loop")
    bench_parser.add_argument("--realtime-seconds", type=arg_types.positive_seconds, default=60.0,
                              help="length of the real-time run (default 60)")
    bench_parser.add_argument("--lockstep-seconds", type=arg_types.positive_seconds, default=20.0,
                              help="simulated seconds for the raw-physics and lock-step runs (default 20)")
    bench_parser.add_argument("--json", type=arg_types.output_file, metavar="PATH",
                              help="also write the figures as JSON")
    bench_parser.add_argument("--dds", action="store_true",
                              help="benchmark the DDS path instead: codec, loopback round trip, deploy loop against a bridge")
    bench_parser.add_argument("--perception", action="store_true",
                              help="benchmark perception instead: vision frames/s, audio tokens, sound bearing vs pyroomacoustics")
    bench_parser.add_argument("--ball", action="store_true",
                              help="benchmark the rolling-ball predictor instead: its forecasts 0.5, 1 and 2 s ahead vs "
                                   "a constant-velocity Kalman filter, on held-out throws, against the simulator's truth")
    bench_parser.add_argument("--ball-throws", type=arg_types.int_in(1, 10**4, "a number of throws"), default=60,
                              help="held-out throws for --ball (default 60, a few minutes of rendering)")
    bench_parser.add_argument("--bearing", action="store_true",
                              help="benchmark the sound bearing alone instead: unseen arrays and rooms vs pyroomacoustics' "
                                   "SRP-PHAT, NormMUSIC and TOPS, and silent blocks flagged (about 10 minutes)")
    bench_parser.add_argument("--rooms", type=arg_types.int_in(1, 1000, "a number of rooms"), default=10,
                              help="random rooms per row for --bearing and --perception's bearing (default 10, about 10 minutes "
                                   "with --bearing; more rooms take longer and only add rooms: the first 10 stay the same)")
    bench_parser.add_argument("--envs", action="store_true",
                              help="benchmark the training envs instead: batched vector env vs SyncVectorEnv and physics")
    bench_parser.add_argument("--backend", choices=("rollout", "warp"), default="rollout",
                              help="with --envs: warp adds the MuJoCo Warp backend beside the rollout backend, on the "
                                   "device Warp finds (a CUDA GPU, else the CPU)")
    bench_parser.add_argument("--zmq", action="store_true",
                              help="benchmark the ZMQ hop instead: state -> policy -> targets round trip, loop beside the policy")
    bench_parser.set_defaults(func=run)
