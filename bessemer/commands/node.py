"""`bessemer node KIND`: one process of the stack (normally started by `bessemer run`)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time

from bessemer.commands import CliError, arg_types
from bessemer.commands.stack_options import endpoints_from


def _stop_on_sigterm() -> None:
    def handler(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


class ParentWatch:
    """Stops a node whose launcher is gone (it was re-parented), checked every `every` ticks."""

    def __init__(self, every: int) -> None:
        self.parent = os.getppid()
        self.every = every

    def check(self, k: int) -> None:
        if k % self.every == 0 and os.getppid() != self.parent:
            raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    from bessemer.endpoints import EndpointError

    _stop_on_sigterm()
    try:
        return {"lowlevel": _lowlevel, "policy": _policy, "perception": _perception}[args.kind](args)
    except EndpointError as exc:
        raise CliError(str(exc)) from None


def _lowlevel(args: argparse.Namespace) -> int:
    import numpy as np

    from bessemer.commands.record_options import check_recorded
    from bessemer.nodes.heartbeat import Heartbeats
    from bessemer.nodes.lowlevel import LowLevelNode
    from bessemer.runtime.low_level import LowLevel, SimLowLevel, LowLevelConfig
    from control.loop import LoopConfig
    from sim.world import WorldConfig

    _realtime_io()
    heartbeats = Heartbeats()
    seat = {"policy_alive": lambda: heartbeats.alive("policy"), "policy_clock": time.monotonic}
    if args.iface:
        from robots.dds import DdsConfig, DdsStartupError, connect_g1

        try:
            robot = connect_g1(DdsConfig(interface=args.iface, domain=args.domain, variant=args.variant),
                               lambda line: print(line, file=sys.stderr), release=args.iface != "lo")
        except DdsStartupError as exc:
            raise CliError(str(exc)) from None
        low = LowLevel(robot, LowLevelConfig(loop=LoopConfig(realtime=True)), **seat)
        sim_pose = None
    else:
        low = SimLowLevel(LowLevelConfig(world=WorldConfig(variant=args.variant), loop=LoopConfig(realtime=True)),
                            **seat)
        low.spawn(band=not args.no_band)

        def sim_pose() -> np.ndarray:
            return low.robot.data.qpos

    node = LowLevelNode(low, endpoints_from(args), heartbeats, sim_pose=sim_pose)
    recording = percepts = None
    if args.record:
        from bessemer.nodes.percept_feed import PerceptFeed
        from bessemer.runtime.recorder import Recorder

        percepts = PerceptFeed(node.ctx, node.endpoints, node.sid)
        recording = Recorder(args.record, low.robot.num_motors)
        recording.attach_low_level(low, percepts=percepts)
    print(f"low-level node up: stack {args.stack!r}, {'G1 over DDS on ' + args.iface if args.iface else 'simulated G1'}",
          file=sys.stderr, flush=True)

    parent = ParentWatch(every=250)

    def tick(k: int) -> bool:
        node.tick(k)
        if recording is not None:
            if k % 10 == 0:
                percepts.poll()
            recording.sample()
        parent.check(k)
        return True

    try:
        low.loop.run(tick)
    except KeyboardInterrupt:
        pass
    finally:
        low.damp_before_exit()
        node.close()
        recorded = None
        if recording is not None:
            percepts.close()
            recorded = recording.close()
    check_recorded(recorded)
    return 0


POLICY_RT_PRIORITY = 40
"""SCHED_FIFO priority of the policy node's loop where permitted: below the 500 Hz loop's, above everything
else, since a policy that stalls past its targets' deadline damps the robot (perception may lag)."""
IO_RT_PRIORITY = 45
"""SCHED_FIFO priority of the ZMQ I/O threads of the low-level and policy nodes where permitted: state and
targets cross them, and on a busy CPU a thread of normal priority can hold them past the targets' deadline."""


def _realtime_io() -> None:
    """Give this process's ZMQ I/O threads `IO_RT_PRIORITY`, before its first socket starts them. libzmq
    aborts where the kernel refuses, so the kernel is asked first."""
    import zmq

    try:
        previous = os.sched_getscheduler(0), os.sched_getparam(0)
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(IO_RT_PRIORITY))
        os.sched_setscheduler(0, *previous)
    except (AttributeError, OSError):
        return
    ctx = zmq.Context.instance()
    ctx.set(zmq.THREAD_SCHED_POLICY, os.SCHED_FIFO)
    ctx.set(zmq.THREAD_PRIORITY, IO_RT_PRIORITY)


def _run_at(node, rate_hz: float, rt_priority: int = 0) -> int:
    """Run a node's ticks at its own rate, at normal priority unless given a real-time one."""
    from control.loop import FixedRateLoop, LoopConfig

    loop = FixedRateLoop(LoopConfig(period=1.0 / rate_hz, realtime=True, rt_priority=rt_priority))
    parent = ParentWatch(every=max(1, round(rate_hz / 2)))

    def tick(k: int) -> bool:
        node.tick(k)
        parent.check(k)
        return True

    try:
        loop.run(tick)
    except KeyboardInterrupt:
        pass
    finally:
        node.close()
    return 0


def _policy(args: argparse.Namespace) -> int:
    from bessemer.commands.policy_options import load_policy
    from bessemer.nodes.policy import PolicyNode
    from policies.arm_wave import ArmWavePolicy

    if args.follow_sound and args.intercept:
        raise CliError("--follow-sound and --intercept are two tasks: give one")
    if args.policy == "wave" and (args.follow_sound or args.intercept):
        task = "--follow-sound" if args.follow_sound else "--intercept"
        raise CliError(f"{task} steers a walking policy: give --policy walk or a policy file")
    if args.policy == "wave":
        policy = ArmWavePolicy(rate_hz=args.rate or 50.0)
    else:
        import torch

        torch.set_num_threads(1)
        policy = load_policy(args, args.variant)
        if args.rate and args.rate != policy.rate_hz:
            raise CliError(f"a learned policy runs at its contract's {policy.rate_hz:g} Hz; drop --rate")
        if args.follow_sound:
            from bessemer.tasks.follow_sound import FollowSound

            policy = FollowSound(policy)
        if args.intercept:
            from bessemer.tasks.intercept import Intercept, InterceptByPercepts
            from perception.ball_predictor import load_shipped
            from perception.ball_tracker import BallTracker

            policy = InterceptByPercepts(Intercept(policy, BallTracker(load_shipped())))
    deadline = args.target_deadline / 1e3 if args.target_deadline else None
    _realtime_io()
    return _run_at(PolicyNode(policy, endpoints_from(args), deadline=deadline), policy.rate_hz, POLICY_RT_PRIORITY)


def _perception(args: argparse.Namespace) -> int:
    from bessemer.nodes.perception import PerceptionNode
    from perception.camera_stream import CameraStreamConfig

    camera = sound = microphone = ball = None
    rate = args.rate or 10.0
    if args.intercept_scene is not None:
        from perception.ball_predictor import BallPredictorConfig

        frames = BallPredictorConfig().rate_hz
        if args.rate and args.rate != frames:
            raise CliError(f"the intercept's ball predictor takes frames at {frames:g} Hz; drop --rate")
        rate = frames
    if args.g1_microphone:
        from perception.g1_audio_stream import G1AudioStreamConfig

        microphone = G1AudioStreamConfig(interface_ip=args.mic_interface)
    if args.camera:
        width, height = args.camera_size
        camera = CameraStreamConfig(endpoint=args.camera, width=width, height=height)
    for option, seed in (("--scene-seed", args.scene_seed), ("--intercept-scene", args.intercept_scene)):
        if seed is not None and (camera or microphone):
            raise CliError(f"{option} is a simulated scene: drop --camera and --g1-microphone")
    if args.scene_seed is not None and args.intercept_scene is not None:
        raise CliError("--scene-seed and --intercept-scene are two scenes: give one")
    if args.intercept_scene is not None:
        from bessemer.tasks.intercept_scene import InterceptScene

        ball = InterceptScene.from_seed(args.intercept_scene)
    if args.scene_seed is not None:
        from bessemer.tasks.follow_sound_scene import FollowSoundScene

        sound = FollowSoundScene.from_seed(args.scene_seed).sound()
    node = PerceptionNode(endpoints_from(args), variant=args.variant, rate_hz=rate, threads=args.threads,
                          camera=camera, microphone=microphone, sound=sound, ball=ball)
    return _run_at(node, rate)


def add_parser(sub: argparse._SubParsersAction) -> None:
    from bessemer.commands.stack_options import add_stack_options

    node_parser = sub.add_parser("node", help="one node of the stack (started by `bessemer run`)")
    node_parser.add_argument("kind", choices=("lowlevel", "policy", "perception"))
    node_parser.add_argument("--sim", action="store_true",
                             help="lowlevel: drive the in-process simulation (the default)")
    node_parser.add_argument("--iface", type=arg_types.network_interface,
                             help="lowlevel: drive a G1 over DDS on this interface")
    node_parser.add_argument("--domain", type=arg_types.dds_domain, default=0,
                             help="lowlevel with --iface: DDS domain (default 0)")
    node_parser.add_argument("--variant", type=arg_types.variant, default="29dof")
    node_parser.add_argument("--no-band", action="store_true")
    node_parser.add_argument("--record", type=arg_types.output_file, metavar="PATH.mcap",
                             help="lowlevel: record every tick to an MCAP file (as `bessemer sim --record`)")
    node_parser.add_argument("--rate", type=arg_types.rate_hz, default=None,
                             help="policy 50 Hz, perception 10 Hz by default")
    node_parser.add_argument("--threads", type=arg_types.threads, default=1,
                             help="perception: compute threads (default 1)")
    node_parser.add_argument("--target-deadline", type=arg_types.milliseconds,
                             help="policy: ms each target stays valid (default 2.5 periods)")
    node_parser.add_argument("--policy", type=arg_types.policy_source("wave", "walk"), default="wave",
                             help="policy: wave (default), walk or a learned policy file")
    node_parser.add_argument("--cmd", type=arg_types.velocity_command, default="0,0,0",
                             help="policy: velocity command VX,VY,WZ for a learned policy")
    node_parser.add_argument("--camera", type=arg_types.zmq_endpoint, metavar="ENDPOINT",
                             help="perception: frames from Unitree's JPEG-over-ZMQ image server at ENDPOINT "
                                  "(e.g. tcp://192.168.123.164:5555) instead of the simulated head camera")
    node_parser.add_argument("--camera-size", type=arg_types.frame_size, default="640x480", metavar="WxH",
                             help="perception with --camera: the head camera's frame size (default 640x480)")
    node_parser.add_argument("--g1-microphone", action="store_true",
                             help="perception: tokens from the G1's mono microphone stream (UDP multicast "
                                  "239.168.123.161:5555; tokens only, one channel has no bearing)")
    node_parser.add_argument("--mic-interface", type=arg_types.ipv4_address, default="0.0.0.0", metavar="IP",
                             help="perception with --g1-microphone: this computer's address on the robot's network")
    node_parser.add_argument("--scene-seed", type=arg_types.seed,
                             help="perception in simulation: hear and see the follow-sound scene of this seed")
    node_parser.add_argument("--follow-sound", action="store_true",
                             help="policy: steer the walking policy to the sound the perception node reports")
    node_parser.add_argument("--intercept-scene", type=arg_types.seed, metavar="SEED",
                             help="perception in simulation: the intercept scene of this seed; its ball is pushed "
                                  "when the policy takes the robot, and the head camera's detections are reported at "
                                  "the ball predictor's 20 Hz")
    node_parser.add_argument("--intercept", action="store_true",
                             help="policy: walk the walking policy to where the ball the perception node sees will stop")
    add_stack_options(node_parser)
    node_parser.set_defaults(func=run)
