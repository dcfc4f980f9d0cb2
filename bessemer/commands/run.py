"""`bessemer run`: the whole stack as processes; `bessemer fsm`, `bessemer status`, `bessemer keys`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bessemer.commands import CliError, arg_types
from bessemer.commands.stack_options import endpoints_from


def run(args: argparse.Namespace) -> int:
    from bessemer.control_client import StackUnreachable
    from bessemer.endpoints import EndpointError
    from bessemer.launch import LaunchConfig, Launcher, NodeDied, SequenceRefused
    from bessemer.status import StatusLine

    from bessemer.commands import check_outputs, ignoring_interrupts, write_output
    from bessemer.runtime.session import check_sequence

    sequence = args.sequence
    check_sequence(sequence, policy_seated=True)
    if args.follow_sound is not None and args.intercept is not None:
        raise CliError("--follow-sound and --intercept are two scenes: give one")
    for option, seed in (("--follow-sound", args.follow_sound), ("--intercept", args.intercept)):
        if seed is None:
            continue
        if args.iface or args.no_perception:
            raise CliError(f"{option} is a simulated scene: it needs --sim and the perception node")
        if args.policy == "wave":
            args.policy = "walk"
    if args.policy != "wave":
        _check_learned_policy(args)
    check_outputs({"--policy": args.policy if isinstance(args.policy, Path) else None, "--keys": args.keys},
                  {"--summary-json": args.summary_json, "--record": args.record}, keep=("--record",), force=args.force)
    node_args = ["--variant", args.variant] + (["--iface", args.iface, "--domain", str(args.domain)] if args.iface else [])
    if args.no_band:
        node_args.append("--no-band")
    if args.record:
        node_args += ["--record", str(args.record.resolve())]
    status_line = StatusLine()
    launcher = Launcher(LaunchConfig(endpoints_from(args), node_args, sequence=sequence, hold=args.hold,
                                     duration=args.duration, variant=args.variant,
                                     target_deadline_ms=args.target_deadline, policy=args.policy,
                                     command=",".join(str(v) for v in args.cmd),
                                     perception=not (args.no_perception or args.iface),
                                     follow_sound=args.follow_sound, intercept=args.intercept),
                        say=status_line.event, show=lambda s: status_line.show(_status_text(s)))
    code = 0
    try:
        launcher.start()
        launcher.run_sequence()
        launcher.hold()
    except KeyboardInterrupt:
        status_line.event("interrupted")
    except (NodeDied, SequenceRefused, StackUnreachable) as exc:
        status_line.event(str(exc))
        code = 1
    except EndpointError as exc:
        launcher.shutdown()
        raise CliError(str(exc)) from None
    with ignoring_interrupts():
        judge = launcher.watch.summary() if launcher.watch is not None else None
        final = launcher.shutdown()
        status_line.close()
        if judge is not None:
            status_line.event(_intercept_line(judge))
        if final is not None:
            if judge is not None:
                final["intercept"] = judge
            if final["fsm"]["faults"] and code == 0:
                code = 1
            print(json.dumps(final, indent=2))
            if args.summary_json:
                write_output(args.summary_json, json.dumps(final, indent=2) + "\n", "summary")
    low = launcher.procs.get("lowlevel")
    if args.record and low is not None and low.returncode:
        said = low.stderr.read().strip().splitlines() or [f"the low-level node exited {low.returncode}"]
        raise CliError(said[-1].removeprefix("bessemer: error: "))
    return code


def _check_learned_policy(args: argparse.Namespace) -> None:
    """Refuse here, before any node starts, what the policy node would die on after the robot stood up."""
    from bessemer.commands.policy_options import load_policy

    load_policy(args, args.variant)


def _intercept_line(judge: dict) -> str:
    ended = f" ({judge['ended_by']})" if judge["ended_by"] else ""
    if judge["rest_xy_m"] is None:
        return f"intercept: the perception node never reported the scene{ended}"
    rest = ", ".join(f"{v:.2f}" for v in judge["rest_xy_m"])
    how = "REACHED" if judge["reached"] else "not reached"
    return (f"intercept {how}: ball {'at rest' if judge['ball_at_rest'] else 'still rolling'} at ({rest}) m, pelvis "
            f"{judge['final_distance_m']:.2f} m from it{', FELL' if judge['fell'] else ', upright'}{ended}")


def _degraded(node: dict) -> str:
    if not node["degraded"]:
        return ""
    return f" DEGRADED ({node['reason']})" if node.get("reason") else " DEGRADED"


def _status_text(s: dict) -> str:
    fsm, loop = s["fsm"], s["loop"]
    rate = f"{loop['rate_hz']:.1f} Hz" if loop["rate_hz"] else "-"
    p99 = f"{loop['period_error_p99_us']:.0f}" if loop["period_error_p99_us"] is not None else "-"
    nodes = " | ".join(f"{name} {n['rate_hz']:.1f} Hz {n['latency_ms']:.1f} ms{_degraded(n)}"
                       for name, n in sorted(s["nodes"].items()))
    fault = f" | FAULT {fsm['fault']}" if fsm["fault"] else ""
    return (f"fsm {fsm['state']} {fsm['name']} | loop {rate} p99 err {p99} us missed {loop['missed_deadlines']} | "
            f"{nodes}{fault}")


def fsm(args: argparse.Namespace) -> int:
    from bessemer.control_client import StackUnreachable, request_fsm

    try:
        accepted, state, message = request_fsm(endpoints_from(args), int(args.state_id))
    except StackUnreachable as exc:
        raise CliError(str(exc)) from None
    print(message)
    if not accepted:
        print(f"bessemer: refused: {message}", file=sys.stderr)
    return 0 if accepted else 1


def status(args: argparse.Namespace) -> int:
    from bessemer.control_client import StackUnreachable, request_status

    try:
        s = request_status(endpoints_from(args))
    except StackUnreachable as exc:
        raise CliError(str(exc)) from None
    print(json.dumps(s, indent=2) if args.json else _status_text(s))
    return 0


def keys(args: argparse.Namespace) -> int:
    from bessemer.endpoints import KEY_FILES, create_keys

    existing = [name for name in KEY_FILES if (args.folder / name).exists()]
    if existing and not args.force:
        raise CliError(f"{args.folder} already holds CURVE keys ({', '.join(existing)}): new ones would lock out every "
                       "client that holds the old; pass --force to replace them, or choose another folder")
    create_keys(args.folder)
    print(f"CURVE keys written to {args.folder}: server.key(_secret), client.key(_secret); "
          "copy client.key_secret and server.key to the machine that connects")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    from bessemer.commands.stack_options import add_stack_options

    run_parser = sub.add_parser("run", help="the whole stack as processes: low-level, policy and perception nodes over ZMQ")
    target = run_parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--sim", action="store_true", help="the low-level node drives the in-process simulation")
    target.add_argument("--iface", type=arg_types.network_interface,
                        help="the low-level node drives a G1 over DDS on this interface")
    run_parser.add_argument("--domain", type=arg_types.dds_domain, default=0,
                            help="DDS domain with --iface (default 0)")
    run_parser.add_argument("--variant", type=arg_types.variant, default="29dof", help="29dof (default) or 23dof")
    run_parser.add_argument("--sequence", type=arg_types.fsm_sequence, default="4,200",
                            help="FSM ids to request once the nodes are up (default 4,200)")
    run_parser.add_argument("--hold", type=arg_types.seconds, default=1.0,
                            help="seconds each step holds before the next (default 1)")
    run_parser.add_argument("--duration", type=arg_types.seconds, default=0.0,
                            help="seconds to run after the sequence (default: until Ctrl-C)")
    run_parser.add_argument("--no-band", action="store_true", help="simulation: no elastic band at start")
    run_parser.add_argument("--no-perception", action="store_true", help="do not start the perception node")
    run_parser.add_argument("--target-deadline", type=arg_types.milliseconds, default=50.0,
                            help="ms each policy target stays valid: a silent policy damps the robot this long after (default 50)")
    run_parser.add_argument("--summary-json", type=arg_types.output_file, metavar="PATH",
                            help="write the final status as JSON")
    run_parser.add_argument("--policy", type=arg_types.policy_source("wave", "walk"), default="wave", metavar="wave|walk|PATH",
                            help="policy node's policy: wave (stand, wave an arm; default), walk (the shipped walking "
                                 "policy) or a learned policy file")
    run_parser.add_argument("--cmd", type=arg_types.velocity_command, default="0,0,0", metavar="VX,VY,WZ",
                            help="velocity command for a learned walking policy")
    run_parser.add_argument("--follow-sound", type=arg_types.seed, metavar="SEED",
                            help="simulation: the follow-sound scene of SEED; the policy node steers the walking policy "
                                 "to the sound with the perception node's percepts")
    run_parser.add_argument("--intercept", type=arg_types.seed, metavar="SEED",
                            help="simulation: the intercept scene of SEED; the perception node rolls its ball from the "
                                 "hand-over and sees it, the policy node walks the walking policy to where it will stop; "
                                 "the run ends when the robot stands there (or 40 s after the push) and says how it went")
    run_parser.add_argument("--record", type=arg_types.output_file, metavar="PATH.mcap",
                            help="the low-level node records every tick's state, command and FSM state, the FSM's "
                                 "events and the policy's targets to an MCAP file (as `bessemer sim --record`)")
    run_parser.add_argument("--force", action="store_true", help="overwrite an existing --record file")
    add_stack_options(run_parser)
    run_parser.set_defaults(func=run)

    fsm_parser = sub.add_parser("fsm", help="request an FSM state from a running stack, e.g. `bessemer fsm 1` to damp")
    fsm_parser.add_argument("state_id", type=arg_types.fsm_state,
                            help="FSM id: 0 zero torque, 1 damp, 2 squat, 3 sit, 4 stand-up, 200 start")
    add_stack_options(fsm_parser)
    fsm_parser.set_defaults(func=fsm)

    status_parser = sub.add_parser("status", help="one status line (or --json) from a running stack")
    status_parser.add_argument("--json", action="store_true", help="the whole status as JSON")
    add_stack_options(status_parser)
    status_parser.set_defaults(func=status)

    keys_parser = sub.add_parser("keys", help="create CURVE keys for a stack whose sockets go beyond loopback")
    keys_parser.add_argument("folder", type=arg_types.output_dir, help="folder to write server and client keys to")
    keys_parser.add_argument("--force", action="store_true", help="replace keys already in the folder")
    keys_parser.set_defaults(func=keys)
