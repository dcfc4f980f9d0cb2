"""`bessemer teleop`: move the simulated G1's arms and waist from the keyboard while the walking policy keeps
the legs, through the arm_sdk override; `--record` makes the session a dataset episode."""

from __future__ import annotations

import argparse
import json
import sys

from bessemer.commands import CliError, arg_types


def run(args: argparse.Namespace) -> int:
    from bessemer.commands import check_outputs, ignoring_interrupts, write_output
    from bessemer.commands.record_options import check_recorded
    from bessemer.commands.policy_options import load_policy
    from bessemer.runtime.low_level import LowLevelConfig, SimLowLevel
    from bessemer.runtime.policy_host import InProcessPolicy
    from bessemer.runtime.recorder import Recorder, RecorderConfig
    from bessemer.runtime.session import SessionConfig, SimSession
    from bessemer.runtime.teleop import HELP, ScriptedKeys, TerminalKeys, UpperBodyTeleop
    from bessemer.status import StatusLine, print_summary
    from control.external_targets import always
    from control.fsm import FsmId
    from control.loop import LoopConfig
    from control.upper_body import UpperBodyOverride

    scripted = args.keys is not None
    if not scripted and not sys.stdin.isatty():
        raise CliError("no terminal to read keys from: run it in a terminal, or pass --keys SCRIPT (e.g. 3:t]]++)")
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
    teleop = UpperBodyTeleop(override, policy.command)
    keys = ScriptedKeys(args.keys) if scripted else TerminalKeys()
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
    status.event(f"standing up, then the walking policy takes the legs; {HELP}")
    try:
        try:
            low.loop.run(session.tick)
        except KeyboardInterrupt:
            session.stopped_early = True
        session.finish()
    finally:
        with ignoring_interrupts():
            keys.close()
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

    parser = sub.add_parser("teleop", help="move the simulated G1's arms and waist from the keyboard while the "
                                           "walking policy keeps the legs (Unitree's arm_sdk override)")
    parser.add_argument("--keys", type=arg_types.teleop_script, metavar="SCRIPT",
                        help="key presses at run seconds instead of the terminal, e.g. '3:t,3.5:]]+++,6:q' "
                             "(runs in lock-step)")
    parser.add_argument("--duration", type=arg_types.seconds, default=600.0,
                        help="seconds the policy walks before the session ends, unless q comes first (default 600)")
    parser.add_argument("--record", type=arg_types.output_file, metavar="PATH.mcap",
                        help="record the session (then `bessemer dataset` makes it an episode)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing --record file")
    parser.add_argument("--summary-json", type=arg_types.output_file, metavar="PATH",
                        help="write the final summary as JSON")
    add_policy_options(parser)
    parser.set_defaults(func=run)
