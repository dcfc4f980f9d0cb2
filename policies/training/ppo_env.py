"""The batched G1 env as rsl_rl sees it: torch tensors in, a TensorDict of observation groups out.

Group "policy" is the deployable observation (the contract's layout); "privileged" adds what only
the simulator knows (base velocity, contacts, friction) for the critic, which never ships. Episode
returns and lengths are kept here for the progress bar and the learning curve. The rollout backend
hands numpy arrays (wrapped without a copy), the Warp backend torch tensors already on its device.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import torch
from rsl_rl.env import VecEnv
from tensordict import TensorDict

from sim.envs.vector import G1WalkVectorEnv
from sim.envs.warp_vector import G1WalkWarpEnv


class RslVecEnv(VecEnv):
    def __init__(self, env: G1WalkVectorEnv | G1WalkWarpEnv, seed: int) -> None:
        self.env = env
        self.num_envs = env.num_envs
        self.num_actions = env.contract.action_size
        self.max_episode_length = round(env.config.episode_seconds / env.contract.control_dt)
        self._tensors = isinstance(env, G1WalkWarpEnv)
        self.device = str(env.device) if self._tensors else "cpu"
        self.cfg = {}
        obs, _ = env.reset(seed=seed)
        self._obs = obs
        self.episode_length_buf = torch.zeros(self.num_envs, dtype=torch.long, device=self.device)
        self._returns = torch.zeros(self.num_envs, device=self.device) if self._tensors else np.zeros(self.num_envs)
        self.finished_returns: deque[float] = deque(maxlen=200)
        self.finished_lengths: deque[int] = deque(maxlen=200)
        self.term_sums: dict[str, float] = {}
        self.term_count = 0

    def get_observations(self) -> TensorDict:
        return TensorDict({"policy": torch.as_tensor(self._obs),
                           "privileged": torch.as_tensor(self.env.privileged).clone()}, batch_size=[self.num_envs])

    def step(self, actions: torch.Tensor):
        obs, reward, terminated, truncated, info = self.env.step(actions if self._tensors else actions.numpy())
        self._obs = obs
        for name, values in info.items():
            if name not in ("final_obs", "final_index"):
                mean = values.float().mean() if self._tensors else np.mean(values)
                self.term_sums[name] = self.term_sums.get(name, 0.0) + mean
        self.term_count += 1
        self._returns += reward
        done = terminated | truncated
        rows = torch.nonzero(done).flatten() if self._tensors else np.flatnonzero(done)
        if len(rows):
            self.finished_returns.extend(float(r) for r in self._returns[rows].tolist())
            self.finished_lengths.extend(int(n) + 1 for n in self.episode_length_buf[rows].tolist())
        self._returns[done] = 0.0
        self.episode_length_buf += 1
        self.episode_length_buf[torch.as_tensor(done)] = 0
        extras = {"time_outs": torch.as_tensor(truncated & ~terminated).float()}
        reward = reward.float() if self._tensors else torch.from_numpy(reward.astype(np.float32))
        return self.get_observations(), reward, torch.as_tensor(done).float(), extras

    def snapshot(self) -> dict:
        def host(a):
            return a.cpu().clone() if isinstance(a, torch.Tensor) else a.copy()

        return {"env": self.env.snapshot(), "obs": host(self._obs), "returns": host(self._returns),
                "episode_length": self.episode_length_buf.clone(), "finished_returns": list(self.finished_returns),
                "finished_lengths": list(self.finished_lengths)}

    def restore(self, snapshot: dict) -> None:
        self.env.restore(snapshot["env"])
        if self._tensors:
            self._obs = torch.as_tensor(snapshot["obs"], device=self.device).clone()
            self._returns = torch.as_tensor(snapshot["returns"], device=self.device).clone()
        else:
            self._obs, self._returns = snapshot["obs"].copy(), snapshot["returns"].copy()
        self.episode_length_buf = snapshot["episode_length"].clone().to(self.device)
        self.finished_returns.extend(snapshot["finished_returns"])
        self.finished_lengths.extend(snapshot["finished_lengths"])

    def take_term_means(self) -> dict[str, float]:
        """Mean of each reward term per step since the last call."""
        means = {k: float(v) / max(self.term_count, 1) for k, v in self.term_sums.items()}
        self.term_sums, self.term_count = {}, 0
        return means
