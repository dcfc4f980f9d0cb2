"""Domain randomization for training: the robots a policy must walk on, not only the nominal one.

Physical properties (floor friction, link masses, the torso's centre of mass and a payload, joint
friction, damping and armature, motor gains) vary between a set of model copies; `mujoco.rollout` steps each robot on its own copy, so no Python runs per robot. Action
latency and pushes vary per robot and per episode inside the vector env. Ranges are those of the
legged-robot RL literature, widened where the stack itself measured more (latency: a 50 Hz policy's
targets reach the 500 Hz loop within one to two ticks over ZMQ, see `bessemer bench --zmq`; a
policy step of delay is holosoma's G1 range). Joint friction varies x0.5-2 about the model's values,
as MuJoCo Playground's G1 does, since no public identification of a real G1's friction exists.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from sim.envs.upper_body import UpperBodyConfig


@dataclass(frozen=True)
class Randomization:
    models: int = 32
    """Model copies drawn at start; each robot takes one at random at every reset."""
    friction: tuple[float, float] | None = (0.4, 1.25)
    """Floor (and every geom's) sliding friction; None keeps the model's."""
    link_mass_scale: tuple[float, float] = (0.9, 1.2)
    payload_kg: tuple[float, float] = (-1.0, 3.0)
    """Mass added to the torso (a battery, a camera, a backpack)."""
    com_offset_m: float = 0.05
    """Largest shift of the torso's centre of mass along each axis."""
    joint_friction_scale: tuple[float, float] = (0.5, 2.0)
    joint_damping_scale: tuple[float, float] = (0.5, 2.0)
    armature_scale: tuple[float, float] = (1.0, 1.05)
    kp_scale: tuple[float, float] = (0.85, 1.15)
    kd_scale: tuple[float, float] = (0.85, 1.15)
    latency_steps: tuple[int, int] = (0, 10)
    """Physics steps (2 ms each) for which a new action's targets have not reached the motors."""
    push_seconds: tuple[float, float] = (3.0, 6.0)
    """Time between pushes of one robot."""
    push_speed: float = 1.5
    """Largest horizontal base speed (m/s) a push adds, in a random direction: a third of the pushes are
    above the 1.0 m/s a walker must take sideways every 5 s. At most 1.3 m/s every 4-8 s, fewer than
    one push in ten was that hard and sideways, and the walker fell at the second such push."""
    upper_body: UpperBodyConfig = UpperBodyConfig()
    """The waist and arms moved as an operator would, while the policy walks."""
    with_nominal: bool = True
    """Whether the first model copy is the nominal robot (in training, every robot may meet it)."""
    obs_noise: tuple[tuple[str, float], ...] = (
        ("gyro", 0.2), ("projected_gravity", 0.05), ("joint_pos", 0.01), ("joint_vel", 1.5))
    """Uniform noise amplitude on the policy's sensors, in physical units (rad/s, unit vector, rad)."""

    @classmethod
    def pushes_only(cls) -> Randomization:
        """The nominal robot, pushed as often and as hard as under full randomization."""
        nominal = cls.none()
        return cls(**{**nominal.__dict__, "push_seconds": cls.push_seconds, "push_speed": cls.push_speed})

    @classmethod
    def fixed(cls, payload_kg: float = 0.0, friction: float | None = None, gain_scale: float = 1.0) -> Randomization:
        """One robot, nominal but for these: what an evaluation asks of a policy beyond the nominal robot
        (a payload on the torso, a slippery floor, motors weaker than their gains say)."""
        return cls(**{**cls.none().__dict__, "payload_kg": (payload_kg, payload_kg),
                      "friction": None if friction is None else (friction, friction),
                      "kp_scale": (gain_scale, gain_scale), "kd_scale": (gain_scale, gain_scale),
                      "with_nominal": False})

    @classmethod
    def none(cls) -> Randomization:
        return cls(models=1, friction=(1.0, 1.0), link_mass_scale=(1.0, 1.0), payload_kg=(0.0, 0.0),
                   com_offset_m=0.0, joint_friction_scale=(1.0, 1.0), joint_damping_scale=(1.0, 1.0),
                   armature_scale=(1.0, 1.0), kp_scale=(1.0, 1.0), kd_scale=(1.0, 1.0), latency_steps=(0, 0),
                   push_seconds=(1e9, 1e9), push_speed=0.0, upper_body=UpperBodyConfig(share=0.0), obs_noise=())


@dataclass
class ModelVariant:
    model: mujoco.MjModel
    kp: np.ndarray
    kd: np.ndarray
    friction: float


def model_variants(base: mujoco.MjModel, kp: np.ndarray, kd: np.ndarray, r: Randomization,
                   rng: np.random.Generator) -> list[ModelVariant]:
    """`r.models` copies of the model with their physical properties drawn; the first is nominal if
    `r.with_nominal`."""
    torso = mujoco.mj_name2id(base, mujoco.mjtObj.mjOBJ_BODY, "torso_link")
    variants = [ModelVariant(base, kp.copy(), kd.copy(), float(base.geom_friction[0, 0]))] if r.with_nominal else []
    for _ in range(r.models - len(variants)):
        m = base.__copy__()
        friction = float(base.geom_friction[0, 0])
        if r.friction is not None:
            friction = rng.uniform(*r.friction)
            m.geom_friction[:, 0] = friction
        scale = rng.uniform(*r.link_mass_scale, base.nbody)
        scale[0] = 1.0
        m.body_mass[:] = base.body_mass * scale
        m.body_inertia[:] = base.body_inertia * scale[:, None]
        payload = rng.uniform(*r.payload_kg)
        m.body_inertia[torso] *= (m.body_mass[torso] + payload) / m.body_mass[torso]
        m.body_mass[torso] += payload
        m.body_ipos[torso] += rng.uniform(-r.com_offset_m, r.com_offset_m, 3)
        joints = slice(6, base.nv)
        m.dof_frictionloss[joints] = base.dof_frictionloss[joints] * rng.uniform(*r.joint_friction_scale, base.nv - 6)
        m.dof_damping[joints] = base.dof_damping[joints] * rng.uniform(*r.joint_damping_scale, base.nv - 6)
        m.dof_armature[joints] = base.dof_armature[joints] * rng.uniform(*r.armature_scale, base.nv - 6)
        v_kp = kp * rng.uniform(*r.kp_scale, kp.size)
        v_kd = kd * rng.uniform(*r.kd_scale, kd.size)
        m.actuator_biasprm[:, 1], m.actuator_biasprm[:, 2] = -v_kp, -v_kd
        mujoco.mj_setConst(m, mujoco.MjData(m))
        variants.append(ModelVariant(m, v_kp, v_kd, friction))
    return variants
