"""`bench_vision`: how many 224x224 head-camera frames per second one thread turns into tokens and runs
through the shipped ball encoder (goal: 30, a camera's rate), one frame per call as the perception node
sees them, beside the rate the simulation renders those frames at."""

from __future__ import annotations

import time

import numpy as np

GOAL_FPS = 30.0


def bench_vision(seconds: float = 3.0, frames: int = 16, seed: int = 2000) -> dict:
    """Frames are rendered first (seeded, the ball in and out of view), then timed one call each, cycling;
    `sight` cuts the frame into patches, so the figure is tokens and encoder together."""
    import torch

    from perception.patches import to_patches
    from perception.vision_encoder import load_shipped
    from sim.ball_frames import render_ball_frames

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        rendered = render_ball_frames(frames, seed)
        encoder = load_shipped()
        for image in rendered.images[:3]:
            encoder.sight(image)
        latencies = []
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            t0 = time.perf_counter()
            encoder.sight(rendered.images[len(latencies) % frames])
            latencies.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - start
        t0 = time.perf_counter()
        for image in rendered.images:
            to_patches(torch.from_numpy(image)).contiguous()
        tokens_seconds = (time.perf_counter() - t0) / frames
    finally:
        torch.set_num_threads(threads)
    ms = 1e3 * np.asarray(latencies)
    fps = len(latencies) / elapsed
    return {"frames_per_s": fps, "goal_frames_per_s": GOAL_FPS, "goal_met": fps >= GOAL_FPS,
            "frame_ms_p50": float(np.percentile(ms, 50)), "frame_ms_p99": float(np.percentile(ms, 99)),
            "tokens_us": 1e6 * tokens_seconds, "calls": len(latencies),
            "tokens": encoder.config.tokens, "encoder": encoder.summary(), "render_frames_per_s":
            rendered.frames_per_second}


def vision_line(r: dict) -> str:
    return (f"vision: 224x224 frame -> {r['tokens']} tokens -> ball encoder, 1 thread: {r['frames_per_s']:.0f} frames/s "
            f"(p50 {r['frame_ms_p50']:.1f} / p99 {r['frame_ms_p99']:.1f} ms, of which tokens {r['tokens_us']:.0f} us); "
            f"goal >= {r['goal_frames_per_s']:g}: {'met' if r['goal_met'] else 'NOT met'}; "
            f"rendering {r['render_frames_per_s']:.0f} frames/s")


def print_vision_report(r: dict) -> None:
    print(vision_line(r))
