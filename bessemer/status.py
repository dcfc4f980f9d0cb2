"""The live status line of a running stack, and its final summary.

On a terminal the line is redrawn in place a few times a second; elsewhere (CI logs, pipes) only
events are printed, one per line, so logs stay readable.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from rich.console import Console
from rich.table import Table

from bessemer.runtime.session import ScriptedRun
from robots.interface import tilt_of


class StatusLine:
    def __init__(self, stream: TextIO | None = None, min_interval: float = 0.2) -> None:
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.min_interval = min_interval
        self._last = 0.0
        self._width = 0

    def event(self, text: str) -> None:
        self._clear()
        print(text, file=self.stream, flush=True)

    def _due(self) -> bool:
        now = time.perf_counter()
        if not self.live or now - self._last < self.min_interval:
            return False
        self._last = now
        return True

    def _draw(self, line: str) -> None:
        self._width = max(self._width, len(line))
        self.stream.write("\r" + line.ljust(self._width))
        self.stream.flush()

    def update(self, session: ScriptedRun) -> None:
        if not self._due():
            return
        low = session.low
        timing = low.loop.timing.summary(last=2500)
        state = low.controller.state
        fsm = low.fsm
        rate = f"{timing.rate_hz:6.1f} Hz" if timing.rate_hz else "lockstep"
        p99 = f"p99 err {timing.period_error_p99_us:5.0f} us" if timing.period_error_p99_us is not None else \
            f"tick p99 {timing.compute_p99_us:5.0f} us"
        fault = f"  FAULT {fsm.fault}" if fsm.fault else ""
        self._draw(f"t {session.elapsed:6.2f}s | fsm {int(fsm.state)} {fsm.state.name.lower():<11} | {rate} | "
                   f"{p99} | missed {timing.missed_deadlines} | {session.status_extra()}tilt {tilt_of(state.quat):.3f} rad{fault}")

    def show(self, line: str) -> None:
        """Redraw the line with any text (a supervisor's view of a running stack)."""
        if self._due():
            self._draw(line)

    def _clear(self) -> None:
        if self.live and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()

    def close(self) -> None:
        self._clear()


def print_summary(summary: dict, stream: TextIO | None = None) -> None:
    console = Console(file=stream or sys.stdout, highlight=False)
    loop = summary["loop"]
    title = f"bessemer {summary.get('command', 'sim')}: G1 {summary['variant']}, {summary['mode']}"
    table = Table(title=title, show_header=False)
    table.add_column(style="bold")
    table.add_column()
    fsm = summary["fsm"]
    if fsm["final_state"] != 200:
        table.add_row("standing", "yes" if summary["standing"] else "no")
    table.add_row("FSM", f"visited {fsm['visited']}, final {fsm['final_state']} ({fsm['final_state_name']})")
    if fsm["last_fault"]:
        table.add_row("faults", f"{fsm['faults']} (last: {fsm['last_fault']})")
    if summary["sequence"]["refused"]:
        table.add_row("sequence", f"stopped: {summary['sequence']['refused']}")
    if "base_height_m" in summary:
        table.add_row("base height", f"{summary['base_height_m']:.3f} m (nominal {summary['base_height_nominal_m']:.3f} m)")
    if drive := summary.get("policy_drive"):
        table.add_row("policy drove", f"{drive['seconds']:.1f} s: {drive['distance_m']:.2f} m, forward "
                                      f"{drive['forward_mps']:+.2f} m/s, lateral {drive['lateral_mps']:+.2f} m/s, "
                                      f"turned {drive['yaw_change_rad']:+.2f} rad")
    if task := summary.get("follow_sound"):
        stopped = f", stopped after {task['stopped_after_s']:.1f} s" if task["stopped_after_s"] is not None else ""
        table.add_row("follow-sound", f"scene {task['seed']} ({task['sound']}): ended {task['final_distance_m']:.2f} m "
                                      f"from the ball{stopped}: {'REACHED' if task['reached'] else 'not reached'}")
    if task := summary.get("intercept"):
        rest = "at rest" if task["ball_at_rest"] else "still rolling"
        table.add_row("intercept", f"scene {task['seed']} (pushed at {task['push_m_s']:.1f} m/s): the ball {rest}, the "
                                   f"robot {task['final_distance_m']:.2f} m from it: "
                                   f"{'REACHED' if task['reached'] else 'not reached'}")
    if summary["max_tilt_after_standup_rad"] is not None:
        table.add_row("max tilt after stand-up", f"{summary['max_tilt_after_standup_rad']:.3f} rad")
    if "sim_time_s" in summary:
        table.add_row("time", f"{summary['sim_time_s']:.2f} s simulated in {summary['wall_time_s']:.2f} s "
                              f"(x{summary['realtime_factor']})")
    else:
        table.add_row("time", f"{summary['elapsed_s']:.2f} s")
    if "dds" in summary:
        dds = summary["dds"]
        table.add_row("DDS", f"domain {dds['domain']} on {dds['interface']}: {dds['states']} states, "
                             f"{dds['bad_crc']} bad CRC, {dds['bad_size']} wrong size dropped")
    table.add_row("loop", f"{loop['ticks']} ticks, compute p50 {loop['compute_p50_us']:.0f} us / p99 "
                          f"{loop['compute_p99_us']:.0f} us")
    if loop["period_error_p99_us"] is not None:
        table.add_row("real time", f"{loop['rate_hz']:.1f} Hz, period error p50 {loop['period_error_p50_us']:.1f} us / "
                                   f"p99 {loop['period_error_p99_us']:.1f} us / max {loop['period_error_max_us']:.0f} us, "
                                   f"missed deadlines {loop['missed_deadlines']}, "
                                   f"SCHED_FIFO {'on' if loop['rt_priority_granted'] else 'off'}")
    console.print(table)
