"""Standing balance: the walk env with a zero command, so the policy learns to stay up and still."""

from __future__ import annotations

from dataclasses import replace

from policies.contract import PolicyContract
from sim.envs.g1_walk import G1WalkEnv, WalkConfig

STAND_CONFIG = replace(WalkConfig(), command_ranges=((0.0, 0.0), (0.0, 0.0), (0.0, 0.0)))


class G1StandEnv(G1WalkEnv):
    def __init__(self, config: WalkConfig | None = None, contract: PolicyContract | None = None,
                 render_mode: str | None = None) -> None:
        super().__init__(config or STAND_CONFIG, contract, render_mode)
