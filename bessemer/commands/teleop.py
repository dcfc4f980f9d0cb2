"""`bessemer teleop`: move the G1's arms and waist from the keyboard while the walking policy keeps the legs,
through the arm_sdk override. Alone it runs the simulated G1 in its own process (`--record` makes the
session a dataset episode); with `--sim` or `--iface` it sends `rt/arm_sdk` to the robot that `bessemer
deploy` drives (and records)."""

from __future__ import annotations

import argparse
import json
import sys

from bessemer.commands import CliError, arg_types


def run(args: argparse.Namespace) -> int:
    from bessemer.runtime.teleop import ScriptedKeys, TerminalKeys

    scripted = args.keys is not None
    if not scripted and not sys.stdin.isatty():
        raise CliError("no terminal to read keys from: run it in a terminal, or pass --keys SCRIPT (e.g. 3:t]]++)")
    over_dds = args.sim or args.iface is not None
    if over_dds and (args.record or args.summary_json):
        raise CliError("--record and --summary-json belong to the `bessemer deploy` that drives the robot; teleop "
                       "beside it only sends rt/arm_sdk")
    keys = ScriptedKeys(args.keys) if scripted else TerminalKeys()
    try:
        return _beside_a_robot(args, keys) if over_dds else _in_process(args, keys, scripted)
    finally:
        keys.close()


def _beside_a_robot(args: argparse.Namespace, keys) -> int:
    import time

    from bessemer.runtime.teleop import ArmSdkPublisher, UpperBodyTeleop, help_line
    from robots.dds_transport import DdsLink

    interface = "lo" if args.sim else args.iface
    domain = args.domain if args.domain is not None else (1 if args.sim else 0)
    try:
        publisher = ArmSdkPublisher(DdsLink(domain, interface))
    except ValueError as exc:
        raise CliError(str(exc)) from None
    teleop = UpperBodyTeleop(publisher.request)
    print(f"sending rt/arm_sdk on domain {domain} ({interface}); the robot's deploy keeps the legs; "
          f"{help_line(walking=False)}", file=sys.stderr)
    start = time.monotonic()
    period = 1.0 / publisher.rate_hz
    try:
        while not teleop.quit and (elapsed := time.monotonic() - start) < args.duration:
            for key in keys.due(elapsed):
                said = teleop.press(key)
                if said is not None:
                    print(f"t={elapsed:6.2f}s  {said}", file=sys.stderr)
            publisher.send()
            time.sleep(period - (time.monotonic() - start) % period)
    except KeyboardInterrupt:
        pass
    print(f"sent {publisher.sent} rt/arm_sdk commands; silence hands the arms back to the policy", file=sys.stderr)
    return 0


def _in_process(args: argparse.Namespace, keys, scripted: bool) -> int:
    from bessemer.commands import check_outputs, ignoring_interrupts, write_output
    from bessemer.commands.policy_options import load_policy
    from bessemer.commands.record_options import check_recorded
    from bessemer.runtime.low_level import LowLevelConfig, SimLowLevel
    from bessemer.runtime.policy_host import InProcessPolicy
    from bessemer.runtime.recorder import Recorder, RecorderConfig
    from bessemer.runtime.session import SessionConfig, SimSession
    from bessemer.runtime.teleop import UpperBodyTeleop, help_line
    from bessemer.status import StatusLine, print_summary
    from control.external_targets import always
    from control.fsm import FsmId
    from control.loop import LoopConfig
    from control.upper_body import UpperBodyOverride

    policy = load_policy(args, "29dof")
    check_outputs({"--policy": args.policy if not isinstance(args.policy, str) else None},
                  {"--record": args.record, "--summary-json": args.summary_json}, keep=("--record",),
                  force=args.force)
    import torch

    torch.set_num_threads(1)
    low = SimLowLevel(LowLevelConfig(loop=LoopConfig(realtime=not scripted)), policy_alive=always)
    session = SimSession(low, SessionConfig(sequence=(FsmId.STAND_UP, FsmId.START), duration=args.duration))
    override = UpperBodyOverride()
    InProcessPolicy(policy, session, upper_body=override)
    teleop = UpperBodyTeleop(override.request, policy.command)
    status = StatusLine()
    session.on_event = status.event
    session.every(25, status.update)

    def poll(run: SimSession) -> None:
        if run.low.fsm.state != FsmId.START:
            return
        for key in keys.due(run.elapsed):
            said = teleop.press(key)
            if said is not None:
                run.event(said)
        if teleop.quit:
            run.low.loop.stop()

    session.every(10, poll)
    recording = None
    if args.record:
        recording = Recorder(args.record, low.robot.num_motors, RecorderConfig(wait_when_full=scripted))
        recording.attach(session, policy)
    status.event(f"standing up, then the walking policy takes the legs; {help_line(walking=True)}")
    try:
        try:
            low.loop.run(session.tick)
        except KeyboardInterrupt:
            session.stopped_early = True
        session.finish()
    finally:
        with ignoring_interrupts():
            status.close()
            recorded = recording.close() if recording is not None else None
    with ignoring_interrupts():
        summary = session.summary()
        summary["command"] = "teleop"
        if recorded is not None:
            summary["recording"] = recorded
        print_summary(summary)
        if args.summary_json:
            write_output(args.summary_json, json.dumps(summary, indent=2) + "\n", "summary")
    check_recorded(recorded)
    return 1 if summary["sequence"]["refused"] or summary["fsm"]["faults"] else 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    from bessemer.commands.policy_options import add_policy_options

    parser = sub.add_parser("teleop", help="move the G1's arms and waist from the keyboard while the walking "
                                           "policy keeps the legs (Unitree's arm_sdk override)")
    robot = parser.add_mutually_exclusive_group()
    robot.add_argument("--sim", action="store_true",
                       help="send rt/arm_sdk to the bridge's G1 (domain 1 on lo), driven by `bessemer deploy --sim`")
    robot.add_argument("--iface", type=arg_types.network_interface,
                       help="send rt/arm_sdk to the real G1 on this wired interface (domain 0), driven by "
                            "`bessemer deploy`")
    parser.add_argument("--domain", type=arg_types.dds_domain,
                        help="DDS domain id (default: 1 with --sim, 0 with --iface)")
    parser.add_argument("--keys", type=arg_types.teleop_script, metavar="SCRIPT",
                        help="key presses at run seconds instead of the terminal, e.g. '3:t,3.5:]]+++,6:q' "
                             "(in-process: runs in lock-step)")
    parser.add_argument("--duration", type=arg_types.seconds, default=600.0,
                        help="seconds the session lasts unless q comes first (default 600; in-process: after "
                             "the policy takes over)")
    parser.add_argument("--record", type=arg_types.output_file, metavar="PATH.mcap",
                        help="in-process: record the session (then `bessemer dataset` makes it an episode)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing --record file")
    parser.add_argument("--summary-json", type=arg_types.output_file, metavar="PATH",
                        help="in-process: write the final summary as JSON")
    add_policy_options(parser)
    parser.set_defaults(func=run)
