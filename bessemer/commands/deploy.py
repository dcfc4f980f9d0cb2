"""`bessemer deploy`: the loop and FSM against a G1 over DDS."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bessemer.commands import CliError, arg_types
from bessemer.commands.policy_options import load_policy


def run(args: argparse.Namespace) -> int:
    from bessemer.commands import check_outputs, ignoring_interrupts, write_output
    from bessemer.commands.record_options import check_recorded
    from bessemer.runtime.policy_host import InProcessPolicy
    from bessemer.runtime.session import ScriptedRun, SessionConfig
    from bessemer.runtime.low_level import LowLevel, LowLevelConfig
    from bessemer.runtime.recorder import Recorder
    from bessemer.status import StatusLine, print_summary
    from control.external_targets import always
    from control.fsm import FsmId
    from control.upper_body import UpperBodyOverride
    from control.loop import LoopConfig
    from control.safety import SafetyConfig
    from control.remote_commands import RemoteFsmCommands
    from robots.dds import DdsConfig, DdsStartupError, connect_g1

    sequence = args.sequence
    services = not args.no_unitree_services
    wants_policy = FsmId.START in sequence or (services and args.variant == "29dof")
    policy = load_policy(args, args.variant) if wants_policy else None
    check_outputs({"--policy": args.policy if isinstance(args.policy, Path) else None},
                  {"--record": args.record, "--summary-json": args.summary_json}, keep=("--record",),
                  force=args.force)
    if args.rerun:
        from bessemer.commands.view import require_viewer

        require_viewer("record with --record and write a Rerun file with `bessemer view FILE.mcap --save OUT.rrd`")
    interface = "lo" if args.sim else args.iface
    domain = args.domain if args.domain is not None else (1 if args.sim else 0)
    status = StatusLine()
    try:
        robot = connect_g1(DdsConfig(interface=interface, domain=domain, variant=args.variant), status.event,
                           release=not args.sim)
    except DdsStartupError as exc:
        raise CliError(str(exc)) from None
    safety = SafetyConfig(max_state_age=args.max_state_age / 1e3)
    low = LowLevel(robot, LowLevelConfig(loop=LoopConfig(realtime=True), safety=safety),
                   policy_alive=always if policy is not None else None)
    run = ScriptedRun(low, SessionConfig(sequence=sequence, duration=args.duration, hold=args.hold))
    upper_body = UpperBodyOverride() if policy is not None else None
    unitree = None
    if services:
        from bessemer.runtime.unitree_services import UnitreeServices
        from robots.unitree_rpc import ServiceTaken

        try:
            unitree = UnitreeServices(robot.link, low, policy.command if policy is not None else None, upper_body,
                                      say=run.event)
        except ServiceTaken as exc:
            robot.close()
            raise CliError(str(exc)) from None
        run.every(10, lambda r: unitree.poll() if r.sequence_done else None)
        status.event("serving Unitree's sport, arm and rt/arm_sdk for this robot once the sequence is done")
    if policy is not None:
        import torch

        torch.set_num_threads(1)
        InProcessPolicy(policy, run, upper_body=upper_body)
    run.on_event = status.event
    run.every(25, status.update)
    remote = RemoteFsmCommands(low.fsm)

    def poll_remote(r: ScriptedRun) -> None:
        result = remote.poll(r.low.controller.state)
        if result is not None:
            r.event(f"remote: {result.message}")

    run.every(10, poll_remote)
    recording = Recorder(args.record, robot.num_motors) if args.record else None
    if recording is not None:
        recording.attach(run, policy)
    live = None
    if args.rerun:
        from bessemer.runtime.rerun_live import LiveRerun

        live = LiveRerun(run)
    try:
        low.loop.run(run.tick)
    except KeyboardInterrupt:
        run.stopped_early = True
    finally:
        with ignoring_interrupts():
            run.finish()
            summary = run.summary()
            low.damp_before_exit()
            status.event("exit: robot left in damp")
            if recording is not None:
                summary["recording"] = recording.close()
            if live is not None:
                summary["rerun"] = live.close()
            status.close()
    with ignoring_interrupts():
        summary["command"] = "deploy"
        summary["dds"] = {"domain": domain, "interface": interface, **vars(robot.counters)}
        if unitree is not None:
            summary["unitree_services"] = unitree.counters
        robot.close()
        print_summary(summary)
        if args.summary_json:
            write_output(args.summary_json, json.dumps(summary, indent=2) + "\n", "summary")
    check_recorded(summary.get("recording"))
    return 1 if summary["sequence"]["refused"] or summary["fsm"]["faults"] else 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    from bessemer.commands.policy_options import add_policy_options

    deploy_parser = sub.add_parser("deploy", help="run the loop and FSM against a G1 over DDS (--sim: the bridge)")
    target = deploy_parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--sim", action="store_true", help="the bridge: domain 1 on lo")
    target.add_argument("--iface", type=arg_types.network_interface,
                        help="the robot's wired network interface (domain 0)")
    deploy_parser.add_argument("--domain", type=arg_types.dds_domain,
                               help="DDS domain id (default: 1 with --sim, 0 with --iface)")
    deploy_parser.add_argument("--variant", type=arg_types.variant, default="29dof", help="29dof (default) or 23dof")
    deploy_parser.add_argument("--sequence", type=arg_types.fsm_sequence, default="4",
                               help="FSM ids to request after damp, e.g. 4,2,4 (default 4)")
    deploy_parser.add_argument("--duration", type=arg_types.seconds, default=10.0,
                               help="seconds to hold after the sequence (default 10)")
    deploy_parser.add_argument("--hold", type=arg_types.seconds, default=1.0,
                               help="seconds each step holds before the next (default 1)")
    deploy_parser.add_argument("--summary-json", type=arg_types.output_file, metavar="PATH",
                               help="write the final summary as JSON")
    deploy_parser.add_argument("--force", action="store_true", help="overwrite an existing --record file")
    deploy_parser.add_argument("--record", type=arg_types.output_file, metavar="PATH.mcap",
                               help="record every tick's state, command and FSM state, the FSM's events and the "
                                    "policy's targets to an MCAP file (an existing one is kept)")
    deploy_parser.add_argument("--rerun", action="store_true",
                               help="stream the robot to the Rerun viewer as it runs (needs a display)")
    deploy_parser.add_argument("--max-state-age", type=arg_types.float_in(10.0, 1000.0, what="milliseconds"),
                               default=40.0, metavar="MS",
                               help="how old the newest valid state may be before the robot damps (default 40 ms; "
                                    "raise it only for a simulator on a busy machine)")
    deploy_parser.add_argument("--no-unitree-services", action="store_true",
                               help="do not serve Unitree's sport (LocoClient) service for this robot")
    add_policy_options(deploy_parser)
    deploy_parser.set_defaults(func=run)
