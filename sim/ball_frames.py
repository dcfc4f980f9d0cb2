"""Labelled head-camera frames of the target ball, rendered by the project's own simulation.

The G1 stands still in its default pose (kinematics only, no physics step) anywhere on the floor
at any heading, so the checkered floor never sits the same way behind the ball; the ball lies on
the floor and the lights change brightness from frame to frame. Most balls are placed through a
pixel drawn uniformly over the frame, so the training set covers the whole image evenly; the rest
anywhere around the robot, most of them out of view. Labels never come from how a ball was placed:
each one is computed from the rendered scene, the way a test would check it.

A label is `present` when the ball's centre projects inside the frame and nothing drawn hides it,
`bearing_deg`, the azimuth of the ball's centre in the torso frame (x forward, y left: positive
to the left), and `distance_m`, horizontal from the torso, for every frame, present or not.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import mujoco
import numpy as np

from robots.g1.mjcf import FREE_JOINT, HEAD_CAMERA
from robots.g1.poses import get_pose
from sim.robot import SimRobot
from sim.world import TARGET_BALL, WorldConfig

TORSO = "torso_link"
VISIBLE_GROUPS = np.array([1, 1, 1, 0, 0, 0], dtype=np.uint8)
"""Geom groups the renderer draws by default: the occluders that can hide the ball."""


@dataclass(frozen=True)
class BallFramesConfig:
    size: int = 224
    """Frame side (px): 14 x 14 patches of 16."""
    in_view_fraction: float = 0.6
    """Share of balls placed through a random pixel; the rest lie anywhere around the robot."""
    around_distance: tuple[float, float] = (0.3, 4.0)
    """Range of distances (m) from the torso for balls placed around the robot."""
    robot_spread: float = 2.0
    """The robot stands anywhere within +-this (m) of the origin, at any heading."""
    headlight: tuple[float, float] = (0.5, 1.4)
    """Range of the factor on the headlight's and the sun's brightness."""


@dataclass(frozen=True)
class BallFrames:
    images: np.ndarray
    """(N, size, size, 3) uint8 RGB."""
    present: np.ndarray
    """(N,) bool: the ball's centre is in the frame and not hidden."""
    bearing_deg: np.ndarray
    """(N,) float32: azimuth of the ball in the torso frame, positive to the left."""
    distance_m: np.ndarray
    """(N,) float32: horizontal distance from the torso's origin to the ball's centre."""
    pixel: np.ndarray
    """(N, 2) float32: (column, row) the ball's centre projects to; NaN when behind the camera."""
    render_seconds: float

    def __len__(self) -> int:
        return len(self.images)

    @property
    def frames_per_second(self) -> float:
        return len(self) / self.render_seconds if self.render_seconds > 0 else math.inf


class BallScene:
    """One G1 world with the ball, its head-camera renderer and the geometry to label a frame."""

    def __init__(self, config: BallFramesConfig = BallFramesConfig(), world: WorldConfig | None = None) -> None:
        self.config = config
        world = world or WorldConfig(target_ball=True)
        if not world.target_ball:
            raise ValueError("BallScene needs a world with the target ball: WorldConfig(target_ball=True)")
        self.ball_radius = world.ball_radius
        robot = SimRobot(world)
        robot.reset(get_pose("stand"))
        self.model, self.data = robot.model, robot.data
        m = self.model
        self._base = int(m.jnt_qposadr[mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, FREE_JOINT)])
        self._mocap = int(m.body_mocapid[mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, TARGET_BALL)])
        self._ball_geom = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_GEOM, TARGET_BALL)
        self._torso = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, TORSO)
        self._camera = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_CAMERA, HEAD_CAMERA)
        self._focal = 0.5 * config.size / math.tan(math.radians(m.cam_fovy[self._camera]) / 2)
        self._light = (m.vis.headlight.ambient.copy(), m.vis.headlight.diffuse.copy(), m.light_diffuse.copy())
        self.renderer = mujoco.Renderer(m, config.size, config.size)

    def pose_robot(self, x: float, y: float, yaw: float, brightness: float = 1.0) -> None:
        """Stand the robot at (x, y) facing `yaw` (rad), lit at `brightness` times the world's lights."""
        q = self.data.qpos
        q[self._base : self._base + 2] = (x, y)
        q[self._base + 3 : self._base + 7] = (math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2))
        ambient, diffuse, sun = self._light
        self.model.vis.headlight.ambient[:] = np.clip(ambient * brightness, 0, 1)
        self.model.vis.headlight.diffuse[:] = np.clip(diffuse * brightness, 0, 1)
        self.model.light_diffuse[:] = np.clip(sun * brightness, 0, 1)
        mujoco.mj_forward(self.model, self.data)

    def place_ball(self, position: np.ndarray) -> None:
        self.data.mocap_pos[self._mocap] = position
        mujoco.mj_forward(self.model, self.data)

    def floor_point_at_pixel(self, column: float, row: float) -> np.ndarray:
        """Where a ball resting on the floor has its centre on the ray through pixel (column, row)."""
        cam_pos, cam_rot = self.data.cam_xpos[self._camera], self.data.cam_xmat[self._camera].reshape(3, 3)
        half = self.config.size / 2
        ray = cam_rot @ np.array([(column - half) / self._focal, -(row - half) / self._focal, -1.0])
        if ray[2] >= 0:
            raise ValueError(f"pixel ({column}, {row}) looks above the horizon: no floor there")
        return cam_pos + ray * (self.ball_radius - cam_pos[2]) / ray[2]

    def label(self) -> tuple[bool, float, float, tuple[float, float]]:
        """(present, bearing in degrees, horizontal distance in metres, pixel of the ball's centre) for the
        scene as posed now."""
        d = self.data
        ball = d.mocap_pos[self._mocap]
        local = d.xmat[self._torso].reshape(3, 3).T @ (ball - d.xpos[self._torso])
        bearing = math.degrees(math.atan2(local[1], local[0]))
        distance = math.dist(ball[:2], d.xpos[self._torso][:2])
        cam_pos, cam_rot = d.cam_xpos[self._camera], d.cam_xmat[self._camera].reshape(3, 3)
        x, y, z = cam_rot.T @ (ball - cam_pos)
        if z >= 0:
            return False, bearing, distance, (math.nan, math.nan)
        half = self.config.size / 2
        column, row = half + self._focal * x / -z, half - self._focal * y / -z
        inside = 0 <= column < self.config.size and 0 <= row < self.config.size
        return inside and self._unoccluded(cam_pos, ball), bearing, distance, (column, row)

    def random_ball(self, rng: np.random.Generator) -> np.ndarray:
        """A ball position on the floor: through a random pixel, or anywhere around the robot."""
        c, d = self.config, self.data
        if rng.random() < c.in_view_fraction:
            return self.floor_point_at_pixel(*rng.uniform(0, c.size, 2))
        rot = d.xmat[self._torso]
        azimuth = math.atan2(rot[3], rot[0]) + rng.uniform(-math.pi, math.pi)
        distance = rng.uniform(*c.around_distance)
        x, y, _ = d.xpos[self._torso]
        return np.array([x + distance * math.cos(azimuth), y + distance * math.sin(azimuth), self.ball_radius])

    def _unoccluded(self, cam_pos: np.ndarray, ball: np.ndarray) -> bool:
        hit = np.array([-1], dtype=np.int32)
        mujoco.mj_ray(self.model, self.data, cam_pos, ball - cam_pos, VISIBLE_GROUPS, 1, -1, hit)
        return int(hit[0]) == self._ball_geom

    def render(self) -> np.ndarray:
        self.renderer.update_scene(self.data, camera=self._camera)
        return self.renderer.render()

    def close(self) -> None:
        self.renderer.close()


def render_ball_frames(count: int, seed: int, config: BallFramesConfig = BallFramesConfig(),
                       progress: Callable[[int], None] | None = None) -> BallFrames:
    """`count` labelled frames, the same for the same seed; `progress(done)` is called after each one."""
    rng = np.random.default_rng(seed)
    scene = BallScene(config)
    images = np.empty((count, config.size, config.size, 3), dtype=np.uint8)
    present, bearing = np.zeros(count, dtype=bool), np.zeros(count, dtype=np.float32)
    distance = np.zeros(count, dtype=np.float32)
    pixel = np.zeros((count, 2), dtype=np.float32)
    start = time.perf_counter()
    try:
        for i in range(count):
            s = config.robot_spread
            scene.pose_robot(rng.uniform(-s, s), rng.uniform(-s, s), rng.uniform(-math.pi, math.pi),
                             rng.uniform(*config.headlight))
            scene.place_ball(scene.random_ball(rng))
            present[i], bearing[i], distance[i], pixel[i] = scene.label()
            images[i] = scene.render()
            if progress is not None:
                progress(i + 1)
    finally:
        scene.close()
    return BallFrames(images, present, bearing, distance, pixel, time.perf_counter() - start)
