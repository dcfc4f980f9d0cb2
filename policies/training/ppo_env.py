"""The batched G1 env as rsl_rl sees it: torch tensors in, a TensorDict of observation groups out.

Group "policy" is the deployable observation (the contract's layout); "privileged" adds what only
the simulator knows (base velocity, contacts, friction) for the critic, which never ships. Episode
returns and lengths are kept here for the progress bar and the learning curve.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import torch
from rsl_rl.env import VecEnv
from tensordict import TensorDict

from sim.envs.vector import G1WalkVectorEnv


class RslVecEnv(VecEnv):
    def __init__(self, env: G1WalkVectorEnv, seed: int) -> None:
        self.env = env
        self.num_envs = env.num_envs
        self.num_actions = env.contract.action_size
        self.max_episode_length = round(env.config.episode_seconds / env.contract.control_dt)
        self.device = "cpu"
        self.cfg = {}
        obs, _ = env.reset(seed=seed)
        self._obs = obs
        self.episode_length_buf = torch.zeros(self.num_envs, dtype=torch.long)
        self._returns = np.zeros(self.num_envs)
        self.finished_returns: deque[float] = deque(maxlen=200)
        self.finished_lengths: deque[int] = deque(maxlen=200)
        self.term_sums: dict[str, float] = {}
        self.term_count = 0

    def get_observations(self) -> TensorDict:
        return TensorDict({"policy": torch.from_numpy(self._obs),
                           "privileged": torch.from_numpy(self.env.privileged.copy())}, batch_size=[self.num_envs])

    def step(self, actions: torch.Tensor):
        obs, reward, terminated, truncated, info = self.env.step(actions.numpy())
        self._obs = obs
        for name, values in info.items():
            if name not in ("final_obs", "final_index"):
                self.term_sums[name] = self.term_sums.get(name, 0.0) + float(np.mean(values))
        self.term_count += 1
        self._returns += reward
        done = terminated | truncated
        for row in np.flatnonzero(done):
            self.finished_returns.append(float(self._returns[row]))
            self.finished_lengths.append(int(self.episode_length_buf[row]) + 1)
        self._returns[done] = 0.0
        self.episode_length_buf += 1
        self.episode_length_buf[torch.from_numpy(done)] = 0
        extras = {"time_outs": torch.from_numpy(truncated & ~terminated).float()}
        return (self.get_observations(), torch.from_numpy(reward.astype(np.float32)),
                torch.from_numpy(done).float(), extras)

    def snapshot(self) -> dict:
        return {"env": self.env.snapshot(), "obs": self._obs.copy(), "returns": self._returns.copy(),
                "episode_length": self.episode_length_buf.clone(), "finished_returns": list(self.finished_returns),
                "finished_lengths": list(self.finished_lengths)}

    def restore(self, snapshot: dict) -> None:
        self.env.restore(snapshot["env"])
        self._obs, self._returns = snapshot["obs"].copy(), snapshot["returns"].copy()
        self.episode_length_buf = snapshot["episode_length"].clone()
        self.finished_returns.extend(snapshot["finished_returns"])
        self.finished_lengths.extend(snapshot["finished_lengths"])

    def take_term_means(self) -> dict[str, float]:
        """Mean of each reward term per step since the last call."""
        means = {k: v / max(self.term_count, 1) for k, v in self.term_sums.items()}
        self.term_sums, self.term_count = {}, 0
        return means
