"""The fixed-rate loop: tick counts, stopping, missed deadlines, and the timing it always records."""

import time

import pytest

from control.loop import FixedRateLoop, LoopConfig
from control.timing import LoopTiming


def test_lockstep_runs_the_requested_ticks_and_stops_on_false():
    loop = FixedRateLoop(LoopConfig(realtime=False))
    seen = []
    loop.run(lambda k: seen.append(k) or True, max_ticks=50)
    assert seen == list(range(50)) and loop.timing.ticks == 50
    loop = FixedRateLoop(LoopConfig(realtime=False))
    loop.run(lambda k: k < 9)
    assert loop.timing.ticks == 10
    assert loop.timing.summary().period_error_p99_us is None


def test_realtime_keeps_the_schedule_and_counts_an_overrun_as_missed():
    loop = FixedRateLoop(LoopConfig(period=0.002, realtime=True, rt_priority=0))

    def tick(k):
        if k == 20:
            time.sleep(0.0075)
        return True

    start = time.perf_counter()
    loop.run(tick, max_ticks=100)
    elapsed = time.perf_counter() - start
    summary = loop.timing.summary()
    assert summary.ticks == 100
    assert summary.missed_deadlines >= 3, "a 7.5 ms tick overruns at least three 2 ms deadlines"
    assert elapsed >= 100 * 0.002, "the schedule skips ahead rather than bursting to catch up"
    assert summary.period_error_max_us > 5000


def test_timing_ring_keeps_the_latest_samples():
    timing = LoopTiming(capacity=8)
    timing.realtime = True
    for k in range(20):
        timing.record(k * 1000, k * 1000 + 10 * k, 1000 * k)
    assert timing.ticks == 20
    s = timing.summary()
    assert s.compute_max_us == 0.19 and s.compute_p50_us == pytest.approx(0.155), "the newest 8: 0.12 to 0.19 us"
    assert timing.summary(last=100) == s, "a window past the ring is the ring"
    recent = timing.summary(last=3)
    assert (recent.compute_p50_us, recent.compute_max_us) == (0.18, 0.19)
