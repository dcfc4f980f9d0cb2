"""`bessemer bench --ball`: the ball predictor against a constant-velocity Kalman filter and the truth.

Held-out throws (seeds no training used) are watched through the head camera; on every frame with a
detection and the ball moving, both forecast 0.5, 1 and 2 s ahead from the same detections, and each
forecast is scored against the simulator's true position then. The Kalman filter's noise settings
are the best of a grid on these very tracks, so the baseline is at its best.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from rich.console import Console
from rich.table import Table

from perception.training.ball import HELD_OUT_FIRST_SEED, BallEval


def record_held_out(count: int, rate_hz: float, first_seed: int = HELD_OUT_FIRST_SEED, quiet: bool = False):
    """`count` held-out tracks, `rate_hz` frames a second, under a progress bar."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from sim.ball_tracks import TrackConfig, record_tracks

    columns = (TextColumn(f"[bold]throws[/] seeds {first_seed}+"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, disable=quiet) as progress:
        task = progress.add_task("throws", total=count)
        return record_tracks(range(first_seed, first_seed + count), TrackConfig(rate_hz=rate_hz),
                             progress=lambda done: progress.update(task, completed=done))


def judge(predictor, recorded) -> dict:
    """The evaluation of `predictor` on `recorded` tracks, with how many frames held a placed detection."""
    from perception.training.ball import evaluate_predictor

    return {"eval": evaluate_predictor(predictor, recorded), "frames": sum(len(r.times) for r in recorded),
            "detected": int(sum(np.isfinite(r.detected[:, 0]).sum() for r in recorded))}


def _per_frame_us(run: Callable[[], None], repeats: int) -> float:
    start = time.perf_counter()
    for _ in range(repeats):
        run()
    return 1e6 * (time.perf_counter() - start) / repeats


def bench_ball(tracks: int = 60, weights: str | None = None, quiet: bool = False) -> dict:
    import torch

    from perception.ball_kalman import ConstantVelocityKalman
    from perception.ball_predictor import BallPredictor, load_shipped
    torch.set_num_threads(1)
    predictor = BallPredictor.load(weights) if weights else load_shipped()
    recorded = record_held_out(tracks, predictor.config.rate_hz, quiet=quiet)
    results = judge(predictor, recorded)
    window = recorded[0].detected[:predictor.config.window].copy()
    window[-1] = recorded[0].truth[predictor.config.window - 1, :2]
    kalman = ConstantVelocityKalman(results["eval"].kalman)
    t = iter(np.arange(0, 1e6, 0.1))
    cost = {"predictor_us": _per_frame_us(lambda: predictor.forecast(window), 500),
            "kalman_us": _per_frame_us(lambda: (kalman.update(next(t), window[-1]), kalman.forecast(1.0)), 500)}
    return {**results, "trained": predictor.trained, **cost}


def print_ball_report(results: dict) -> None:
    e: BallEval = results["eval"]
    table = Table(title=f"ball forecasts, {e.tracks} held-out throws, {e.samples} frames with the ball seen and moving "
                        f"(median / p90 error against the simulator's truth)")
    table.add_column("ahead")
    table.add_column("learned predictor", justify="right")
    table.add_column("constant-velocity Kalman", justify="right")
    table.add_column("ratio of medians", justify="right")
    for i, h in enumerate(e.horizons_s):
        table.add_row(f"{h:g} s", f"{e.learned_median_m[i]:.3f} / {e.learned_p90_m[i]:.3f} m",
                      f"{e.kalman_median_m[i]:.3f} / {e.kalman_p90_m[i]:.3f} m",
                      f"{e.learned_median_m[i] / e.kalman_median_m[i]:.2f}")
    table.add_row("rest point", f"{e.rest_median_m:.3f} / {e.rest_p90_m:.3f} m", "-", "")
    console = Console()
    console.print(table)
    console.print(f"Kalman noise (best of the grid at 1 s): acceleration {e.kalman.accel_noise:g} (m/s^2)^2/Hz, "
                  f"measurement {e.kalman.measurement_noise:g} m; {results['detected']} of {results['frames']} "
                  f"frames held a placed detection")
    if "predictor_us" in results:
        console.print(f"per frame, one thread: predictor {results['predictor_us']:.0f} us, Kalman update and forecast "
                      f"{results['kalman_us']:.0f} us")
