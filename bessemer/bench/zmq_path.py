"""`bessemer bench --zmq`: the ZMQ hop between the loop and the policy, beside bare pyzmq.

- round trip: a STATE message published, taken newest-only by a policy-side process, answered with
  a TARGETS message for it, received back; over tcp and ipc on this machine, beside a bare pyzmq
  ping-pong of the same byte sizes (no header checks, no arrays) in the same run;
- the low-level loop's period error over a run with the policy node driving at 50 Hz.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import zmq

from bessemer import wire

SAMPLES = 3000


def _addresses(transport: str, port: int) -> tuple[str, str]:
    if transport == "ipc":
        base = os.path.join(tempfile.gettempdir(), f"bessemer-bench-{os.getpid()}-{port}")
        return f"ipc://{base}-a", f"ipc://{base}-b"
    return f"tcp://127.0.0.1:{port}", f"tcp://127.0.0.1:{port + 1}"


def responder(out_addr: str, back_addr: str, bare: bool) -> None:
    """The policy's side of the hop: newest state in, targets for it out, until killed."""
    ctx = zmq.Context.instance()
    sub = ctx.socket(zmq.SUB)
    sub.conflate = True
    sub.subscribe(b"")
    sub.connect(out_addr)
    pub = ctx.socket(zmq.PUB)
    pub.connect(back_addr)
    sid = wire.stack_id("bench")
    targets = np.zeros((6, wire.NUM_MOTORS))
    while True:
        frame = sub.recv()
        if bare:
            pub.send_multipart([frame[: wire.HEADER.size], targets.tobytes()])
            continue
        h, body = wire.decode_single(frame, sid, wire.MsgType.STATE)
        wire.parse_state(body)
        pub.send_multipart(wire.targets_frames(sid, h.seq, time.monotonic() + 0.05, targets))


def round_trip(transport: str, bare: bool, port: int) -> dict:
    out_addr, back_addr = _addresses(transport, port)
    ctx = zmq.Context.instance()
    pub, sub = ctx.socket(zmq.PUB), ctx.socket(zmq.SUB)
    pub.bind(out_addr)
    sub.subscribe(b"")
    sub.bind(back_addr)
    proc = subprocess.Popen([sys.executable, "-c", "from bessemer.bench.zmq_path import responder; "
                             f"responder({out_addr!r}, {back_addr!r}, {bare})"])
    sid = wire.stack_id("bench")
    values = np.zeros(wire.STATE_VALUES)
    times: list[float] = []
    try:
        seq = 0
        deadline = time.monotonic() + 60
        while len(times) < SAMPLES and time.monotonic() < deadline:
            seq += 1
            message = wire.state_message(sid, seq, 200, False, seq, values)
            sent = time.perf_counter()
            pub.send(message)
            if not sub.poll(100):
                continue
            frames = sub.recv_multipart()
            if not bare:
                h = wire.decode(frames, sid, wire.MsgType.TARGETS)
                wire.array(frames[1], (6, wire.NUM_MOTORS))
                if h.seq != seq:
                    continue
            if seq > 50:
                times.append(time.perf_counter() - sent)
            time.sleep(0.001)
    finally:
        proc.kill()
        proc.wait()
        pub.close(0)
        sub.close(0)
    us = np.array(times) * 1e6
    return {"p50_us": float(np.percentile(us, 50)), "p99_us": float(np.percentile(us, 99)), "n": len(us)}


def loop_with_policy(seconds: float, port: int) -> dict:
    from bessemer.control_client import request_status
    from bessemer.endpoints import Endpoints
    from bessemer.launch import LaunchConfig, Launcher

    endpoints = Endpoints(stack=f"bench{os.getpid()}", base_port=port)
    launcher = Launcher(LaunchConfig(endpoints, ["--variant", "29dof"], perception=False, hold=0.5, duration=seconds),
                        say=lambda _: None, show=lambda _: None)
    try:
        launcher.start()
        launcher.run_sequence()
        launcher.hold()
        status = request_status(endpoints)
    finally:
        launcher.shutdown()
    return {"seconds": seconds, "fsm_state": status["fsm"]["state"], "faults": status["fsm"]["faults"],
            "policy_rate_hz": status["nodes"]["policy"]["rate_hz"], **status["loop"]}


def run_zmq_benchmarks(seconds: float) -> dict:
    port = 25000 + os.getpid() % 500 * 10
    print(f"ZMQ: round trips over tcp and ipc (ours, then bare pyzmq), then the loop with the policy for {seconds:g} s",
          file=sys.stderr, flush=True)
    results = {}
    for i, transport in enumerate(("tcp", "ipc")):
        results[transport] = round_trip(transport, bare=False, port=port + 4 * i)
        results[f"{transport}_bare"] = round_trip(transport, bare=True, port=port + 4 * i + 2)
    if seconds:
        results["loop_with_policy"] = loop_with_policy(seconds, port + 100)
    return results


def print_zmq_report(results: dict) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(title="bessemer bench --zmq: one run, each figure beside its baseline", box=box.SIMPLE)
    for column in ("figure", "value", "goal"):
        table.add_column(column)
    for transport in ("tcp", "ipc"):
        ours, bare = results[transport], results[f"{transport}_bare"]
        ratio = ours["p50_us"] / bare["p50_us"]
        table.add_row(f"state -> policy -> targets, {transport}", f"p50 {ours['p50_us']:.0f} / p99 {ours['p99_us']:.0f} us",
                      f"p99 <= 1000 us: {'met' if ours['p99_us'] <= 1000 else 'NOT met'}")
        table.add_row("  bare pyzmq ping-pong, same sizes", f"p50 {bare['p50_us']:.0f} / p99 {bare['p99_us']:.0f} us",
                      f"<= 2x: x{ratio:.2f} {'met' if ratio <= 2 else 'NOT met'} (p50)")
    if "loop_with_policy" in results:
        r = results["loop_with_policy"]
        table.add_row(f"500 Hz loop, policy at {r['policy_rate_hz']:.0f} Hz, last 5 s of {r['seconds']:g} s",
                      f"period error p99 {r['period_error_p99_us']:.1f} us, missed {r['missed_deadlines']}, "
                      f"FSM {r['fsm_state']}, faults {r['faults']}", "")
    Console(highlight=False).print(table)
