"""Part of `bessemer bench --perception` (alone: `bessemer bench --bearing`): how far off the sound
bearing is on arrays and rooms it was never tuned on, whether it keeps quiet when nothing sounds,
and what it costs.

The arrays are the ones a user declares (a 6-mic circle of radius 4.6 cm and the G1 head's 32 mm
square), not the scattered ones the source detector was fitted on; rooms, positions and sounds come
from judging seeds of their own (`perception.training.bearing_scenes`). Beside it, on the very same
blocks, with the same STFT, band and 1-degree grid, run pyroomacoustics' SRP-PHAT, NormMUSIC and TOPS;
the goal is no worse than the best of them in median and p90 in every row. Ours is scored on every
sounding block, a block it calls "no source" counted as 180 degrees off; the baselines always guess.
Silent blocks (the source paused: noise and the room's echoes only) must come back flagged. Each scene
is a fresh stream for our estimator, which learns its noise floor as it listens. Speed is a multiple of
real time on one core, since audio shares the robot's CPU with the control loop.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

import numpy as np

from perception.bearing import BearingEstimator
from perception.microphones import G1_HEAD_SIDE_M, MicArray
from perception.training.bearing_scenes import JUDGING_SEED, circle_array, random_scene

BASELINES = ("SRP", "NormMUSIC", "TOPS")


def _error_deg(estimate: float | None, truth: float) -> float:
    return 180.0 if estimate is None else abs((estimate - truth + 180.0) % 360.0 - 180.0)


def _stft(block: np.ndarray, frame: int, hop: int) -> np.ndarray:
    """Hann-windowed frames as pyroomacoustics' DOA takes them: (mics, bins, frames)."""
    frames = np.lib.stride_tricks.sliding_window_view(block, frame, axis=1)[:, ::hop]
    return np.fft.rfft(frames * np.hanning(frame), axis=-1).transpose(0, 2, 1)


def _baselines(array: MicArray, estimator: BearingEstimator) -> dict[str, Callable[[np.ndarray], float]]:
    import pyroomacoustics as pra

    config = estimator.config
    grid = np.radians(estimator.azimuths)

    def locator(name: str) -> Callable[[np.ndarray], float]:
        doa = pra.doa.algorithms[name](array.xyz.T, array.sample_rate, config.frame, c=config.speed_of_sound,
                                       num_src=1, azimuth=grid)

        def locate(block: np.ndarray) -> float:
            doa.locate_sources(_stft(block, config.frame, config.hop), freq_range=list(config.band_hz))
            return float(np.degrees(doa.azimuth_recon[0]))
        return locate
    return {name: locator(name) for name in BASELINES}


def _summary(errors: list[float]) -> tuple[float, float]:
    return float(np.median(errors)), float(np.percentile(errors, 90))


ROOM_BATCH = 10
"""Rooms are drawn in batches of this many per row, so a longer run's first rooms are the default run's."""


def _room_seed(seed: int, row: int, room: int, rows: int) -> int:
    """Each row's first `ROOM_BATCH` rooms take the seeds a `ROOM_BATCH`-room run gives them; later
    batches take seeds past every row's earlier ones, so raising the room count only adds rooms."""
    batch, within = divmod(room, ROOM_BATCH)
    return seed + (batch * rows + row) * ROOM_BATCH + within


def bench_bearing(scenes: int = 10, rt60s: tuple[float, ...] = (0.25, 0.5, 0.8), snrs_db: tuple[float, ...] = (20.0, 5.0),
                  seconds: float = 4.0, seed: int = JUDGING_SEED) -> dict:
    arrays = {"6-mic circle, r 46 mm": circle_array(6, 0.046),
              f"G1 head square, {1000 * G1_HEAD_SIDE_M:.0f} mm (assumed)": MicArray.g1_head()}
    print(f"bearing: {len(arrays)} arrays x {len(rt60s)} RT60s x {len(snrs_db)} SNRs x {scenes} rooms of "
          f"{seconds:g} s", file=sys.stderr, flush=True)
    rows, blocks = [], []
    conditions = len(arrays) * len(rt60s) * len(snrs_db)
    for array_name, array in arrays.items():
        for rt60 in rt60s:
            for snr in snrs_db:
                ours, theirs, silent = [], {name: [] for name in BASELINES}, []
                for room in range(scenes):
                    scene = random_scene(_room_seed(seed, len(rows), room, conditions), array, rt60, snr, seconds)
                    estimator = BearingEstimator(array)
                    locate = _baselines(array, estimator)
                    for block, label in scene.blocks(estimator.config.block):
                        bearing = estimator.estimate(block)
                        if label == "silent":
                            silent.append(bearing.azimuth_deg is None)
                        elif label == "sounding":
                            ours.append(_error_deg(bearing.azimuth_deg, scene.truth_deg))
                            for name, baseline in locate.items():
                                theirs[name].append(_error_deg(baseline(block), scene.truth_deg))
                            if len(blocks) < 40:
                                blocks.append((array, block))
                rows.append({"array": array_name, "rt60_s": rt60, "snr_db": snr, "sounding": len(ours),
                             "silent": len(silent), "silent_flagged": int(np.sum(silent)),
                             "missed": int(np.sum(np.array(ours) == 180.0)), "ours": _summary(ours),
                             **{name: _summary(errors) for name, errors in theirs.items()}})
                print(f"  {array_name}: RT60 {rt60:g} s, SNR {snr:g} dB done", file=sys.stderr, flush=True)
    block_s = BearingEstimator(MicArray.g1_head(), detector=None).config.block / 16_000
    speeds = _seconds_per_block(blocks)
    return {"scenes": scenes, "seconds": seconds, "block_ms": 1000 * block_s, "rows": rows,
            "speed_array": next(iter(arrays)), "realtime_x": {name: block_s / s for name, s in speeds.items()}}


def _seconds_per_block(blocks: list[tuple[MicArray, np.ndarray]]) -> dict[str, float]:
    """Median CPU seconds of this thread per block from raw samples (the baselines' STFT included), on one
    core: CPU time, not wall time, so that other work on a shared machine does not count against either."""
    pinned = hasattr(os, "sched_setaffinity")
    if pinned:
        cores = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {min(cores)})
    try:
        times: dict[str, list[float]] = {}
        for array, block in blocks:
            estimator = BearingEstimator(array)
            for name, estimate in {"ours": estimator.estimate, **_baselines(array, estimator)}.items():
                start = time.thread_time()
                estimate(block)
                times.setdefault(name, []).append(time.thread_time() - start)
    finally:
        if pinned:
            os.sched_setaffinity(0, cores)
    return {name: float(np.median(t)) for name, t in times.items()}


def print_bearing_report(r: dict) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"sound bearing error (median / p90, degrees) on arrays and rooms never tuned on, "
                        f"{r['scenes']} rooms of {r['seconds']:g} s per row, {r['block_ms']:.0f} ms blocks",
                  box=box.SIMPLE)
    for column in ("array", "RT60", "SNR", "sounding blocks", "ours", *BASELINES, "no worse than the best",
                   "silent flagged"):
        table.add_column(column)
    for row in r["rows"]:
        best = [min(row[name][k] for name in BASELINES) for k in (0, 1)]
        met = all(row["ours"][k] <= best[k] for k in (0, 1))
        missed = f" ({row['missed']} missed)" if row["missed"] else ""
        table.add_row(row["array"], f"{row['rt60_s']:g} s", f"{row['snr_db']:g} dB", f"{row['sounding']}{missed}",
                      *(f"{row[name][0]:.1f} / {row[name][1]:.1f}" for name in ("ours", *BASELINES)),
                      "yes" if met else "NO", f"{row['silent_flagged']} of {row['silent']}")
    speeds = r["realtime_x"]
    table.add_row(f"speed, 1 core, {r['speed_array']}", "", "", "", *(f"x{speeds[name]:,.0f} real time" for name in ("ours", *BASELINES)),
                  "", "")
    Console(highlight=False, width=max(Console().width, 160)).print(table)
    flagged = sum(row["silent_flagged"] for row in r["rows"])
    silent = sum(row["silent"] for row in r["rows"])
    print(f"silent blocks flagged \"no source\": {flagged} of {silent} ({100 * flagged / max(silent, 1):.1f} %, "
          f"goal >= 95 %); speed goal >= x100 real time: {'met' if speeds['ours'] >= 100 else 'NOT met'}")
