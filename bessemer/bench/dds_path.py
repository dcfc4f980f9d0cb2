"""`bessemer bench --dds`: what the DDS path costs, each figure beside its baseline from the same run.

- codec: the project's LowCmd_ encode + LowState_ decode (CRC both ways) against CycloneDDS's own
  IdlStruct serialize/deserialize of the same messages;
- round trip on loopback: a state published, answered by a command for that state, received back;
  done twice in the same processes, with the project's codec and with IdlStruct, so the ratio shows
  what the codec saves end to end;
- the real-time deploy loop against a bridge process for a while: period error, missed deadlines.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np

from robots import unitree_hg as hg
from robots.dds_transport import DdsLink, idl_type, take_bytes, write_bytes

ROUND_TRIPS = 2000


def _percentiles(samples_s: list[float]) -> dict:
    us = np.array(samples_s) * 1e6
    p50, p99 = np.percentile(us, [50, 99])
    return {"p50_us": float(p50), "p99_us": float(p99), "n": len(us)}


def bench_codec(n: int = 3000) -> dict:
    cmd, state = hg.LowCmdCodec(), hg.LowStateCodec()
    state_bytes = state.encode()
    start = time.perf_counter()
    for _ in range(n):
        cmd.encode()
        state.decode(state_bytes)
    ours = (time.perf_counter() - start) / n
    cmd_type, state_type = idl_type(hg.LOW_CMD), idl_type(hg.LOW_STATE)
    sample = cmd_type.deserialize(cmd.encode())
    m = max(50, n // 20)
    start = time.perf_counter()
    for _ in range(m):
        sample.serialize()
        state_type.deserialize(state_bytes)
    theirs = (time.perf_counter() - start) / m
    return {"ours_us": ours * 1e6, "idlstruct_us": theirs * 1e6, "speedup": theirs / ours,
            "tick_pipeline_us": _tick_pipeline(n) * 1e6}


def _tick_pipeline(n: int) -> float:
    """A tick's DDS work back to back, warm, within one process: take + decode + encode + write."""
    link = DdsLink(99, "lo")
    state_writer, state_reader = link.writer(link.state_topic), link.reader(link.state_topic)
    cmd_writer = link.writer(link.cmd_topic)
    state, cmd = hg.LowStateCodec(), hg.LowCmdCodec()
    data = state.encode()
    total = 0.0
    for _ in range(n):
        write_bytes(state_writer, data)
        start = time.perf_counter()
        for sample in take_bytes(state_reader):
            state.decode(sample)
        write_bytes(cmd_writer, cmd.encode())
        total += time.perf_counter() - start
    return total / n


def responder(domain: int, typed: bool) -> None:
    """Answer every LowState_ with a LowCmd_ carrying its tick in reserve[0], until killed."""
    link = DdsLink(domain, "lo")
    reader, writer = link.reader(link.state_topic), link.writer(link.cmd_topic)
    if typed:
        while True:
            for s in reader.take(N=64):
                cmd = idl_type(hg.LOW_CMD).deserialize(hg.LowCmdCodec().encode())
                cmd.reserve[0] = s.tick
                writer.write(cmd)
            time.sleep(0)
    state, cmd = hg.LowStateCodec(), hg.LowCmdCodec()
    while True:
        for data in take_bytes(reader):
            state.decode(data)
            cmd.message["reserve"][0] = state.message["tick"]
            write_bytes(writer, cmd.encode())
        time.sleep(0)


def _round_trips(domain: int, typed: bool) -> dict:
    proc = subprocess.Popen([sys.executable, "-c", f"from bessemer.bench.dds_path import responder; responder({domain}, {typed})"])
    try:
        link = DdsLink(domain, "lo")
        reader, writer = link.reader(link.cmd_topic), link.writer(link.state_topic)
        state, cmd = hg.LowStateCodec(), hg.LowCmdCodec()
        state_type = idl_type(hg.LOW_STATE)
        typed_state = state_type.deserialize(state.encode())
        times: list[float] = []
        deadline = time.monotonic() + 60
        tick = 0
        while len(times) < ROUND_TRIPS and time.monotonic() < deadline:
            tick += 1
            sent = time.perf_counter()
            if typed:
                typed_state.tick = tick
                writer.write(typed_state)
            else:
                state.message["tick"] = tick
                write_bytes(writer, state.encode())
            answered = False
            while not answered and time.perf_counter() - sent < 0.05:
                if typed:
                    answered = any(c.reserve[0] == tick for c in reader.take(N=64))
                else:
                    for data in take_bytes(reader):
                        cmd.decode(data)
                        answered |= int(cmd.message["reserve"][0]) == tick
            if answered and tick > 20:
                times.append(time.perf_counter() - sent)
            time.sleep(0.002)
        return _percentiles(times)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


RPC_FLOOD = """
import sys, time
from cyclonedds.domain import Domain, DomainParticipant
from cyclonedds.pub import DataWriter
from cyclonedds.topic import Topic
from robots.dds_transport import cyclonedds_xml
from robots.unitree_rpc import Request_, RequestIdentity_
domain, rate = int(sys.argv[1]), float(sys.argv[2])
config = Domain(domain, cyclonedds_xml("lo"))
p = DomainParticipant(domain)
writer = DataWriter(p, Topic(p, "rt/api/sport/request", Request_))
next_at = time.monotonic()
while True:
    request = Request_(parameter="{}")
    request.header.identity = RequestIdentity_(time.monotonic_ns(), 7001)
    writer.write(request)
    next_at += 1.0 / rate
    time.sleep(max(0.0, next_at - time.monotonic()))
"""


def bench_deploy_loop(domain: int, seconds: float, requests_per_s: float = 0.0) -> dict:
    """The real-time deploy loop against a bridge; with `requests_per_s`, serving Unitree's services
    while another process asks the sport service that often."""
    from bessemer.runtime.session import ScriptedRun, SessionConfig
    from bessemer.runtime.low_level import LowLevel, LowLevelConfig
    from control.fsm import FsmId
    from control.loop import LoopConfig
    from robots.dds import DdsConfig, DdsRobot

    bridge = subprocess.Popen([sys.executable, "-m", "bessemer", "bridge", "--domain", str(domain)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        robot = DdsRobot(DdsConfig(domain=domain, first_state_timeout=30.0))
        dds_work = _time_dds_work(robot)
        low = LowLevel(robot, LowLevelConfig(loop=LoopConfig(realtime=True)))
        run = ScriptedRun(low, SessionConfig(sequence=(FsmId.STAND_UP,), duration=seconds, hold=0.0))
        services = None
        if requests_per_s:
            from bessemer.runtime.unitree_services import UnitreeServices

            services = UnitreeServices(robot.link, low, None, None, say=lambda line: None)
            run.every(10, lambda r: services.poll() if r.sequence_done else None)
            flood = subprocess.Popen([sys.executable, "-c", RPC_FLOOD, str(domain), str(requests_per_s)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            low.loop.run(run.tick)
        finally:
            if requests_per_s:
                flood.kill()
                flood.wait()
        run.finish()
        summary = run.summary()
        robot.close()
    finally:
        bridge.send_signal(signal.SIGINT)
        bridge.wait(timeout=30)
    work = np.array(dds_work) * 1e6
    return {"seconds": seconds, "standing": summary["standing"], "faults": summary["fsm"]["faults"],
            "states": robot.counters.states, "bad_crc": robot.counters.bad_crc,
            "dds_work_p50_us": float(np.percentile(work, 50)), "dds_work_p99_us": float(np.percentile(work, 99)),
            "requests_per_s": requests_per_s,
            "requests_answered": services.sport.counters["sport"]["answered"] if services else 0, **summary["loop"]}


def _time_dds_work(robot) -> list[float]:
    """Wrap the robot's read and write so each tick's DDS work (take, decode, encode, write) is timed."""
    samples: list[float] = []
    read, write, clock = robot.read, robot.write, time.perf_counter
    started = [0.0]

    def timed_read():
        started[0] = clock()
        state = read()
        started[0] -= clock()
        return state

    def timed_write(cmd):
        t = clock()
        write(cmd)
        samples.append(clock() - t - started[0])

    robot.read, robot.write = timed_read, timed_write
    return samples


def run_dds_benchmarks(realtime_seconds: float) -> dict:
    domain = 100 + os.getpid() % 100
    print("DDS: codec, loopback round trips (ours, then IdlStruct), then the real-time deploy loop "
          f"against a bridge for {realtime_seconds:g} s ...", file=sys.stderr, flush=True)
    results = {"codec": bench_codec(), "round_trip": _round_trips(domain, typed=False),
               "round_trip_idlstruct": _round_trips(domain + 1, typed=True)}
    if realtime_seconds:
        results["deploy_loop"] = bench_deploy_loop(domain + 2, realtime_seconds)
        results["deploy_loop_rpc"] = bench_deploy_loop(domain + 3, realtime_seconds, requests_per_s=100.0)
    return results


def print_dds_report(results: dict) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(title="bessemer bench --dds: one run, each figure beside its baseline", box=box.SIMPLE)
    for column in ("figure", "value", "goal"):
        table.add_column(column)
    c = results["codec"]
    table.add_row("LowCmd_ encode + LowState_ decode, CRCs", f"{c['ours_us']:.1f} us", "")
    table.add_row("  CycloneDDS IdlStruct, same messages", f"{c['idlstruct_us']:.0f} us",
                  f">= 20x: x{c['speedup']:.0f} {'met' if c['speedup'] >= 20 else 'NOT met'}")
    table.add_row("a tick's DDS work, warm (take, decode, encode, write)", f"{c['tick_pipeline_us']:.1f} us",
                  f"<= 50 us: {'met' if c['tick_pipeline_us'] <= 50 else 'NOT met'}")
    ours, theirs = results["round_trip"], results["round_trip_idlstruct"]
    table.add_row("loopback round trip, state -> command", f"p50 {ours['p50_us']:.0f} / p99 {ours['p99_us']:.0f} us", "")
    table.add_row("  same with IdlStruct", f"p50 {theirs['p50_us']:.0f} / p99 {theirs['p99_us']:.0f} us", "")
    if "deploy_loop" in results:
        d = results["deploy_loop"]
        table.add_row("  DDS work per tick in the live loop (read + write)",
                      f"p50 {d['dds_work_p50_us']:.0f} / p99 {d['dds_work_p99_us']:.0f} us", "")
        table.add_row(f"deploy loop {d['seconds']:g} s vs bridge: period error",
                      f"p50 {d['period_error_p50_us']:.1f} / p99 {d['period_error_p99_us']:.1f} / "
                      f"max {d['period_error_max_us']:.0f} us", "")
        table.add_row("  missed deadlines, compute per tick",
                      f"{d['missed_deadlines']}; p50 {d['compute_p50_us']:.0f} / p99 {d['compute_p99_us']:.0f} us", "")
        table.add_row("  still standing", "yes" if d["standing"] else "NO: figures are meaningless", "")
    if "deploy_loop_rpc" in results:
        r, d = results["deploy_loop_rpc"], results["deploy_loop"]
        table.add_row(f"same, serving {r['requests_per_s']:g} sport requests/s: period error",
                      f"p50 {r['period_error_p50_us']:.1f} / p99 {r['period_error_p99_us']:.1f} / "
                      f"max {r['period_error_max_us']:.0f} us (without: p99 {d['period_error_p99_us']:.1f})",
                      f"p99 <= 200 us: {'met' if r['period_error_p99_us'] <= 200 else 'NOT met'}")
        table.add_row("  requests answered, missed deadlines, compute per tick",
                      f"{r['requests_answered']}; {r['missed_deadlines']}; p50 {r['compute_p50_us']:.0f} / "
                      f"p99 {r['compute_p99_us']:.0f} us", "")
    Console(highlight=False).print(table)
