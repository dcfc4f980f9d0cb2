"""`bessemer bench --perception`: perception's figures in one run, on one thread each.

Vision tokens and encoder frames/s at 224x224 (goal 30), audio tokenization as a multiple of real
time (goal 100x) with the codebook's reconstruction error, the sound bearing's error beside
pyroomacoustics' SRP-PHAT, NormMUSIC and TOPS on the very same blocks (goal: no worse than the best),
and what the simulated room costs
to stream to a walking head (it must outrun the simulation it feeds).
"""

from __future__ import annotations

import sys
import time

import numpy as np

from bessemer.bench.audio_bearing import bench_bearing, print_bearing_report
from bessemer.bench.audio_tokens import bench_audio_tokens, print_audio_tokens_report
from bessemer.bench.vision_rate import bench_vision, print_vision_report


def bench_listening_room(seconds: float = 4.0, chunk_s: float = 0.02, move_every_s: float = 0.1) -> dict:
    """A head walking and turning, its pose changing every `move_every_s`, read in `chunk_s` chunks."""
    from perception.acoustic_scene import HeadPose, PointSource, Room, source_sound
    from perception.listening_room import ListeningRoom
    from perception.microphones import MicArray

    array = MicArray.g1_head()
    room = ListeningRoom(array, Room((6.0, 5.0, 3.0), 0.3), [PointSource((4.5, 3.0, 0.3), source_sound("chirp", 4.0))])
    chunk = round(chunk_s * array.sample_rate)
    start = time.process_time()
    for i in range(round(seconds / chunk_s)):
        step = np.floor(i * chunk_s / move_every_s) * move_every_s
        room.read(chunk, HeadPose((2.0 + 0.4 * step, 2.5 + 0.2 * np.sin(step), 1.25), yaw_deg=25.0 * step))
    cpu = time.process_time() - start
    return {"seconds": seconds, "chunk_ms": 1e3 * chunk_s, "move_every_ms": 1e3 * move_every_s,
            "realtime_x": seconds / cpu}


def bench_perception(bearing_scenes: int = 10) -> dict:
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        print("perception: vision", file=sys.stderr, flush=True)
        vision = bench_vision()
        print("perception: audio tokens", file=sys.stderr, flush=True)
        tokens = bench_audio_tokens()
        bearing = bench_bearing(scenes=bearing_scenes)
        room = bench_listening_room()
    finally:
        torch.set_num_threads(threads)
    return {"vision": vision, "audio_tokens": tokens, "bearing": bearing, "listening_room": room}


def print_perception_report(r: dict) -> None:
    print_vision_report(r["vision"])
    print_audio_tokens_report(r["audio_tokens"])
    print_bearing_report(r["bearing"])
    room = r["listening_room"]
    print(f"simulated room streamed to a walking head ({room['chunk_ms']:.0f} ms chunks, pose every "
          f"{room['move_every_ms']:.0f} ms, 1 thread): x{room['realtime_x']:.1f} real time")
