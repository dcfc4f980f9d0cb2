"""`bessemer`: the command line of the stack."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
    os.environ.setdefault("MUJOCO_GL", "egl")


BRIDGE_RT_PRIORITY = 40
"""Below the deploy loop's 50: on one machine, the simulator yields to the controller under test."""


class CliError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


def _has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _positive(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return value


def cmd_sim(args: argparse.Namespace) -> int:
    from control.loop import LoopConfig
    from robots.g1.poses import get_pose
    from robots.g1.variants import get_variant
    from sim.world import WorldConfig
    from bessemer.session import SessionConfig, SimSession, parse_sequence
    from bessemer.stack import SimStack, StackConfig
    from bessemer.status import StatusLine, print_summary
    from bessemer.video import VideoRecorder, check_writable

    get_variant(args.variant)
    get_pose(args.spawn_pose)
    sequence = parse_sequence(args.sequence)
    if args.viewer and args.video:
        raise CliError("--viewer and --video cannot be combined: the viewer runs in real time, recording in lock-step")
    if args.viewer and not _has_display():
        raise CliError("--viewer needs a display and none is set (DISPLAY/WAYLAND_DISPLAY); run headless or record with --video")
    if args.summary_json:
        check_writable(Path(args.summary_json), "summary")
    realtime = not (args.lockstep or args.video)
    world = WorldConfig(variant=args.variant, mesh_dir=Path(args.mesh_dir) if args.mesh_dir else None)
    stack = SimStack(StackConfig(world=world, loop=LoopConfig(realtime=realtime)))
    session = SimSession(stack, SessionConfig(sequence=sequence, duration=args.duration, hold=args.hold,
                                              band=not args.no_band, spawn_pose=args.spawn_pose))
    status = StatusLine()
    session.on_event = status.event
    session.every(25, status.update)
    recorder = viewer = None
    try:
        if args.video:
            recorder = VideoRecorder(Path(args.video), stack.robot.model, fps=30)
            session.every(round(1 / (30 * stack.config.loop.period)), lambda s: recorder.capture(s.stack.robot.data))
            status.event(f"recording {args.video} (lock-step: rendering is slower than real time)")
        if args.viewer:
            import mujoco.viewer

            viewer = mujoco.viewer.launch_passive(stack.robot.model, stack.robot.data)

            def sync(s: SimSession) -> None:
                if not viewer.is_running():
                    stack.loop.stop()
                viewer.sync()

            session.every(16, sync)
        try:
            stack.loop.run(session.tick)
        except KeyboardInterrupt:
            session.stopped_early = True
            status.event("interrupted: stopping")
        session.finish()
    finally:
        status.close()
        if recorder is not None:
            recorder.close()
        if viewer is not None:
            viewer.close()
    summary = session.summary()
    if recorder is not None:
        summary["video"] = {"path": str(args.video), "frames": recorder.frames}
    print_summary(summary)
    if args.summary_json:
        Path(args.summary_json).write_text(json.dumps(summary, indent=2) + "\n")
    return 1 if summary["sequence"]["refused"] else 0


def _remote_script(text: str | None) -> list[tuple[float, frozenset[str]]]:
    """"2:start,6:L2+B" -> [(2.0, {start}), (6.0, {L2, B})]: presses for the bridge's emulated remote."""
    from robots.remote import KEY_BITS

    presses = []
    for item in filter(None, (p.strip() for p in (text or "").split(","))):
        when, _, keys = item.partition(":")
        combo = frozenset(k for k in keys.split("+") if k)
        try:
            at = float(when)
        except ValueError:
            raise CliError(f"--remote-script item {item!r}: expected SECONDS:KEY[+KEY], e.g. 2:start") from None
        unknown = combo - KEY_BITS.keys()
        if unknown or not combo:
            raise CliError(f"--remote-script item {item!r}: unknown key(s) {sorted(unknown)}; known: {', '.join(KEY_BITS)}")
        presses.append((at, combo))
    return sorted(presses, key=lambda p: p[0])


def cmd_bridge(args: argparse.Namespace) -> int:
    from control.loop import FixedRateLoop, LoopConfig
    from robots.g1.poses import get_pose
    from robots.g1.variants import get_variant
    from robots.remote import RemoteState
    from sim.bridge import BridgeConfig, DdsBridge
    from sim.world import WorldConfig
    from bessemer.video import check_writable

    get_variant(args.variant)
    get_pose(args.spawn_pose)
    presses = _remote_script(args.remote_script)
    if args.viewer and not _has_display():
        raise CliError("--viewer needs a display and none is set (DISPLAY/WAYLAND_DISPLAY); run the bridge headless")
    if args.summary_json:
        check_writable(Path(args.summary_json), "summary")
    bridge = DdsBridge(BridgeConfig(world=WorldConfig(variant=args.variant), domain=args.domain,
                                    interface=args.iface, mode_machine=args.mode_machine, band=not args.no_band,
                                    spawn_pose=args.spawn_pose))
    loop = FixedRateLoop(LoopConfig(realtime=True, rt_priority=BRIDGE_RT_PRIORITY))
    ticks = round(args.duration / loop.config.period) if args.duration else None
    press_ticks = {round(at / loop.config.period): combo for at, combo in presses}
    release_ticks = {k + round(0.3 / loop.config.period) for k in press_ticks}
    viewer = None
    if args.viewer:
        import mujoco.viewer

        viewer = mujoco.viewer.launch_passive(bridge.robot.model, bridge.robot.data)
    keyboard = None
    if sys.stdin.isatty() and not presses:
        from bessemer.keyboard_remote import HELP, KeyboardRemote

        keyboard = KeyboardRemote()
    print(f"bessemer bridge: G1 {args.variant} on DDS domain {args.domain} via {args.iface}, mode_machine "
          f"{bridge.mode_machine}, band {'on' if not args.no_band else 'off'}; Ctrl-C stops"
          + (f"\nremote from the keyboard: {HELP}" if keyboard else ""), file=sys.stderr, flush=True)
    held: frozenset[str] = frozenset()

    def tick(k: int) -> bool:
        nonlocal held
        if k in press_ticks:
            bridge.set_remote(RemoteState(set(press_ticks[k])))
        elif k in release_ticks:
            bridge.set_remote(RemoteState())
        elif keyboard is not None and k % 10 == 0 and keyboard.held() != held:
            held = keyboard.held()
            bridge.set_remote(RemoteState(set(held)))
        bridge.tick(k)
        if viewer is not None and k % 16 == 0:
            if not viewer.is_running():
                return False
            viewer.sync()
        return True

    try:
        loop.run(tick, max_ticks=ticks)
    except KeyboardInterrupt:
        pass
    finally:
        if keyboard is not None:
            keyboard.close()
        if viewer is not None:
            viewer.close()
        bridge.close()
    summary = {"command": "bridge", "domain": args.domain, "interface": args.iface, "mode_machine": bridge.mode_machine,
               "sim_time_s": round(bridge.robot.time, 4), "base_height_m": round(bridge.robot.base_height, 4),
               "band_engaged": bridge.robot.band_engaged, "counters": vars(bridge.counters),
               "loop": loop.timing.summary().as_dict()}
    print(json.dumps(summary, indent=2))
    if args.summary_json:
        Path(args.summary_json).write_text(json.dumps(summary, indent=2) + "\n")
    return 0


def cmd_deploy(args: argparse.Namespace) -> int:
    from control.loop import LoopConfig
    from control.remote_commands import RemoteFsmCommands
    from robots.dds import DdsConfig, DdsRobot, DdsStartupError
    from robots.g1.variants import get_variant
    from bessemer.session import ScriptedRun, SessionConfig, parse_sequence
    from bessemer.stack import LowLevelStack, StackConfig
    from bessemer.status import StatusLine, print_summary
    from bessemer.video import check_writable

    get_variant(args.variant)
    sequence = parse_sequence(args.sequence)
    if args.summary_json:
        check_writable(Path(args.summary_json), "summary")
    interface = "lo" if args.sim else args.iface
    domain = args.domain if args.domain is not None else (1 if args.sim else 0)
    status = StatusLine()
    if not args.sim:
        from robots.dds_transport import check_interface
        from robots.motion_switcher import MotionServiceError, release_motion_service

        check_interface(interface)
        try:
            release_motion_service(domain, interface, status.event)
        except MotionServiceError as exc:
            raise CliError(str(exc)) from None
    try:
        robot = DdsRobot(DdsConfig(interface=interface, domain=domain, variant=args.variant))
    except DdsStartupError as exc:
        raise CliError(str(exc)) from None
    stack = LowLevelStack(robot, StackConfig(loop=LoopConfig(realtime=True)))
    run = ScriptedRun(stack, SessionConfig(sequence=sequence, duration=args.duration, hold=args.hold))
    run.on_event = status.event
    run.every(25, status.update)
    remote = RemoteFsmCommands(stack.fsm)

    def poll_remote(r: ScriptedRun) -> None:
        result = remote.poll(r.stack.controller.state)
        if result is not None:
            r._event(f"remote: {result.message}")

    run.every(10, poll_remote)
    try:
        stack.loop.run(run.tick)
    except KeyboardInterrupt:
        run.stopped_early = True
    finally:
        run.finish()
        summary = run.summary()
        _damp_before_exit(stack)
        status.event("exit: robot left in damp")
        status.close()
    summary["command"] = "deploy"
    summary["dds"] = {"domain": domain, "interface": interface, **vars(robot.counters)}
    robot.close()
    print_summary(summary)
    if args.summary_json:
        Path(args.summary_json).write_text(json.dumps(summary, indent=2) + "\n")
    return 1 if summary["sequence"]["refused"] else 0


def _damp_before_exit(stack) -> None:
    """Leave the robot damped, not holding the last pose on its own, for 0.1 s of ticks."""
    from control.fsm import FsmId

    stack.fsm.request(FsmId.DAMP)
    for _ in range(50):
        stack.tick()
        time.sleep(stack.config.loop.period)


def cmd_bench(args: argparse.Namespace) -> int:
    if args.dds:
        from bessemer.bench_dds import print_dds_report, run_dds_benchmarks

        if args.json:
            from bessemer.video import check_writable

            check_writable(Path(args.json), "benchmark JSON")
        results = run_dds_benchmarks(args.realtime_seconds)
        print_dds_report(results)
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
        return 0
    from bessemer.bench import run_benchmarks

    run_benchmarks(realtime_seconds=args.realtime_seconds, lockstep_seconds=args.lockstep_seconds,
                   json_path=Path(args.json) if args.json else None)
    return 0


def cmd_model(args: argparse.Namespace) -> int:
    from sim.world import WorldConfig, build_world_xml
    from robots.g1.mjcf import robot_xml

    mesh_dir = Path(args.mesh_dir) if args.mesh_dir else None
    if args.world:
        xml = build_world_xml(WorldConfig(variant=args.variant, mesh_dir=mesh_dir), band_rest_length=1.0)
    else:
        xml = robot_xml(args.variant, mesh_dir)
    if args.out:
        from bessemer.video import check_writable

        check_writable(Path(args.out), "model")
        Path(args.out).write_text(xml)
        print(f"wrote {args.out}")
    else:
        sys.stdout.write(xml)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bessemer", description="Control stack for the Unitree G1.")
    sub = parser.add_subparsers(dest="command", required=True)

    sim = sub.add_parser("sim", help="run the G1 in MuJoCo under the 500 Hz loop and FSM")
    sim.add_argument("--variant", default="29dof", help="robot variant: 29dof (default) or 23dof")
    sim.add_argument("--duration", type=_positive, default=10.0,
                     help="simulated seconds to hold the final state after the sequence (default 10)")
    sim.add_argument("--sequence", default="4",
                     help="FSM ids to request in order after spawning in damp, e.g. 4,2,4,3,4 (default 4)")
    sim.add_argument("--hold", type=_positive, default=1.0, help="seconds each step holds before the next (default 1)")
    sim.add_argument("--lockstep", action="store_true", help="run as fast as the CPU allows instead of real time")
    sim.add_argument("--no-band", action="store_true", help="spawn standing on the floor, without the elastic band")
    sim.add_argument("--spawn-pose", default="stand", help="pose to spawn in: stand (default), squat, sit or zero")
    sim.add_argument("--viewer", action="store_true", help="open the MuJoCo viewer (needs a display)")
    sim.add_argument("--video", metavar="PATH.mp4", help="record the run headless (runs in lock-step)")
    sim.add_argument("--summary-json", metavar="PATH", help="write the final summary as JSON")
    sim.add_argument("--mesh-dir", metavar="DIR", help="folder with Unitree's G1 .STL meshes for visuals (optional)")
    sim.set_defaults(func=cmd_sim)

    bridge = sub.add_parser("bridge", help="serve the simulated G1 over DDS as a real G1 would (domain 1 on lo)")
    bridge.add_argument("--domain", type=int, default=1, help="DDS domain id (default 1, the simulator convention)")
    bridge.add_argument("--iface", default="lo", help="network interface (default lo)")
    bridge.add_argument("--variant", default="29dof", help="29dof (default) or 23dof")
    bridge.add_argument("--mode-machine", type=int, help="mode_machine to report (default: the variant's, 5 for 29dof)")
    bridge.add_argument("--no-band", action="store_true", help="no elastic band: the robot starts standing on the floor")
    bridge.add_argument("--spawn-pose", default="stand", help="pose to spawn in: stand (default), squat, sit or zero")
    bridge.add_argument("--duration", type=_positive, default=0.0, help="seconds to run (default: until Ctrl-C)")
    bridge.add_argument("--remote-script", metavar="T:KEY[+KEY],...",
                        help="emulated remote presses, e.g. 2:start,8:L2+B (seconds after start)")
    bridge.add_argument("--viewer", action="store_true", help="open the MuJoCo viewer (needs a display)")
    bridge.add_argument("--summary-json", metavar="PATH", help="write the bridge's counters at exit as JSON")
    bridge.set_defaults(func=cmd_bridge)

    deploy = sub.add_parser("deploy", help="run the loop and FSM against a G1 over DDS (--sim: the bridge)")
    target = deploy.add_mutually_exclusive_group(required=True)
    target.add_argument("--sim", action="store_true", help="the bridge: domain 1 on lo")
    target.add_argument("--iface", help="the robot's wired network interface (domain 0)")
    deploy.add_argument("--domain", type=int, help="DDS domain id (default: 1 with --sim, 0 with --iface)")
    deploy.add_argument("--variant", default="29dof", help="29dof (default) or 23dof")
    deploy.add_argument("--sequence", default="4", help="FSM ids to request after damp, e.g. 4,2,4 (default 4)")
    deploy.add_argument("--duration", type=_positive, default=10.0, help="seconds to hold after the sequence (default 10)")
    deploy.add_argument("--hold", type=_positive, default=1.0, help="seconds each step holds before the next (default 1)")
    deploy.add_argument("--summary-json", metavar="PATH", help="write the final summary as JSON")
    deploy.set_defaults(func=cmd_deploy)

    bench = sub.add_parser("bench", help="benchmark physics, the stack in lock-step, and the real-time loop")
    bench.add_argument("--realtime-seconds", type=_positive, default=60.0, help="length of the real-time run (default 60)")
    bench.add_argument("--lockstep-seconds", type=_positive, default=20.0,
                       help="simulated seconds for the raw-physics and lock-step runs (default 20)")
    bench.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    bench.add_argument("--dds", action="store_true",
                       help="benchmark the DDS path instead: codec, loopback round trip, deploy loop against a bridge")
    bench.set_defaults(func=cmd_bench)

    model = sub.add_parser("model", help="print or write the project's MJCF of the G1")
    model.add_argument("--variant", default="29dof", help="29dof (default) or 23dof")
    model.add_argument("--world", action="store_true", help="include floor, light and elastic band")
    model.add_argument("--mesh-dir", metavar="DIR", help="folder with Unitree's .STL meshes")
    model.add_argument("--out", metavar="PATH", help="write to a file instead of stdout")
    model.set_defaults(func=cmd_model)
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
