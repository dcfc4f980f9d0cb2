"""`bessemer bridge`: the simulated G1 served over DDS."""

from __future__ import annotations

import argparse
import json
import sys

from bessemer.commands import CliError, arg_types, require_display

BRIDGE_RT_PRIORITY = 40
"""Below the deploy loop's 50: on one machine, the simulator yields to the controller under test."""



def run(args: argparse.Namespace) -> int:
    from bessemer.commands import check_outputs, ignoring_interrupts, write_output
    from bessemer.commands.record_options import check_recorded
    from control.loop import FixedRateLoop, LoopConfig
    from robots.remote import RemoteState
    from sim.bridge import BridgeConfig, BridgeStartupError, DdsBridge
    from robots.dds_transport import loopback_multicast_hint
    from sim.motion_switcher_service import BOOT_MODE
    from sim.world import WorldConfig

    presses = args.remote_script
    if args.viewer:
        require_display("run the bridge headless")
    check_outputs({}, {"--record": args.record, "--summary-json": args.summary_json}, keep=("--record",),
                  force=args.force)
    try:
        bridge = DdsBridge(BridgeConfig(world=WorldConfig(variant=args.variant), domain=args.domain,
                                        interface=args.iface, mode_machine=args.mode_machine, band=not args.no_band,
                                        spawn_pose=args.spawn_pose, motion_mode="" if args.released else BOOT_MODE))
    except BridgeStartupError as exc:
        raise CliError(str(exc)) from None
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
    recording = before = None
    if args.record:
        from bessemer.runtime.recorder import Recorder
        from robots.interface import RobotState

        recording = Recorder(args.record, bridge.robot.num_motors)
        before = RobotState(bridge.robot.num_motors)
        recording.attach_bridge(bridge.robot, bridge.command, before, loop.config.period, args.spawn_pose)
    if (hint := loopback_multicast_hint(args.iface)) is not None:
        print(f"bessemer bridge: {hint}", file=sys.stderr, flush=True)
    print(f"bessemer bridge: G1 {args.variant} on DDS domain {args.domain} via {args.iface}, mode_machine "
          f"{bridge.mode_machine}, band {'on' if not args.no_band else 'off'}; Ctrl-C stops"
          + (f"\nremote from the keyboard: {HELP}" if keyboard else ""), file=sys.stderr, flush=True)
    held: frozenset[str] = frozenset()
    told: set[str] = set()
    notices = {
        "ab_mode_commands": "LowCmd_ with mode_pr 1 (A/B ankle motors) arrive; the simulated G1 applies their ankle "
                            "targets as pitch/roll (mode_pr 0) and counts them",
        "commands_while_mode_active": "LowCmd_ arrive while motion_switcher still reports a mode: on a real G1 "
                                      "Unitree's locomotion would fight them; release it first (ReleaseMode, 1003)",
        "non_finite_commands": "LowCmd_ with NaN or Inf arrive: the simulated G1 never applies them (the previous "
                               "command holds) and counts them",
    }

    def tick(k: int) -> bool:
        nonlocal held
        if k % 500 == 0:
            for counter, text in notices.items():
                if counter not in told and getattr(bridge.counters, counter):
                    told.add(counter)
                    print(f"bessemer bridge: {text}", file=sys.stderr, flush=True)
        if k in press_ticks:
            bridge.set_remote(RemoteState(set(press_ticks[k])))
        elif k in release_ticks:
            bridge.set_remote(RemoteState())
        elif keyboard is not None and k % 10 == 0 and keyboard.held() != held:
            held = keyboard.held()
            bridge.set_remote(RemoteState(set(held)))
        if recording is not None:
            state = bridge.robot.read()
            before.values[:] = state.values
            before.tick, before.stamp = state.tick, state.stamp
        bridge.tick(k)
        if recording is not None:
            recording.sample()
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
        with ignoring_interrupts():
            if keyboard is not None:
                keyboard.close()
            if viewer is not None:
                viewer.close()
            bridge.close()
            recorded = recording.close() if recording is not None else None
    summary = {"command": "bridge", "domain": args.domain, "interface": args.iface, "mode_machine": bridge.mode_machine,
               "sim_time_s": round(bridge.robot.time, 4), "base_height_m": round(bridge.robot.base_height, 4),
               "base_xy_m": [round(float(v), 4) for v in bridge.robot.data.qpos[:2]],
               "band_engaged": bridge.robot.band_engaged, "counters": vars(bridge.counters),
               "motion_switcher": {"mode": bridge.motion_switcher.mode.name, **vars(bridge.motion_switcher.server.counters)},
               "loop": loop.timing.summary().as_dict()}
    if recorded is not None:
        summary["recording"] = recorded
    with ignoring_interrupts():
        print(json.dumps(summary, indent=2))
        if args.summary_json:
            write_output(args.summary_json, json.dumps(summary, indent=2) + "\n", "summary")
    check_recorded(recorded)
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    bridge_parser = sub.add_parser("bridge", help="serve the simulated G1 over DDS as a real G1 would (domain 1 on lo)")
    bridge_parser.add_argument("--domain", type=arg_types.dds_domain, default=1,
                               help="DDS domain id (default 1, the simulator convention)")
    bridge_parser.add_argument("--iface", type=arg_types.network_interface, default="lo",
                               help="network interface (default lo)")
    bridge_parser.add_argument("--variant", type=arg_types.variant, default="29dof", help="29dof (default) or 23dof")
    bridge_parser.add_argument("--mode-machine", type=arg_types.byte,
                               help="mode_machine to report (default: the variant's, 5 for 29dof)")
    bridge_parser.add_argument("--released", action="store_true",
                               help="start with Unitree's motion mode released (motion_switcher reports none)")
    bridge_parser.add_argument("--no-band", action="store_true",
                               help="no elastic band: the robot starts standing on the floor")
    bridge_parser.add_argument("--spawn-pose", type=arg_types.spawn_pose, default="stand",
                               help="pose to spawn in: stand (default), squat, sit or zero")
    bridge_parser.add_argument("--duration", type=arg_types.seconds, default=0.0,
                               help="seconds to run (default: until Ctrl-C)")
    bridge_parser.add_argument("--remote-script", type=arg_types.remote_script, default=[], metavar="T:KEY[+KEY],...",
                               help="emulated remote presses, e.g. 2:start,8:L2+B (seconds after start)")
    bridge_parser.add_argument("--viewer", action="store_true", help="open the MuJoCo viewer (needs a display)")
    bridge_parser.add_argument("--summary-json", type=arg_types.output_file, metavar="PATH",
                               help="write the bridge's counters at exit as JSON")
    bridge_parser.add_argument("--record", type=arg_types.output_file, metavar="PATH.mcap",
                               help="record every tick's simulated state, the command applied and the pelvis to an "
                                    "MCAP file (replays with `bessemer replay`)")
    bridge_parser.add_argument("--force", action="store_true", help="overwrite an existing --record file")
    bridge_parser.set_defaults(func=run)
