"""A run that sees several observation frames, started from a policy that saw one: at first, the same policy.

The first layer of the actor and of the critic gets a block of columns for each older frame, all
zero, so the widened networks compute exactly what the single-frame ones did, and training learns
what the history is worth. The normalizers take the current frame's statistics for the older
frames (the same signals, a step earlier). Adam's moments for the new columns start at zero, and
its learning rate carries on, so the first update is no larger than the last one was.
"""

from __future__ import annotations

import torch

FIRST_LAYER = "mlp.0.weight"
NORMALIZER = ("obs_normalizer._mean", "obs_normalizer._var", "obs_normalizer._std")


def _older_frames_first(values: torch.Tensor, frame_size: int, frames: int, fill: torch.Tensor | None) -> torch.Tensor:
    """`values` (.., n) with `frames - 1` frames prepended along the last axis: `fill`, or zeros."""
    older = (fill if fill is not None else torch.zeros_like(values[..., :frame_size])).repeat(
        *([1] * (values.dim() - 1)), frames - 1)
    return torch.cat((older, values), dim=-1)


def widen_to_history(algorithm: dict, frame_size: int, frames: int) -> dict:
    """A saved PPO state (actor, critic, optimizer) of a single-frame policy, for `frames` frames."""
    out = {key: dict(value) if isinstance(value, dict) else value for key, value in algorithm.items()}
    first_shapes = set()
    for net in ("actor_state_dict", "critic_state_dict"):
        state = out[net]
        first_shapes.add(tuple(state[FIRST_LAYER].shape))
        state[FIRST_LAYER] = _older_frames_first(state[FIRST_LAYER], frame_size, frames, None)
        for key in NORMALIZER:
            if key in state:
                state[key] = _older_frames_first(state[key], frame_size, frames, state[key][..., :frame_size])
    optimizer = out.get("optimizer_state_dict")
    if optimizer:
        moments = {}
        for index, entry in optimizer["state"].items():
            entry = dict(entry)
            for key in ("exp_avg", "exp_avg_sq"):
                if key in entry and tuple(entry[key].shape) in first_shapes:
                    entry[key] = _older_frames_first(entry[key], frame_size, frames, None)
            moments[index] = entry
        out["optimizer_state_dict"] = {**optimizer, "state": moments}
    return out
