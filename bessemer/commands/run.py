"""`bessemer run`: the whole stack as processes; `bessemer fsm`, `bessemer status`, `bessemer keys`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bessemer.commands import CliError
from bessemer.commands.stack_options import endpoints_from


def run(args: argparse.Namespace) -> int:
    from bessemer.control_client import StackUnreachable
    from bessemer.endpoints import EndpointError
    from bessemer.launch import LaunchConfig, Launcher, NodeDied, SequenceRefused
    from bessemer.commands.policy_options import parse_command
    from bessemer.runtime.session import parse_sequence
    from bessemer.status import StatusLine

    sequence = parse_sequence(args.sequence)
    if args.follow_sound is not None:
        if args.iface or args.no_perception:
            raise CliError("--follow-sound is a simulated scene: it needs --sim and the perception node")
        if args.policy == "wave":
            args.policy = "walk"
    node_args = ["--variant", args.variant] + (["--iface", args.iface, "--domain", str(args.domain)] if args.iface else [])
    if args.no_band:
        node_args.append("--no-band")
    status_line = StatusLine()
    launcher = Launcher(LaunchConfig(endpoints_from(args), node_args, sequence=sequence, hold=args.hold,
                                     duration=args.duration, variant=args.variant,
                                     target_deadline_ms=args.target_deadline, policy=args.policy,
                                     command=",".join(str(v) for v in parse_command(args.cmd)),
                                     perception=not (args.no_perception or args.iface),
                                     follow_sound=args.follow_sound),
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
    final = launcher.shutdown()
    status_line.close()
    if final is not None:
        print(json.dumps(final, indent=2))
        if args.summary_json:
            Path(args.summary_json).write_text(json.dumps(final, indent=2) + "\n")
    return code


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
        value = int(args.state_id)
    except ValueError:
        raise CliError(f"FSM state id must be a number, got {args.state_id!r}") from None
    try:
        accepted, state, message = request_fsm(endpoints_from(args), value)
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
    from bessemer.endpoints import create_keys

    create_keys(Path(args.folder))
    print(f"CURVE keys written to {args.folder}: server.key(_secret), client.key(_secret); "
          "copy client.key_secret and server.key to the machine that connects")
    return 0
