"""Find the orange ball in a head-camera frame and place it on the floor.

A colour detector: pixels whose red clearly outweighs green and blue (the ball's orange, under any of
the lights the scenes use) are grouped into connected blobs by scipy, and the largest is the ball. Its
centroid's ray from the camera is cut with the plane one ball radius above the floor, where a ball
that rolls has its centre, giving a world position from the camera's pose (on a robot, its kinematics
and odometry). A blob cut by the frame's edge has its centroid pulled inward (a ball leaving the view
at the robot's feet would seem to lie farther on), so such a blob is reported but not placed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage


@dataclass(frozen=True)
class BallDetectorConfig:
    min_pixels: int = 6
    """Smaller blobs are noise or a ball too far or too hidden to place."""
    red_over_green: float = 1.6
    red_over_blue: float = 2.5
    min_red: int = 60
    ball_radius: float = 0.1


@dataclass(frozen=True)
class CameraPose:
    """Where a pinhole camera is and how it looks: MuJoCo's convention, looking along its -z, y up."""

    position: np.ndarray
    """(3,) world position (m)."""
    rotation: np.ndarray
    """(3, 3) camera-to-world rotation; its columns are the camera's x, y, z axes in the world."""
    fovy_deg: float


@dataclass(frozen=True)
class BallDetection:
    pixel: tuple[float, float]
    """(column, row) of the blob's centroid, in continuous image coordinates."""
    pixels: int
    at_edge: bool
    """The blob touches the frame's border: part of the ball is out of view."""
    position: np.ndarray | None
    """(x, y) on the floor, world frame (m); None at the edge or when the centroid's ray does not meet the floor."""


def ball_mask(frame: np.ndarray, config: BallDetectorConfig = BallDetectorConfig()) -> np.ndarray:
    rgb = frame.astype(np.int16)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return (r >= config.min_red) & (r * 10 >= g * round(10 * config.red_over_green)) & (
        r * 10 >= b * round(10 * config.red_over_blue))


def floor_point(pixel: tuple[float, float], size: tuple[int, int], camera: CameraPose, height: float) -> np.ndarray | None:
    """Where the ray through `pixel` of a (width, height) frame meets the plane `height` above the floor."""
    width, rows = size
    focal = 0.5 * rows / math.tan(math.radians(camera.fovy_deg) / 2)
    column, row = pixel
    ray = camera.rotation @ np.array([(column - width / 2) / focal, -(row - rows / 2) / focal, -1.0])
    drop = height - camera.position[2]
    if ray[2] >= 0 or drop >= 0:
        return None
    return (camera.position + ray * drop / ray[2])[:2]


def detect_ball(frame: np.ndarray, camera: CameraPose,
                config: BallDetectorConfig = BallDetectorConfig()) -> BallDetection | None:
    """The ball in one (H, W, 3) uint8 RGB frame, or None when no blob of its colour is large enough."""
    labels, count = ndimage.label(ball_mask(frame, config))
    if count == 0:
        return None
    sizes = np.bincount(labels.ravel())[1:]
    biggest = int(np.argmax(sizes)) + 1
    if sizes[biggest - 1] < config.min_pixels:
        return None
    rows, columns = np.nonzero(labels == biggest)
    pixel = (float(columns.mean()) + 0.5, float(rows.mean()) + 0.5)
    h, w = frame.shape[:2]
    at_edge = bool(rows.min() == 0 or columns.min() == 0 or rows.max() == h - 1 or columns.max() == w - 1)
    position = None if at_edge else floor_point(pixel, (w, h), camera, config.ball_radius)
    return BallDetection(pixel, int(sizes[biggest - 1]), at_edge, position)
