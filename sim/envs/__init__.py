"""Gymnasium environments of the G1, registered under the project's namespace on import.

    import gymnasium as gym, sim.envs
    env = gym.make("Bessemer/G1Walk-v0")
"""

import gymnasium as gym

ENV_IDS = ("Bessemer/G1Stand-v0", "Bessemer/G1Walk-v0")

if "Bessemer/G1Walk-v0" not in gym.registry:
    gym.register("Bessemer/G1Stand-v0", entry_point="sim.envs.g1_stand:G1StandEnv")
    gym.register("Bessemer/G1Walk-v0", entry_point="sim.envs.g1_walk:G1WalkEnv")
