"""A fixed-rate loop for the 500 Hz control tick, in real time or lock-step.

Real time: each tick starts on a fixed schedule (no drift); the wait sleeps until a short guard
before the deadline and spins the rest, which on these machines brings start jitter from ~100 us
(plain sleep) to ~1 us. If the process may, the loop thread takes SCHED_FIFO priority and a 1 us
timer slack, and locks its memory; the cyclic garbage collector is paused for the run (the tick
allocates no containers that outlive it), so no collection of the whole heap lands in a tick. A tick that overruns the next deadline is counted as missed and the schedule skips
ahead rather than bursting to catch up. Lock-step runs ticks back to back for simulation.
"""

from __future__ import annotations

import ctypes
import gc
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from control.timing import LoopTiming

_PR_SET_TIMERSLACK = 29
_MCL_CURRENT_FUTURE = 1 | 2


@dataclass(frozen=True)
class LoopConfig:
    period: float = 0.002
    realtime: bool = True
    spin_guard: float = 0.0003
    """Seconds before each deadline at which sleeping stops and spinning starts."""
    rt_priority: int = 50
    """SCHED_FIFO priority for the loop thread where permitted; 0 keeps the normal scheduler."""


def _enter_realtime(priority: int) -> tuple[bool, object | None]:
    """Best effort: FIFO scheduling, fine timer slack, locked memory; returns (granted, previous policy)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_TIMERSLACK, 1, 0, 0, 0)
        libc.mlockall(_MCL_CURRENT_FUTURE)
    except OSError:
        pass
    if priority <= 0 or not hasattr(os, "sched_setscheduler"):
        return False, None
    try:
        previous = (os.sched_getscheduler(0), os.sched_getparam(0))
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
        return True, previous
    except (PermissionError, OSError):
        return False, None


def _leave_realtime(previous: object | None) -> None:
    if previous is not None:
        policy, param = previous
        os.sched_setscheduler(0, policy, param)


class FixedRateLoop:
    """Calls `tick(k)` at a fixed rate until it returns False or `stop()` is called."""

    def __init__(self, config: LoopConfig | None = None) -> None:
        self.config = config or LoopConfig()
        self.timing = LoopTiming()
        self.timing.realtime = self.config.realtime
        self.rt_granted = False
        self._running = False

    def stop(self) -> None:
        self._running = False

    def run(self, tick: Callable[[int], bool], max_ticks: int | None = None) -> LoopTiming:
        self._running = True
        if self.config.realtime:
            self._run_realtime(tick, max_ticks)
        else:
            self._run_lockstep(tick, max_ticks)
        return self.timing

    def _run_lockstep(self, tick: Callable[[int], bool], max_ticks: int | None) -> None:
        clock, record = time.perf_counter_ns, self.timing.record
        k = 0
        while self._running and (max_ticks is None or k < max_ticks):
            start = clock()
            keep = tick(k)
            record(start, clock(), 0)
            k += 1
            if keep is False:
                break

    def _run_realtime(self, tick: Callable[[int], bool], max_ticks: int | None) -> None:
        clock, record, sleep = time.perf_counter_ns, self.timing.record, time.sleep
        period_ns = round(self.config.period * 1e9)
        guard_ns = round(self.config.spin_guard * 1e9)
        gc.collect()
        gc_was_enabled = gc.isenabled()
        gc.disable()
        self.rt_granted, previous = _enter_realtime(self.config.rt_priority)
        try:
            deadline = clock() + period_ns
            last_start = deadline - period_ns
            k = 0
            while self._running and (max_ticks is None or k < max_ticks):
                remaining = deadline - clock() - guard_ns
                if remaining > 0:
                    sleep(remaining / 1e9)
                while clock() < deadline:
                    pass
                start = clock()
                keep = tick(k)
                end = clock()
                record(start, end, start - last_start - period_ns)
                last_start = start
                k += 1
                deadline += period_ns
                if end > deadline:
                    behind = (end - deadline) // period_ns + 1
                    self.timing.missed_deadlines += behind
                    deadline += behind * period_ns
                if keep is False:
                    break
        finally:
            _leave_realtime(previous)
            if gc_was_enabled:
                gc.enable()
