"""Head-camera tracks of a rolling ball: what the G1's camera detected, tick by tick, beside the truth.

The watcher is the G1 posed kinematically (its default stand, no physics step, as in `ball_frames`),
moved as the intercepting robot moves: it turns toward where it last saw the ball at up to the walking
policy's turn rate, and walks toward it at walking speed while it lies ahead, up to the robot's toes,
so the ball also leaves the view at the feet as it does in the task. Each tick renders the head camera and runs the
detector, so a predictor learns from the detector's floor positions, with their noise and gaps,
never from the truth. A frame whose ball projects far outside the image is not rendered: nothing
could be detected in it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import mujoco
import numpy as np

from perception.ball_detector import CameraPose, detect_ball
from robots.g1.mjcf import HEAD_CAMERA
from sim.ball_frames import BallFramesConfig, BallScene
from sim.rolling_ball import BallThrow, RollingBallConfig
from sim.world import WorldConfig


@dataclass(frozen=True)
class TrackConfig:
    rate_hz: float = 20.0
    """Camera frames per second: the ball predictor's."""
    max_seconds: float = 15.0
    after_rest_s: float = 1.0
    """Seconds a track goes on once the ball is at rest."""
    watcher_spread_m: float = 1.5
    """The watcher starts anywhere within +-this of the room's centre, at any heading."""
    turn_gain: float = 1.5
    max_turn: float = 0.6
    """rad/s: the walking policy's trained turn rate."""
    walk_speed: float = 0.5
    walk_beyond_m: float = 0.4
    walk_within_deg: float = 25.0


@dataclass(frozen=True)
class BallTrack:
    seed: int
    times: np.ndarray
    """(T,) seconds since the push, one per camera frame."""
    truth: np.ndarray
    """(T, 3) the ball's centre."""
    detected: np.ndarray
    """(T, 2) the detector's floor position, NaN in frames without a detection."""
    watcher: np.ndarray
    """(T, 3) the watcher's x, y and heading."""
    rest: np.ndarray
    """(2,) where the ball came to rest."""
    stopped: bool
    """Whether it did within the track's time; if not, `rest` is merely where it was last."""


def _camera_pose(scene: BallScene, camera: int) -> CameraPose:
    return CameraPose(scene.data.cam_xpos[camera].copy(), scene.data.cam_xmat[camera].reshape(3, 3).copy(),
                      float(scene.model.cam_fovy[camera]))


def _could_show(pose: CameraPose, ball: np.ndarray, size: int) -> bool:
    """Whether the ball's centre projects within half a frame of the image (else no pixel of it can)."""
    x, y, z = pose.rotation.T @ (ball - pose.position)
    if z >= 0:
        return False
    focal = 0.5 * size / math.tan(math.radians(pose.fovy_deg) / 2)
    return max(abs(focal * x / -z), abs(focal * y / -z)) < size


def record_track(seed: int, scene: BallScene, config: TrackConfig = TrackConfig(),
                 watcher: tuple[float, float, float] | None = None) -> BallTrack:
    """The throw of `seed` watched from `watcher` (x, y, heading), or from a start the seed draws."""
    if watcher is None:
        rng = np.random.default_rng([seed, 1])
        s = config.watcher_spread_m
        watcher = (rng.uniform(-s, s), rng.uniform(-s, s), rng.uniform(-math.pi, math.pi))
    x, y, yaw = watcher
    throw = BallThrow.from_seed(seed, (x, y), yaw)
    ball = throw.ball()
    camera = mujoco.mj_name2id(scene.model, mujoco.mjtObj.mjOBJ_CAMERA, HEAD_CAMERA)
    dt = 1.0 / config.rate_hz
    times, truth, detected, poses = [], [], [], []
    last_seen: np.ndarray | None = None
    rest_since: float | None = None
    while ball.time <= config.max_seconds:
        scene.pose_robot(x, y, yaw)
        position = ball.position
        scene.place_ball(position)
        pose = _camera_pose(scene, camera)
        detection = detect_ball(scene.render(), pose) if _could_show(pose, position, scene.config.size) else None
        seen = None if detection is None else detection.position
        times.append(ball.time), truth.append(position), poses.append((x, y, yaw))
        detected.append(seen if seen is not None else (math.nan, math.nan))
        if seen is not None:
            last_seen = seen
        if ball.at_rest:
            rest_since = ball.time if rest_since is None else rest_since
            if ball.time - rest_since >= config.after_rest_s:
                break
        else:
            rest_since = None
        if last_seen is not None:
            dx, dy = last_seen[0] - x, last_seen[1] - y
            error = math.remainder(math.atan2(dy, dx) - yaw, math.tau)
            turn = float(np.clip(config.turn_gain * error, -config.max_turn, config.max_turn))
            walk = (config.walk_speed if math.hypot(dx, dy) > config.walk_beyond_m
                    and abs(error) < math.radians(config.walk_within_deg) else 0.0)
            x, y = x + walk * dt * math.cos(yaw), y + walk * dt * math.sin(yaw)
            yaw = math.remainder(yaw + turn * dt, math.tau)
        ball.step(dt)
    return BallTrack(seed, np.array(times), np.array(truth), np.array(detected), np.array(poses),
                     np.array(truth[-1][:2]), rest_since is not None)


def record_tracks(seeds: Sequence[int], config: TrackConfig = TrackConfig(),
                  progress: Callable[[int], None] | None = None) -> list[BallTrack]:
    """One track per seed, the same for the same seeds; `progress(done)` after each."""
    scene = BallScene(BallFramesConfig(), WorldConfig(target_ball=True, walls=RollingBallConfig().room_m))
    tracks = []
    try:
        for seed in seeds:
            tracks.append(record_track(seed, scene, config))
            if progress is not None:
                progress(len(tracks))
    finally:
        scene.close()
    return tracks
