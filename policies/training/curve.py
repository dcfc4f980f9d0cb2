"""The learning curve as a PNG beside the run, redrawn at every checkpoint."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

PANELS = (("mean_return", "episode return"), ("mean_episode_seconds", "episode length (s)"),
          ("tracking_lin_vel", "velocity tracking (reward / step)"))


def plot_learning_curve(history: list[dict], path: Path, title: str) -> None:
    steps = [h["env_steps"] / 1e6 for h in history]
    fig, axes = plt.subplots(1, len(PANELS), figsize=(4.2 * len(PANELS), 3.2), constrained_layout=True)
    for ax, (key, label) in zip(axes, PANELS):
        ax.plot(steps, [h.get(key, float("nan")) for h in history], color="#2f6db5", lw=1.4)
        ax.set_xlabel("env steps (millions)")
        ax.set_title(label, fontsize=10)
        ax.grid(alpha=0.3)
    fig.suptitle(title, fontsize=11)
    tmp = path.with_name(path.stem + ".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
