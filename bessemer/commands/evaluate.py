"""`bessemer eval`: a walking policy judged in simulation, on the project's G1 or another model."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from bessemer.commands import CliError, arg_types, check_outputs, write_output

if TYPE_CHECKING:
    from policies.inference import LearnedPolicy
    from policies.training.evaluate import EvalConfig
    from sim.foreign_g1 import ForeignG1


def evaluate(args: argparse.Namespace) -> int:
    from bessemer.commands.policy_options import load_policy
    from policies.training.evaluate import EvalConfig, evaluate

    from sim.foreign_g1 import MENAGERIE, ForeignModelError, load_foreign_g1, menagerie_g1

    check_outputs({"--policy": args.policy if isinstance(args.policy, Path) else None,
                   "--model": args.model if isinstance(args.model, Path) else None},
                  {"--summary-json": args.summary_json})
    if args.table and args.handovers:
        raise CliError("--table and --handovers are two evaluations: give one of them")
    if args.table and tuple(args.cmd) != EvalConfig.command:
        raise CliError("--table evaluates its own commands: drop --cmd")
    policy = load_policy(args, "29dof")
    if args.handovers:
        return evaluate_handovers(args, policy)
    foreign = None
    if args.model is not None:
        try:
            foreign = load_foreign_g1(menagerie_g1() if args.model == MENAGERIE else args.model, policy.contract)
        except ForeignModelError as exc:
            raise CliError(f"--model {args.model}: {exc}") from None
    config = EvalConfig(command=args.cmd, seeds=args.seeds, first_seed=args.seed,
                        seconds=args.seconds, push_speed=args.push, push_every=args.push_every,
                        payload_kg=args.payload, friction=args.friction, gain_scale=args.gains)
    if args.table:
        return evaluate_table(args, policy, config, foreign)
    result = evaluate(policy, config, foreign=foreign)
    print(f"policy {result['policy']}  command {config.command}  {config.seeds} seeds x {config.seconds:g} s"
          + (f"  pushes of {config.push_speed:g} m/s every {config.push_every:g} s" if config.push_speed else ""))
    print(f"  model {args.model or 'nominal'}: {result['model']}")
    print(f"  falls {result['falls']}/{config.seeds}   mean survival {result['mean_survival_s']} s")
    def fmt(key: str, unit: str) -> str:
        return "n/a" if result[key] is None else f"{result[key]:+.3f} {unit}"

    print(f"  forward {fmt('forward_mps', 'm/s')}   lateral {fmt('lateral_mps', 'm/s')}   "
          f"yaw rate {fmt('yaw_rate_rps', 'rad/s')}   distance {result['distance_m']:.2f} m")
    print(f"  error of the mean: velocity {fmt('velocity_error_mps', 'm/s')}, "
          f"yaw rate {fmt('yaw_rate_error_rps', 'rad/s')}")
    print(f"  tracking error, step by step (sway included): velocity {fmt('lin_tracking_error_mps', 'm/s')}, "
          f"yaw rate {fmt('yaw_tracking_error_rps', 'rad/s')}")
    if args.summary_json:
        write_output(args.summary_json, json.dumps(result, indent=2) + "\n", "summary")
    return 0


def evaluate_table(args: argparse.Namespace, policy: LearnedPolicy, config: EvalConfig,
                   foreign: ForeignG1 | None) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from policies.training.eval_table import COMMANDS, Bars, eval_table, markdown, misses

    bars = Bars() if foreign is None else Bars.on_another_model()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  disable=not sys.stderr.isatty(), transient=True) as progress:
        task = progress.add_task(f"{config.seeds} seeds x {config.seconds:g} s per command", total=len(COMMANDS))
        rows = eval_table(policy, config, foreign, progress=lambda _: progress.advance(task))
    model = rows[0]["model"]
    print(f"policy {policy.path}  {config.seeds} seeds x {config.seconds:g} s per command  model: {model}")
    yaw_bar = "yaw not judged" if bars.yaw_error is None else f"yaw error <= {bars.yaw_error:g} rad/s"
    print(f"bars: 0 falls, speed error <= {bars.speed_error:g} m/s, {yaw_bar}, standing drift <= "
          f"{bars.stand_drift:g} m/s (errors of the mean over each episode)")
    print(markdown(rows, bars))
    met = sum(not misses(r, bars) for r in rows)
    print(f"{met} of {len(rows)} commands meet the bars")
    if args.summary_json:
        summary = {"policy": str(policy.path), "model": model, "bars": asdict(bars), "commands_meeting_bars": met,
                   "rows": rows}
        write_output(args.summary_json, json.dumps(summary, indent=2) + "\n", "summary")
    return 0


def evaluate_handovers(args: argparse.Namespace, policy: LearnedPolicy) -> int:
    from bessemer.tasks.handover import HandoverConfig, handover_trial

    if args.model is not None or args.push or args.payload or args.friction is not None or args.gains != 1.0:
        raise CliError("--handovers runs on the nominal project G1: drop --model, --push, --payload, --friction "
                       "and --gains")
    config = HandoverConfig(command=args.cmd)
    print(f"policy {policy.path}  {args.handovers} hand-overs 200 -> 4 mid-stride at command {config.command}"
          f"  ({'stops first: it can stand still' if policy.can_stand_still else 'at once: it cannot stand still'})")
    results = []
    for seed in range(args.seed, args.seed + args.handovers):
        r = handover_trial(policy.path, config, seed)
        results.append(r)
        delay = ("fell before the stand took over" if r.stand_after_s is None
                 else f"stand after {r.stand_after_s:.2f} s, still moving {r.speed_at_stand_mps:.2f} m/s")
        print(f"  seed {seed}: walking {r.speed_mps:.2f} m/s, {delay}: "
              + ("up" if r.up else f"FELL ({r.fault})"), flush=True)
    up = sum(r.up for r in results)
    print(f"  {up} of {len(results)} stayed up for {config.hold_s:g} s in the stand")
    if args.summary_json:
        summary = {"policy": str(policy.path), "command": list(config.command), "hold_s": config.hold_s,
                   "up": up, "trials": [asdict(r) for r in results]}
        write_output(args.summary_json, json.dumps(summary, indent=2) + "\n", "summary")
    return 0

def add_parser(sub: argparse._SubParsersAction) -> None:
    from bessemer.commands.policy_options import add_policy_options

    p = sub.add_parser("eval", help="evaluate a walking policy over seeds: tracking, falls, distance, survival")
    add_policy_options(p)
    p.set_defaults(cmd="0.5,0,0")
    p.add_argument("--seeds", type=arg_types.int_in(1, 4096, "a number of seeds"), default=10,
                   help="robots, one per seed (default 10)")
    p.add_argument("--seed", type=arg_types.seed, default=0, help="first seed (default 0)")
    p.add_argument("--seconds", type=arg_types.positive_seconds, default=20.0, help="episode length (default 20)")
    p.add_argument("--push", type=arg_types.speed, default=0.0, metavar="M/S",
                   help="sideways push speed (default: none)")
    p.add_argument("--push-every", type=arg_types.positive_seconds, default=5.0,
                   help="seconds between pushes (default 5)")
    p.add_argument("--payload", type=arg_types.float_in(-5.0, 20.0, what="a mass in kg"), default=0.0, metavar="KG",
                   help="mass added to the torso (default 0)")
    p.add_argument("--friction", type=arg_types.float_in(0.05, 3.0, what="a friction coefficient"), metavar="MU",
                   help="floor friction (default: the model's)")
    p.add_argument("--gains", type=arg_types.float_in(0.1, 2.0, what="a gain scale"), default=1.0, metavar="SCALE",
                   help="the motors' kp and kd as a fraction of the policy's (default 1)")
    p.add_argument("--model", type=arg_types.g1_model, metavar="FILE.xml",
                   help="run on another G1 instead of the project's (sim-to-sim): an MJCF file with Unitree's joint "
                        "names, or menagerie (MuJoCo Menagerie's G1, from the sim2sim extra)")
    p.add_argument("--table", action="store_true",
                   help="instead of --cmd: the whole command range (forward 0.5 and 1.0, backward, sideways, turns "
                        "of +-0.5 and +-1.0 rad/s, standing), one row each, judged against a robot-ready walker's "
                        "bars (0 falls; speed error 0.1 m/s, or 0.15 on another --model; yaw 0.15 rad/s on the project's G1)")
    p.add_argument("--handovers", type=arg_types.int_in(1, 1000, "a number of hand-overs"), metavar="N",
                   help="instead: N hand-overs from the walking policy to the stand (200 -> 4) mid-stride, one per "
                        "seed, each judged up if the stand still holds the robot 10 s later")
    p.add_argument("--summary-json", type=arg_types.output_file, metavar="PATH", help="write the results as JSON")
    p.set_defaults(func=evaluate)
