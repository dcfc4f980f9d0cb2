"""Loop timing that is always on: period error, compute time per tick, missed deadlines.

Samples go into preallocated rings, so recording costs two array stores per tick; percentiles are
computed only when someone asks (the status line, the final summary).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TimingSummary:
    ticks: int
    missed_deadlines: int
    compute_p50_us: float
    compute_p99_us: float
    compute_max_us: float
    period_error_p50_us: float | None
    period_error_p99_us: float | None
    period_error_max_us: float | None
    rate_hz: float | None
    """Ticks per wall-clock second (real time) or None in lock-step."""

    def as_dict(self) -> dict:
        return dict(self.__dict__)


class LoopTiming:
    def __init__(self, capacity: int = 1 << 17) -> None:
        self.capacity = capacity
        self.compute_ns = np.zeros(capacity, dtype=np.int64)
        self.period_error_ns = np.zeros(capacity, dtype=np.int64)
        self.ticks = 0
        self.missed_deadlines = 0
        self.realtime = False
        self.first_start_ns = 0
        self.last_start_ns = 0
        # numpy's percentile imports lazily (~10 ms on first call): pay that now, not in a tick.
        np.percentile(self.compute_ns[:2], [50, 99])

    def record(self, start_ns: int, end_ns: int, period_error_ns: int) -> None:
        i = self.ticks % self.capacity
        self.compute_ns[i] = end_ns - start_ns
        self.period_error_ns[i] = period_error_ns
        if self.ticks == 0:
            self.first_start_ns = start_ns
        self.last_start_ns = start_ns
        self.ticks += 1

    def _window(self, values: np.ndarray, last: int | None) -> np.ndarray:
        n = min(self.ticks, self.capacity)
        if last is not None:
            n = min(n, last)
        end = self.ticks % self.capacity
        if n <= end:
            return values[end - n : end]
        return np.concatenate((values[self.capacity - (n - end) :], values[:end]))

    def summary(self, last: int | None = None) -> TimingSummary:
        """Figures over the whole run (or its `last` ticks); period error is |actual - nominal| period."""
        compute = self._window(self.compute_ns, last) / 1e3
        if compute.size == 0:
            compute = np.zeros(1)
        p50, p99, mx = np.percentile(compute, [50, 99, 100])
        err = rate = None
        if self.realtime and self.ticks > 1:
            errors = np.abs(self._window(self.period_error_ns, last)[1:]) / 1e3
            if errors.size:
                err = tuple(float(v) for v in np.percentile(errors, [50, 99, 100]))
            elapsed = (self.last_start_ns - self.first_start_ns) / 1e9
            rate = (self.ticks - 1) / elapsed if elapsed > 0 else None
        return TimingSummary(
            ticks=self.ticks,
            missed_deadlines=self.missed_deadlines,
            compute_p50_us=float(p50),
            compute_p99_us=float(p99),
            compute_max_us=float(mx),
            period_error_p50_us=err[0] if err else None,
            period_error_p99_us=err[1] if err else None,
            period_error_max_us=err[2] if err else None,
            rate_hz=rate,
        )
