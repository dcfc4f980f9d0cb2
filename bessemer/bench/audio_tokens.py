"""`bessemer bench` for perception's tokenizers: how much faster than real time one thread turns audio
into codebook tokens (log-mel and encode; the goal is 100x, so audio never starves a 1-core node),
how many 16x16 patches per second it cuts from a 224x224 RGB frame, and how faithfully the codebook,
fitted on synthetic audio, redraws a spectrogram from held-out seeds, beside the trivial one-entry
codebook (the mean slice) as the floor it must clearly beat."""

from __future__ import annotations

import sys
import time

import numpy as np

HELD_OUT_SEED = 10_000


def _seconds_per_call(call, seconds: float) -> float:
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        call()
        calls += 1
    return (time.perf_counter() - start) / calls


def bench_audio_tokens(entries: int = 1024, frames_per_token: int = 4, train_clips: int = 150,
                       held_out_clips: int = 10, clip_seconds: float = 6.0, seconds: float = 3.0) -> dict:
    import torch

    from perception.codebook import AudioCodebook, CodebookConfig
    from perception.patches import to_patches
    from perception.spectrogram import log_mel
    from perception.synthetic_audio import SAMPLE_RATE, synthetic_audio, synthetic_corpus

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        print(f"audio tokens: fitting {entries} entries on {train_clips} synthetic clips of {clip_seconds:g} s",
              file=sys.stderr, flush=True)
        train = [log_mel(a) for a in synthetic_corpus(range(train_clips), clip_seconds)]
        start = time.perf_counter()
        codebook = AudioCodebook.fit(train, CodebookConfig(entries=entries, frames_per_token=frames_per_token))
        fit_seconds = time.perf_counter() - start
        trivial = AudioCodebook.fit(train, CodebookConfig(entries=1, frames_per_token=frames_per_token))

        held_out = synthetic_corpus(range(HELD_OUT_SEED, HELD_OUT_SEED + held_out_clips), clip_seconds)
        held_out_logmel = np.concatenate([log_mel(a) for a in held_out])
        error, floor = codebook.reconstruction_error(held_out_logmel), trivial.reconstruction_error(held_out_logmel)

        clip = np.concatenate(held_out)
        whole = _seconds_per_call(lambda: codebook.encode_audio(clip), seconds)
        second = synthetic_audio(HELD_OUT_SEED, 1.0)
        chunk = _seconds_per_call(lambda: codebook.encode_audio(second), seconds)

        frame = np.random.default_rng(0).integers(0, 256, (224, 224, 3), dtype=np.uint8)
        patches = len(to_patches(frame))
        per_frame = _seconds_per_call(lambda: to_patches(frame), seconds)
    finally:
        torch.set_num_threads(threads)
    return {"entries": entries, "frames_per_token": frames_per_token, "tokens_per_second": codebook.tokens_per_second,
            "train_seconds": train_clips * clip_seconds, "held_out_seconds": held_out_clips * clip_seconds,
            "fit_seconds": fit_seconds, "realtime_whole": len(clip) / SAMPLE_RATE / whole,
            "realtime_1s_chunks": 1.0 / chunk, "patches_per_frame": patches, "patches_per_s": patches / per_frame,
            "frame_us": 1e6 * per_frame, "rmse_db": error.rmse_db, "relative_error": error.relative,
            "trivial_rmse_db": floor.rmse_db, "trivial_relative_error": floor.relative,
            "entries_used_held_out": len(np.unique(codebook.encode(held_out_logmel)))}


def print_audio_tokens_report(r: dict) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(title="bessemer bench: perception tokenizers, 1 thread, one run", box=box.SIMPLE)
    for column in ("figure", "value", "goal"):
        table.add_column(column)
    for label, key in ((f"audio -> tokens, {r['held_out_seconds']:g} s clip in one call", "realtime_whole"),
                       ("audio -> tokens, 1 s chunks", "realtime_1s_chunks")):
        table.add_row(label, f"x{r[key]:,.0f} real time", f">= x100: {'met' if r[key] >= 100 else 'NOT met'}")
    table.add_row(f"  codebook: {r['entries']} entries, {r['frames_per_token']} frames/token",
                  f"{r['tokens_per_second']:g} tokens/s", f"fitted in {r['fit_seconds']:.1f} s on "
                  f"{r['train_seconds']:g} s of synthetic audio")
    table.add_row(f"reconstruction on {r['held_out_seconds']:g} s held out (log-mel dB)",
                  f"rmse {r['rmse_db']:.1f} dB, {100 * r['relative_error']:.0f} % of variance",
                  f"{r['entries_used_held_out']} entries used")
    table.add_row("  trivial one-entry codebook (mean slice)",
                  f"rmse {r['trivial_rmse_db']:.1f} dB, {100 * r['trivial_relative_error']:.0f} % of variance", "")
    table.add_row(f"224x224 RGB frame -> {r['patches_per_frame']} patches of 768",
                  f"{r['patches_per_s']:,.0f} patches/s", f"{r['frame_us']:.0f} us per frame")
    Console(highlight=False).print(table)
