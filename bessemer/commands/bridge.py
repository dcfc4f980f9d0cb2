"""`bessemer bridge`: the simulated G1 served over DDS."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bessemer.commands import CliError, non_negative, require_display

BRIDGE_RT_PRIORITY = 40
"""Below the deploy loop's 50: on one machine, the simulator yields to the controller under test."""



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


def run(args: argparse.Namespace) -> int:
    from bessemer.commands import check_writable
    from control.loop import FixedRateLoop, LoopConfig
    from robots.g1.poses import get_pose
    from robots.g1.variants import get_variant
    from robots.remote import RemoteState
    from sim.bridge import BridgeConfig, DdsBridge
    from sim.world import WorldConfig

    get_variant(args.variant)
    get_pose(args.spawn_pose)
    presses = _remote_script(args.remote_script)
    if args.viewer:
        require_display("run the bridge headless")
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
    told_ab_mode = False

    def tick(k: int) -> bool:
        nonlocal held, told_ab_mode
        if not told_ab_mode and k % 500 == 0 and bridge.counters.ab_mode_commands:
            told_ab_mode = True
            print("bessemer bridge: LowCmd_ with mode_pr 1 (A/B ankle motors) arrive; the simulated G1 applies their "
                  "ankle targets as pitch/roll (mode_pr 0) and counts them", file=sys.stderr, flush=True)
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
               "base_xy_m": [round(float(v), 4) for v in bridge.robot.data.qpos[:2]],
               "band_engaged": bridge.robot.band_engaged, "counters": vars(bridge.counters),
               "loop": loop.timing.summary().as_dict()}
    print(json.dumps(summary, indent=2))
    if args.summary_json:
        Path(args.summary_json).write_text(json.dumps(summary, indent=2) + "\n")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    bridge_parser = sub.add_parser("bridge", help="serve the simulated G1 over DDS as a real G1 would (domain 1 on lo)")
    bridge_parser.add_argument("--domain", type=int, default=1, help="DDS domain id (default 1, the simulator convention)")
    bridge_parser.add_argument("--iface", default="lo", help="network interface (default lo)")
    bridge_parser.add_argument("--variant", default="29dof", help="29dof (default) or 23dof")
    bridge_parser.add_argument("--mode-machine", type=int, help="mode_machine to report (default: the variant's, 5 for 29dof)")
    bridge_parser.add_argument("--no-band", action="store_true", help="no elastic band: the robot starts standing on the floor")
    bridge_parser.add_argument("--spawn-pose", default="stand", help="pose to spawn in: stand (default), squat, sit or zero")
    bridge_parser.add_argument("--duration", type=non_negative, default=0.0, help="seconds to run (default: until Ctrl-C)")
    bridge_parser.add_argument("--remote-script", metavar="T:KEY[+KEY],...",
                               help="emulated remote presses, e.g. 2:start,8:L2+B (seconds after start)")
    bridge_parser.add_argument("--viewer", action="store_true", help="open the MuJoCo viewer (needs a display)")
    bridge_parser.add_argument("--summary-json", metavar="PATH", help="write the bridge's counters at exit as JSON")
    bridge_parser.set_defaults(func=run)
