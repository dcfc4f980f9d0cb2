"""`bessemer bench`: what the physics, the whole stack and the 500 Hz loop cost on this machine.

Raw `mj_step` is the ceiling no controller can beat, so the stack's lock-step rate is reported as
overhead over it; the real-time run shows whether that leaves the loop on schedule. Lock-step
figures are the best of interleaved repeats: on a small shared machine, other work only ever
slows a run down, so the fastest repeat is the closest to what the code itself costs.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import mujoco
from rich import box
from rich.console import Console
from rich.table import Table

from bessemer.runtime.low_level import SimLowLevel, LowLevelConfig
from bessemer.runtime.recorder import Recorder
from bessemer.runtime.session import ScriptedRun, SessionConfig
from control.fsm import FsmId
from control.loop import LoopConfig
from robots.g1 import joints
from robots.g1.poses import POSES
from robots.interface import JointCommand
from sim.robot import SimRobot
from sim.world import WorldConfig

REPEATS = 3
MIN_SECONDS = 0.1
OVERHEAD_GOAL_PCT = 30.0
PERIOD_ERROR_P99_GOAL_US = 200.0
STANDING_TOLERANCE_M = 0.02
RECORDING_SECONDS = 20.0
"""Length of each of the two real-time runs (recording off, then on) the recording figure compares."""


def _raw_physics_rate(sim_seconds: float) -> float:
    """`mj_step` calls per wall second, the stand pose held by one command written once."""
    robot = SimRobot(WorldConfig())
    robot.reset(POSES["stand"], band=False)
    cmd = JointCommand(robot.num_motors)
    cmd.q[:] = POSES["stand"]
    cmd.kp[:] = joints.HOLD_KP
    cmd.kd[:] = joints.HOLD_KD
    cmd.enable[:] = 1.0
    robot.write(cmd)
    model, data, step = robot.model, robot.data, mujoco.mj_step
    steps = round(sim_seconds / model.opt.timestep)
    start = time.perf_counter()
    for _ in range(steps):
        step(model, data)
    return steps / (time.perf_counter() - start)


def _run_stack(realtime: bool, sim_seconds: float) -> dict:
    """Spawn on the floor, stand up, run; the figures include whether the G1 was still standing."""
    low = SimLowLevel(LowLevelConfig(loop=LoopConfig(realtime=realtime)))
    low.spawn(band=False)
    spawn_height = low.robot.base_height
    low.fsm.request(FsmId.STAND_UP)
    ticks = round(sim_seconds / low.config.loop.period)
    start = time.perf_counter()
    low.loop.run(lambda k: low.tick() or True, max_ticks=ticks)
    wall = time.perf_counter() - start
    standing = (low.fsm.state == FsmId.STAND_UP
                and abs(low.robot.base_height - spawn_height) <= STANDING_TOLERANCE_M)
    return {"steps_per_s": ticks * low.robot.substeps / wall, "realtime_factor": low.robot.time / wall,
            "standing": standing, "sched_fifo": low.loop.rt_granted, **low.loop.timing.summary().as_dict()}


def _scripted_realtime(seconds: float, record: Path | None) -> dict:
    """Stand up and hold in real time as `bessemer sim` runs, with or without `--record`."""
    low = SimLowLevel(LowLevelConfig(loop=LoopConfig(realtime=True)))
    low.spawn(band=False)
    run = ScriptedRun(low, SessionConfig(sequence=(FsmId.STAND_UP,), duration=seconds, damp_time=0.0))
    recorder = Recorder(record, low.robot.num_motors) if record else None
    if recorder is not None:
        recorder.attach(run)
    low.loop.run(run.tick, max_ticks=round(seconds / low.config.loop.period))
    figures = low.loop.timing.summary().as_dict()
    if recorder is not None:
        figures["recording"] = recorder.close()
    return figures


def _recording_cost(seconds: float) -> dict:
    """The loop's figures with recording off and on, back to back, and what the file grows by."""
    with tempfile.TemporaryDirectory() as folder:
        off = _scripted_realtime(seconds, None)
        on = _scripted_realtime(seconds, Path(folder) / "bench.mcap")
    rec = on["recording"]
    return {"seconds": seconds, "off": off, "on": on, "dropped": rec["dropped"],
            "mib_per_minute": rec["bytes"] / seconds * 60 / 2**20}


def _lockstep(sim_seconds: float) -> dict:
    raw_rates, stacks = [], []
    for _ in range(REPEATS):
        raw_rates.append(_raw_physics_rate(sim_seconds))
        stacks.append(_run_stack(False, sim_seconds))
    raw = max(raw_rates)
    low = max(stacks, key=lambda s: s["steps_per_s"])
    return {"sim_seconds": sim_seconds, "repeats": REPEATS,
            "raw_steps_per_s": raw, "raw_us_per_step": 1e6 / raw, "stack": low,
            "overhead_pct": (raw / low["steps_per_s"] - 1) * 100, "overhead_goal_pct": OVERHEAD_GOAL_PCT,
            "stack_overhead_per_tick_us": 1e6 / low["steps_per_s"] - 1e6 / raw}


def _verdict(ok: bool) -> str:
    return "[green]met[/]" if ok else "[red]NOT met[/]"


def _table(title: str) -> Table:
    table = Table(title=title, box=box.SIMPLE)
    table.add_column("figure", style="bold")
    table.add_column("value")
    table.add_column("goal")
    return table


def _lockstep_table(r: dict) -> Table:
    s, goal = r["stack"], r["overhead_goal_pct"]
    table = _table(f"lock-step, {r['sim_seconds']:g} s simulated, best of {r['repeats']}")
    table.add_row("raw mj_step", f"{r['raw_steps_per_s']:,.0f} steps/s ({r['raw_us_per_step']:.1f} us)", "")
    table.add_row("whole stack", f"{s['steps_per_s']:,.0f} steps/s, x{s['realtime_factor']:.1f} real time", "")
    table.add_row("overhead vs raw physics", f"{r['overhead_pct']:.1f} %",
                  f"<= {goal:g} %: {_verdict(r['overhead_pct'] <= goal)}")
    table.add_row("stack overhead per tick", f"{r['stack_overhead_per_tick_us']:.1f} us", "")
    table.add_row("compute per tick", f"p50 {s['compute_p50_us']:.1f} / p99 {s['compute_p99_us']:.1f} us", "")
    table.add_row("still standing", "yes" if s["standing"] else "[red]no[/]", "")
    return table


def _realtime_table(r: dict) -> Table:
    p99 = r["period_error_p99_us"]
    table = _table(f"real time, {r['ticks']} ticks at 500 Hz")
    table.add_row("achieved rate", f"{r['rate_hz']:.2f} Hz", "")
    table.add_row("period error", f"p50 {r['period_error_p50_us']:.1f} / p99 {p99:.1f} / "
                                  f"max {r['period_error_max_us']:.0f} us",
                  f"p99 <= {PERIOD_ERROR_P99_GOAL_US:g} us: {_verdict(p99 <= PERIOD_ERROR_P99_GOAL_US)}")
    table.add_row("missed deadlines", str(r["missed_deadlines"]), f"0: {_verdict(r['missed_deadlines'] == 0)}")
    table.add_row("compute per tick", f"p50 {r['compute_p50_us']:.1f} / p99 {r['compute_p99_us']:.1f} us", "")
    table.add_row("SCHED_FIFO", "granted" if r["sched_fifo"] else "not granted", "")
    table.add_row("still standing", "yes" if r["standing"] else "[red]no: figures are meaningless[/]", "")
    return table


def _recording_table(r: dict) -> Table:
    off, on = r["off"], r["on"]
    table = Table(title=f"recording (--record), real time, {r['seconds']:g} s off then on", box=box.SIMPLE)
    for column in ("figure", "off", "on"):
        table.add_column(column, style="bold" if column == "figure" else None)
    table.add_row("compute per tick p50 / p99", f"{off['compute_p50_us']:.1f} / {off['compute_p99_us']:.1f} us",
                  f"{on['compute_p50_us']:.1f} / {on['compute_p99_us']:.1f} us")
    table.add_row("period error p99", f"{off['period_error_p99_us']:.1f} us", f"{on['period_error_p99_us']:.1f} us")
    table.add_row("missed deadlines", str(off["missed_deadlines"]), str(on["missed_deadlines"]))
    table.add_row("ticks dropped", "", str(r["dropped"]))
    table.add_row("file size", "", f"{r['mib_per_minute']:.1f} MiB per minute")
    return table


def _check_seconds(name: str, seconds: float) -> None:
    if 0 < seconds < MIN_SECONDS:
        raise ValueError(f"{name} must be 0 (skip) or at least {MIN_SECONDS:g}, got {seconds:g}")


def run_benchmarks(realtime_seconds: float, lockstep_seconds: float) -> dict:
    """Run the lock-step and real-time benchmarks (0 s skips one), print a report, return the figures."""
    _check_seconds("--realtime-seconds", realtime_seconds)
    _check_seconds("--lockstep-seconds", lockstep_seconds)
    results: dict = {"lockstep": None, "realtime": None, "recording": None}
    if lockstep_seconds:
        print(f"lock-step: raw physics and whole stack, {lockstep_seconds:g} s simulated each, best of {REPEATS}",
              file=sys.stderr, flush=True)
        results["lockstep"] = _lockstep(lockstep_seconds)
    if realtime_seconds:
        print(f"real time: running the stack at 500 Hz for {realtime_seconds:g} s ...", file=sys.stderr, flush=True)
        results["realtime"] = _run_stack(True, realtime_seconds)
        seconds = min(realtime_seconds, RECORDING_SECONDS)
        print(f"recording: real time, {seconds:g} s without and {seconds:g} s with --record ...",
              file=sys.stderr, flush=True)
        results["recording"] = _recording_cost(seconds)
    world = WorldConfig()
    console = Console(highlight=False)
    console.print(f"[bold]bessemer bench[/]: G1 {world.variant} standing, physics step {world.timestep * 1e3:g} ms")
    if results["lockstep"]:
        console.print(_lockstep_table(results["lockstep"]))
    if results["realtime"]:
        console.print(_realtime_table(results["realtime"]))
    if results["recording"]:
        console.print(_recording_table(results["recording"]))
    return results
