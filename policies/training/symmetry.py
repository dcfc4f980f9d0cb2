"""Left-right mirror images of the walker's samples, for rsl_rl's symmetry augmentation.

The G1 and its stepping reference are mirror-symmetric about the sagittal plane: the mirror image of
a robot, given the mirrored action, moves as the mirror image of the robot. Every PPO minibatch also
learns from the mirror of each sample (Mittal et al., ICRA 2024), so both legs and both turning
directions learn one skill from twice the data: trained without it, the walker turned at 0.29 rad/s
when asked for +0.5 and at 0.55 rad/s when asked for -0.5.

A mirror is a permutation and a sign per value: left and right legs swap, and what points across
the plane flips (lateral speed, roll and yaw joints and rates, the gravity's lateral component). The
right leg's gait phase is the left one's plus half a period, so mirroring moves the phase by half a
period, which negates its sine and cosine.
"""

from __future__ import annotations

import numpy as np
import torch
from tensordict import TensorDict

from policies.contract import PolicyContract
from sim.envs.vector import PRIVILEGED_SIZE

VECTOR = (1.0, -1.0, 1.0)
"""A vector's components (x, y, z) in the mirror image: the lateral one flips."""
RATE = (-1.0, 1.0, -1.0)
"""An angular velocity's (a pseudovector's): roll and yaw rates flip."""
COMMAND = (1.0, -1.0, -1.0)
"""Forward and lateral speed and yaw rate."""
PRIVILEGED = (("vector", 3), ("same", 1), ("pair", 2), ("pair", 2), ("same", 1))
"""The critic's extra values, `sim/envs/vector.py`'s layout: base velocity, base height, foot contacts
(left, right), sole heights (left, right), friction."""


def _legs(contract: PolicyContract) -> tuple[np.ndarray, np.ndarray]:
    """Permutation and signs of the actuated joints: each joint takes its twin's value, a roll or yaw
    joint's negated."""
    names = [contract.joint_names[i] for i in contract.actuated]
    twin = {"left_": "right_", "right_": "left_"}
    perm, sign = [], []
    for name in names:
        side = next((s for s in twin if name.startswith(s)), None)
        mirrored = twin[side] + name[len(side):] if side else name
        if mirrored not in names:
            raise ValueError(f"no mirror twin for the actuated joint {name}: this policy cannot be trained symmetric")
        perm.append(names.index(mirrored))
        sign.append(-1.0 if name.endswith(("_roll_joint", "_yaw_joint")) else 1.0)
    return np.array(perm), np.array(sign)


def _observation(contract: PolicyContract) -> tuple[np.ndarray, np.ndarray]:
    legs = _legs(contract)
    fixed = {"gyro": RATE, "projected_gravity": VECTOR, "command": COMMAND, "gait_phase": (-1.0, -1.0)}
    perm, sign, start = [], [], 0
    for name, size in contract.obs_layout:
        if name in fixed:
            perm.append(start + np.arange(size))
            sign.append(np.array(fixed[name]))
        elif name in ("joint_pos", "joint_vel", "last_action"):
            perm.append(start + legs[0])
            sign.append(legs[1])
        else:
            raise ValueError(f"no mirror for the observation part {name!r}")
        start += size
    perm, sign = np.concatenate(perm), np.concatenate(sign)
    frames = np.arange(contract.obs_history)[:, None] * contract.frame_size
    return (frames + perm).ravel(), np.tile(sign, contract.obs_history)


def _privileged() -> tuple[np.ndarray, np.ndarray]:
    perm, sign, start = [], [], 0
    for kind, size in PRIVILEGED:
        if kind == "pair":
            perm.extend((start + 1, start))
            sign.extend((1.0, 1.0))
            start += 2
            continue
        perm.extend(start + np.arange(size))
        sign.extend(VECTOR if kind == "vector" else (1.0,) * size)
        start += size
    if start != PRIVILEGED_SIZE:
        raise ValueError(f"the mirror knows {start} privileged values, the env has {PRIVILEGED_SIZE}")
    return np.array(perm), np.array(sign)


class Mirror:
    """rsl_rl's `data_augmentation_func`: each batch followed by its mirror image."""

    def __init__(self, contract: PolicyContract) -> None:
        self._parts = {"policy": _observation(contract), "privileged": _privileged()}
        self._actions = _legs(contract)

    @staticmethod
    def _apply(values: torch.Tensor, perm_sign: tuple[np.ndarray, np.ndarray]) -> torch.Tensor:
        perm, sign = perm_sign
        return values[..., torch.as_tensor(perm, device=values.device)] * torch.as_tensor(
            sign, dtype=values.dtype, device=values.device)

    def observations(self, obs: TensorDict) -> TensorDict:
        return TensorDict({key: self._apply(obs[key], self._parts[key]) for key in obs.keys()},
                          batch_size=obs.batch_size, device=obs.device)

    def actions(self, actions: torch.Tensor) -> torch.Tensor:
        return self._apply(actions, self._actions)

    def __call__(self, env: object = None, obs: TensorDict | None = None,
                 actions: torch.Tensor | None = None) -> tuple[TensorDict | None, torch.Tensor | None]:
        both_obs = None if obs is None else torch.cat((obs, self.observations(obs)), dim=0)
        both_actions = None if actions is None else torch.cat((actions, self.actions(actions)), dim=0)
        return both_obs, both_actions
