"""Part of `bessemer bench --perception`: how far off the sound bearing is on the G1 head array, and what it costs.

Error is what a room does to a few-centimetre array, so it is measured over many simulated rooms at
several reverberation times and SNRs, beside pyroomacoustics' SRP-PHAT run on the very same blocks
(same array, STFT, band and azimuth grid): the reference tells a hard scene from a weak estimator.
Every row uses the same rooms, poses and signals, so rows differ only in RT60 and SNR. One estimator
hears every scene in turn, as it would one stream, so it meets each scene knowing the noise floor of
the last (the same within a row); the reference remembers nothing. Speed is a multiple of real time
on one core, since audio shares the robot's CPU with the control loop.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

import numpy as np

from perception.acoustic_scene import (
    SOURCE_KINDS,
    HeadPose,
    PointSource,
    Room,
    SimulatedScene,
    source_sound,
)
from perception.bearing import BearingEstimator
from perception.microphones import G1_HEAD_SIDE_M, MicArray


def _random_scene(rng: np.random.Generator, array: MicArray, rt60_s: float, snr_db: float, signal: np.ndarray,
                  seed: int) -> tuple[SimulatedScene, float]:
    """A living-room shoebox, the head 1.1-1.3 m up and 1.5 m from walls, a source 1-2.5 m away at any bearing."""
    size = (rng.uniform(4.5, 8.0), rng.uniform(4.0, 6.0), rng.uniform(2.6, 3.2))
    pose = HeadPose((rng.uniform(1.5, size[0] - 1.5), rng.uniform(1.5, size[1] - 1.5), rng.uniform(1.1, 1.3)),
                    rng.uniform(-180.0, 180.0))
    while True:
        azimuth, distance = np.radians(rng.uniform(-180.0, 180.0)), rng.uniform(1.0, 2.5)
        position = (pose.position[0] + distance * np.cos(azimuth), pose.position[1] + distance * np.sin(azimuth),
                    rng.uniform(1.0, 1.8))
        if all(0.3 <= p <= s - 0.3 for p, s in zip(position, size)):
            break
    scene = SimulatedScene(array, Room(size, rt60_s), pose, [PointSource(position, signal)], snr_db=snr_db, seed=seed)
    return scene, pose.bearing_deg(position)


def _error_deg(estimate: float, truth: float) -> float:
    return abs((estimate - truth + 180.0) % 360.0 - 180.0)


def bench_bearing(scenes: int = 12, rt60s: tuple[float, ...] = (0.2, 0.4, 0.6),
                  snrs_db: tuple[float, ...] = (20.0, 10.0, 0.0), seconds: float = 1.0, seed: int = 0) -> dict:
    import pyroomacoustics as pra

    array = MicArray.g1_head()
    estimator = BearingEstimator(array)
    config = estimator.config
    reference = pra.doa.algorithms["SRP"](array.xyz.T, array.sample_rate, config.frame, c=config.speed_of_sound,
                                          num_src=1, azimuth=np.radians(estimator.azimuths))

    def locate(block: np.ndarray) -> float:
        reference.locate_sources(_stft(block, config.frame, config.hop), freq_range=list(config.band_hz))
        return float(np.degrees(reference.azimuth_recon[0]))

    print(f"bearing: {scenes} scenes x {len(rt60s)} RT60s x {len(snrs_db)} SNRs, {seconds:g} s each",
          file=sys.stderr, flush=True)
    cells, blocks = [], []
    for rt60 in rt60s:
        for snr in snrs_db:
            ours, theirs, missing = [], [], 0
            for k in range(scenes):
                signal = source_sound(SOURCE_KINDS[k % len(SOURCE_KINDS)], seconds, array.sample_rate, seed + k)
                scene, truth = _random_scene(np.random.default_rng(seed + k), array, rt60, snr, signal, seed + k)
                for start in range(0, scene.signals.shape[1] - config.block + 1, config.block):
                    block = scene.signals[:, start:start + config.block]
                    if len(blocks) < 50:
                        blocks.append(block)
                    bearing = estimator.estimate(block)
                    if bearing.azimuth_deg is None:
                        missing += 1
                    else:
                        ours.append(_error_deg(bearing.azimuth_deg, truth))
                    theirs.append(_error_deg(locate(block), truth))
            cells.append({"rt60_s": rt60, "snr_db": snr, "blocks": len(theirs), "missing": missing,
                          "ours_median_deg": float(np.median(ours)), "ours_p90_deg": float(np.percentile(ours, 90)),
                          "pra_median_deg": float(np.median(theirs)),
                          "pra_p90_deg": float(np.percentile(theirs, 90))})
            print(f"  RT60 {rt60:g} s, SNR {snr:g} dB done", file=sys.stderr, flush=True)
    block_s = config.block / array.sample_rate
    ours_s, pra_s = _seconds_per_block(estimator.estimate, locate, blocks)
    return {"array": f"G1 head, 4 mics, {1000 * G1_HEAD_SIDE_M:.0f} mm square (assumed)",
            "scenes": scenes, "seconds": seconds, "block_ms": 1000 * block_s, "band_hz": config.band_hz,
            "cells": cells, "ours_realtime_x": block_s / ours_s, "pra_realtime_x": block_s / pra_s}


def _stft(block: np.ndarray, frame: int, hop: int) -> np.ndarray:
    """Hann-windowed frames as pyroomacoustics' DOA takes them: (mics, bins, frames)."""
    frames = np.lib.stride_tricks.sliding_window_view(block, frame, axis=1)[:, ::hop]
    return np.fft.rfft(frames * np.hanning(frame), axis=-1).transpose(0, 2, 1)


def _seconds_per_block(ours: Callable[[np.ndarray], object], theirs: Callable[[np.ndarray], object],
                       blocks: list[np.ndarray]) -> tuple[float, float]:
    """Median seconds per block, ours (from raw samples) and pyroomacoustics' (STFT included), on one core."""
    pinned = hasattr(os, "sched_setaffinity")
    if pinned:
        cores = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {min(cores)})
    try:
        times = np.zeros((len(blocks), 2))
        for row, block in zip(times, blocks):
            for column, estimate in enumerate((ours, theirs)):
                start = time.perf_counter()
                estimate(block)
                row[column] = time.perf_counter() - start
    finally:
        if pinned:
            os.sched_setaffinity(0, cores)
    return float(np.median(times[:, 0])), float(np.median(times[:, 1]))


def print_bearing_report(r: dict) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"sound bearing error, {r['array']}, {r['scenes']} rooms per row, "
                        f"{r['block_ms']:.0f} ms blocks, {r['band_hz'][0]:g}-{r['band_hz'][1]:g} Hz", box=box.SIMPLE)
    for column in ("RT60", "SNR", "blocks", "ours median / p90", "pyroomacoustics SRP median / p90"):
        table.add_column(column)
    for c in r["cells"]:
        missing = f" ({c['missing']} without)" if c["missing"] else ""
        table.add_row(f"{c['rt60_s']:g} s", f"{c['snr_db']:g} dB", f"{c['blocks']}{missing}",
                      f"{c['ours_median_deg']:.1f} / {c['ours_p90_deg']:.1f} deg",
                      f"{c['pra_median_deg']:.1f} / {c['pra_p90_deg']:.1f} deg")
    table.add_row("speed", "1 core", "", f"x{r['ours_realtime_x']:,.0f} real time",
                  f"x{r['pra_realtime_x']:,.0f} real time")
    Console(highlight=False).print(table)
