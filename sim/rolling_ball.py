"""A ball that rolls and bounces in a walled room, in its own small MuJoCo model.

The ball lives apart from the G1's world so the robot's qpos, qvel and every controller's indices stay
as they are; the robot's world shows it through its mocap target ball, posed from here each step. The
ball is a hollow shell (a football's inertia, 2/3 m r^2) with condim 6, so MuJoCo applies rolling
friction: a pushed ball first slides, spinning up under sliding friction, then rolls and slows under
rolling resistance until it stops. Restitution is set through the contact's damping ratio: MuJoCo's
contact is a damped spring, and a linear one of damping ratio z gives back exp(-pi z / sqrt(1 - z^2))
of the approach speed; MuJoCo's contact impedance makes the bounce livelier than that at low
restitution (0.3 gives back about 0.4, 0.7 about 0.76, at any impact speed; a test measures it). A 1 ms
step keeps a lightly damped bounce from gaining energy. Every surface shares the ball's contact
parameters, so one scene's floor and walls behave alike.

The robot does not touch this ball (it walks through where it lies); the tasks judge where it stops.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import mujoco
import numpy as np

from sim.world import WALL_HEIGHT, WALL_THICKNESS, wall_boxes

BALL = "ball"
REST_SPEED = 0.02
"""Below this speed (m/s) over the floor the ball counts as at rest (resting against a wall, it keeps a
millimetric vertical jitter from the two soft contacts)."""


@dataclass(frozen=True)
class BallPhysics:
    """One scene's surfaces: the randomized part of the physics."""

    sliding_friction: float = 0.6
    rolling_friction: float = 0.006
    """MuJoCo's rolling friction (m): the resisting torque per newton of normal force."""
    restitution: float = 0.6
    """Share of the normal speed a bounce gives back, nominally (see the module's docstring)."""

    @property
    def damping_ratio(self) -> float:
        log = math.log(self.restitution)
        return -log / math.sqrt(math.pi ** 2 + log ** 2)


@dataclass(frozen=True)
class RollingBallConfig:
    room_m: tuple[float, float] = (8.0, 7.0)
    """Floor plan, centred on the origin (the follow-sound room's)."""
    wall_height: float = WALL_HEIGHT
    wall_thickness: float = WALL_THICKNESS
    radius: float = 0.1
    """The robot world's target ball: a size-5 football."""
    mass: float = 0.43
    timestep: float = 0.001
    contact_time_constant: float = 0.02
    """Seconds: the contact spring's stiffness, twenty physics steps."""


def build_ball_xml(config: RollingBallConfig, physics: BallPhysics) -> str:
    solref = f"{config.contact_time_constant:g} {physics.damping_ratio:.6g}"
    friction = f"{physics.sliding_friction:g} 0.005 {physics.rolling_friction:g}"
    root = ET.Element("mujoco", model="rolling_ball")
    ET.SubElement(root, "option", timestep=f"{config.timestep:g}", integrator="implicitfast")
    default = ET.SubElement(root, "default")
    ET.SubElement(default, "geom", condim="6", solref=solref, friction=friction)
    world = ET.SubElement(root, "worldbody")
    ET.SubElement(world, "geom", name="floor", type="plane", size="0 0 0.05")
    for name, pos, size in wall_boxes(config.room_m, config.wall_height, config.wall_thickness):
        ET.SubElement(world, "geom", name=name, type="box", pos=" ".join(f"{v:g}" for v in pos),
                      size=" ".join(f"{v:g}" for v in size))
    body = ET.SubElement(world, "body", name=BALL, pos=f"0 0 {config.radius:g}")
    ET.SubElement(body, "freejoint", name=BALL)
    ET.SubElement(body, "geom", name=BALL, type="sphere", size=f"{config.radius:g}", mass=f"{config.mass:g}",
                  shellinertia="true")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode")


class RollingBall:
    """The ball in its room: push it, step it, read where it is."""

    def __init__(self, physics: BallPhysics = BallPhysics(), config: RollingBallConfig = RollingBallConfig()) -> None:
        self.config, self.physics = config, physics
        self.model = mujoco.MjModel.from_xml_string(build_ball_xml(config, physics))
        self.data = mujoco.MjData(self.model)
        self.time = 0.0

    def push(self, position: tuple[float, float], velocity: tuple[float, float, float]) -> None:
        """Lay the ball on the floor at `position` (x, y), still, and give it `velocity` (m/s) without spin,
        as a kick or a shove does."""
        mujoco.mj_resetData(self.model, self.data)
        self.data.qpos[:3] = (*position, self.config.radius)
        self.data.qvel[:3] = velocity
        mujoco.mj_forward(self.model, self.data)
        self.time = 0.0

    def step(self, seconds: float) -> None:
        """Advance by `seconds`, a whole number of physics steps."""
        steps = round(seconds / self.config.timestep)
        mujoco.mj_step(self.model, self.data, nstep=steps)
        self.time += steps * self.config.timestep

    @property
    def position(self) -> np.ndarray:
        return self.data.qpos[:3].copy()

    @property
    def velocity(self) -> np.ndarray:
        return self.data.qvel[:3].copy()

    @property
    def at_rest(self) -> bool:
        return float(np.linalg.norm(self.data.qvel[:2])) < REST_SPEED


@dataclass(frozen=True)
class ThrowRanges:
    """What a seed draws a throw from: in front of someone who watches, pushed any way but at them."""

    distance_m: tuple[float, float] = (1.2, 2.0)
    """From the watcher, where the head camera sees the floor (about 0.5-2.4 m)."""
    bearing_deg: float = 15.0
    """Within this of the watcher's heading."""
    direction_deg: float = 135.0
    """The push's direction, within this of the watcher's heading: along, across or slanting away."""
    speed_m_s: tuple[float, float] = (0.8, 2.5)
    hop_m_s: tuple[float, float] = (0.0, 0.8)
    """Upward speed of the push: a small hop before it rolls."""
    sliding_friction: tuple[float, float] = (0.4, 0.9)
    rolling_friction: tuple[float, float] = (0.003, 0.012)
    """A rolling shell of radius r slows by 0.6 g times this over r: 0.18-0.7 m/s^2 here."""
    restitution: tuple[float, float] = (0.25, 0.75)
    wall_margin_m: float = 0.3


@dataclass(frozen=True)
class BallThrow:
    seed: int
    physics: BallPhysics
    start: tuple[float, float]
    velocity: tuple[float, float, float]

    @classmethod
    def from_seed(cls, seed: int, watcher_xy: tuple[float, float] = (0.0, 0.0), watcher_yaw: float = 0.0,
                  ranges: ThrowRanges = ThrowRanges(), config: RollingBallConfig = RollingBallConfig()) -> BallThrow:
        """A throw drawn from `seed`, placed in front of a watcher at `watcher_xy` facing `watcher_yaw` (rad)."""
        rng = np.random.default_rng(seed)
        physics = BallPhysics(float(rng.uniform(*ranges.sliding_friction)), float(rng.uniform(*ranges.rolling_friction)),
                              float(rng.uniform(*ranges.restitution)))
        half = np.array(config.room_m) / 2 - ranges.wall_margin_m - config.radius
        while True:
            bearing = watcher_yaw + math.radians(rng.uniform(-ranges.bearing_deg, ranges.bearing_deg))
            distance = rng.uniform(*ranges.distance_m)
            start = np.asarray(watcher_xy) + distance * np.array([math.cos(bearing), math.sin(bearing)])
            direction = watcher_yaw + math.radians(rng.uniform(-ranges.direction_deg, ranges.direction_deg))
            speed, hop = rng.uniform(*ranges.speed_m_s), rng.uniform(*ranges.hop_m_s)
            if np.all(np.abs(start) <= half):
                velocity = (speed * math.cos(direction), speed * math.sin(direction), hop)
                return cls(seed, physics, (float(start[0]), float(start[1])), tuple(float(v) for v in velocity))

    def ball(self, config: RollingBallConfig = RollingBallConfig()) -> RollingBall:
        """The ball of this throw, pushed and ready to step."""
        ball = RollingBall(self.physics, config)
        ball.push(self.start, self.velocity)
        return ball
