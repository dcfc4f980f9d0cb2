"""Evaluate a walking policy in the project's simulation: tracking, falls, distance, survival.

Each seed is one robot on the nominal deployment model (no randomization, no sensor noise) starting
from the stand pose with that seed's joint noise, given one fixed velocity command, optionally
shoved sideways at a fixed interval, optionally off-nominal in a stated way (a torso payload, floor
friction, motor gains). Speeds are averaged after a settling time (the robot must
first accelerate) and only while the robot is up; a fallen robot stops counting, and a figure no
robot lived to measure is None.

With a `ForeignG1`, the same table is measured on another G1 model (sim-to-sim): the result's
`model` names the one that ran.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from policies.inference import LearnedPolicy
from robots.interface import yaw_of
from sim.envs.g1_walk import WalkConfig
from sim.envs.randomization import Randomization
from sim.envs.vector import G1WalkVectorEnv
from sim.foreign_g1 import ForeignG1


@dataclass(frozen=True)
class EvalConfig:
    command: tuple[float, float, float] = (0.5, 0.0, 0.0)
    """Forward and lateral speed (m/s) and yaw rate (rad/s)."""
    seeds: int = 10
    first_seed: int = 0
    seconds: float = 20.0
    settle_seconds: float = 3.0
    push_speed: float = 0.0
    """Sideways speed (m/s) added to the pelvis at every push, alternating left and right."""
    push_every: float = 5.0
    payload_kg: float = 0.0
    """Mass added to the torso."""
    friction: float | None = None
    """Floor friction; None: the model's."""
    gain_scale: float = 1.0
    """The motors' kp and kd as a fraction of the contract's."""

    @property
    def off_nominal(self) -> str:
        """How the robot differs from the nominal one, in words ("" if it does not)."""
        parts = [f"{self.payload_kg:+g} kg on the torso" if self.payload_kg else "",
                 f"floor friction {self.friction:g}" if self.friction is not None else "",
                 f"kp/kd x{self.gain_scale:g}" if self.gain_scale != 1.0 else ""]
        return ", ".join(p for p in parts if p)


def evaluate(policy: LearnedPolicy, config: EvalConfig, threads: int = 2, foreign: ForeignG1 | None = None) -> dict:
    c = config
    walk = replace(WalkConfig().holding(c.command), episode_seconds=c.seconds + 1.0)
    randomization = Randomization.fixed(c.payload_kg, c.friction, c.gain_scale) if c.off_nominal else None
    env = G1WalkVectorEnv(c.seeds, walk, policy.contract, threads=threads, foreign=foreign,
                          randomization=randomization)
    obs, _ = env.reset(seed=c.first_seed)
    for row in range(c.seeds):
        rng = np.random.default_rng(c.first_seed + row)
        noise = rng.uniform(-1, 1, len(env._act)) * walk.reset_joint_noise
        joints = 1 + env._qadr[env._act]
        env.states[row, joints] = env._initial_state[joints] + noise
    obs = env.restart_observations()
    dt = policy.contract.control_dt
    steps, settle, push_steps = round(c.seconds / dt), round(c.settle_seconds / dt), round(c.push_every / dt)
    alive = np.ones(c.seeds, dtype=bool)
    survival = np.full(c.seeds, c.seconds)
    start = env.base_position()
    last = start.copy()
    sums = np.zeros((c.seeds, 3))
    counted = np.zeros(c.seeds)
    err_lin, err_yaw = np.zeros(c.seeds), np.zeros(c.seeds)
    pushes = 0
    for k in range(1, steps + 1):
        obs, _, terminated, _, _ = env.step(policy.actions(obs))
        fell = alive & terminated
        survival[fell] = k * dt
        alive &= ~terminated
        if not alive.any():
            break
        lin, ang = env.base_velocity()
        position = env.base_position()
        last[alive] = position[alive]
        if k > settle:
            rows = alive
            sums[rows] += np.column_stack((lin[rows, 0], lin[rows, 1], ang[rows, 2]))
            counted[rows] += 1
            err_lin[rows] += np.linalg.norm(lin[rows, :2] - np.array(c.command[:2]), axis=1)
            err_yaw[rows] += np.abs(ang[rows, 2] - c.command[2])
        if c.push_speed > 0 and k % push_steps == 0:
            sign = 1.0 if (k // push_steps) % 2 else -1.0
            heading = yaw_of(env.states[:, 4:8])
            sideways = sign * c.push_speed * np.column_stack((-np.sin(heading), np.cos(heading)))
            env.push(np.flatnonzero(alive), sideways[alive])
            pushes += 1
    env.close()
    n = np.maximum(counted, 1)
    mean = sums / n[:, None]

    def measured(value: float, row: int) -> float | None:
        return round(float(value), 4) if counted[row] else None

    per_seed = [{"seed": c.first_seed + i, "fell": bool(not alive[i]), "survival_s": round(float(survival[i]), 2),
                 "forward_mps": measured(mean[i, 0], i), "lateral_mps": measured(mean[i, 1], i),
                 "yaw_rate_rps": measured(mean[i, 2], i),
                 "velocity_error_mps": measured(np.linalg.norm(mean[i, :2] - np.array(c.command[:2])), i),
                 "yaw_rate_error_rps": measured(abs(mean[i, 2] - c.command[2]), i),
                 "lin_tracking_error_mps": measured(err_lin[i] / n[i], i),
                 "yaw_tracking_error_rps": measured(err_yaw[i] / n[i], i),
                 "distance_m": round(float(np.linalg.norm((last[i] - start[i])[:2])), 3)} for i in range(c.seeds)]

    def avg(key: str) -> float | None:
        values = [s[key] for s in per_seed if s[key] is not None]
        return round(float(np.mean(values)), 4) if values else None

    model = "project G1 (nominal)" if foreign is None else str(foreign.source)
    if c.off_nominal:
        model += f", {c.off_nominal}"
    return {"config": asdict(c), "policy": str(policy.path), "model": model, "falls": int((~alive).sum()),
            "seeds": c.seeds, "pushes_per_robot": pushes, "mean_survival_s": round(float(survival.mean()), 2),
            "forward_mps": avg("forward_mps"), "lateral_mps": avg("lateral_mps"), "yaw_rate_rps": avg("yaw_rate_rps"),
            "velocity_error_mps": avg("velocity_error_mps"), "yaw_rate_error_rps": avg("yaw_rate_error_rps"),
            "lin_tracking_error_mps": avg("lin_tracking_error_mps"),
            "yaw_tracking_error_rps": avg("yaw_tracking_error_rps"), "distance_m": avg("distance_m"),
            "per_seed": per_seed}
