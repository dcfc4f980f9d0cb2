"""`bessemer bridge`: the simulated G1 served over DDS."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bessemer.commands import CliError, has_display

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
    if args.viewer and not has_display():
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
