"""What the intercept's head camera makes of the scene, in-process and as the perception node.

`HeadBallCamera` renders the head camera and places the ball on the floor from the camera's pose.
Over processes a detection travels as a robot's camera would report it, bearing and distance from
the pelvis (the percept's target fields), and the policy node places it again in its odometry frame
(`placed`); the predictor forecasts in that frame, the room's, since the robot starts at its centre.
`InterceptSight` is the scene as the perception node runs it: from the first state 200 the node sees,
the ball rolls in its own model one camera frame's time per frame the node takes, so the predictor's
frames are a frame period apart in the ball's time, as in-process, however late the node's ticks
come (on the robot's clock, a late frame would show the ball farther on than the predictor assumes,
and it would misjudge the speed); a frame the node skips holds the ball still. The path is the seed's.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mujoco
import numpy as np

from bessemer.wire import Percept
from control.fsm import FsmId
from perception.ball_detector import CameraPose, detect_ball
from robots.g1.mjcf import HEAD_CAMERA
from robots.interface import yaw_of
from sim.ball_frames import BallFramesConfig
from sim.rolling_ball import RollingBall
from sim.world import TARGET_BALL

if TYPE_CHECKING:
    from bessemer.tasks.intercept_scene import InterceptScene

Pose = tuple[float, float, float]
"""The pelvis's (x, y, heading) in the odometry frame."""


def pelvis_pose(qpos: np.ndarray) -> Pose:
    """The pelvis's pose from a simulated robot's qpos: in simulation, the robot's odometry."""
    return float(qpos[0]), float(qpos[1]), float(yaw_of(qpos[3:7]))


def relative(pose: Pose, xy: np.ndarray) -> tuple[float, float]:
    """(bearing in degrees from the pelvis's heading, horizontal distance in metres) of a floor point."""
    x, y, yaw = pose
    dx, dy = xy[0] - x, xy[1] - y
    return math.degrees(math.remainder(math.atan2(dy, dx) - yaw, math.tau)), math.hypot(dx, dy)


def placed(pose: Pose, bearing_deg: float, distance_m: float) -> np.ndarray:
    """The floor point at `bearing_deg` and `distance_m` from the pelvis at `pose`."""
    x, y, yaw = pose
    heading = yaw + math.radians(bearing_deg)
    return np.array([x + distance_m * math.cos(heading), y + distance_m * math.sin(heading)])


class HeadBallCamera:
    def __init__(self, model: mujoco.MjModel) -> None:
        self.model = model
        self.camera = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, HEAD_CAMERA)
        size = BallFramesConfig().size
        self.renderer = mujoco.Renderer(model, size, size)
        self.frame: np.ndarray | None = None
        self.seen = False
        """Whether the last frame held a ball, placed or not (one cut by the frame's edge is not)."""

    def look(self, data: mujoco.MjData) -> np.ndarray | None:
        """Render `data` (kinematics current) from the head camera; the ball's floor (x, y), if placed."""
        self.renderer.update_scene(data, camera=self.camera)
        self.frame = self.renderer.render()
        pose = CameraPose(data.cam_xpos[self.camera].copy(), data.cam_xmat[self.camera].reshape(3, 3).copy(),
                          float(self.model.cam_fovy[self.camera]))
        detection = detect_ball(self.frame, pose)
        self.seen = detection is not None
        return None if detection is None else detection.position

    def close(self) -> None:
        self.renderer.close()


class InterceptSight:
    def __init__(self, model: mujoco.MjModel, scene: InterceptScene, rate_hz: float) -> None:
        self.model, self.scene = model, scene
        self.period = 1.0 / rate_hz
        self.ball: RollingBall = scene.throw.ball()
        self.camera = HeadBallCamera(model)
        self._mocap = int(model.body(TARGET_BALL).mocapid[0])
        self.pushed = False
        self.rolled_s = 0.0
        self.frames = 0
        self.detections = 0
        """Frames since the push, and those with the ball placed."""

    @property
    def frame(self) -> np.ndarray | None:
        return self.camera.frame

    def follow(self, fsm_state: int) -> None:
        """Once per frame: push the ball when the FSM has handed the robot to the policy, then roll it a frame on."""
        if self.pushed:
            self.ball.step(self.period)
            self.rolled_s += self.period
        elif fsm_state == FsmId.START:
            self.pushed = True

    def show(self, data: mujoco.MjData) -> None:
        """Draw the ball where it is; the caller updates the kinematics."""
        data.mocap_pos[self._mocap] = self.ball.position

    def update(self, data: mujoco.MjData) -> Percept:
        """The head camera's frame of `data` (posed, the ball shown, kinematics current) as a percept."""
        position = self.camera.look(data)
        if self.pushed:
            self.frames += 1
            self.detections += position is not None
        if position is None:
            return Percept(target_probability=float(self.camera.seen))
        bearing, distance = relative(pelvis_pose(data.qpos), position)
        return Percept(target_probability=1.0, target_bearing_deg=bearing, target_distance_m=distance)

    def report(self, data: mujoco.MjData) -> dict:
        """The scene's truth for the judge: where the ball is, whether it rests, the pelvis's distance to it."""
        t = self.scene.throw
        ball = self.ball.position
        return {"seed": self.scene.seed, "pushed": self.pushed, "seconds_after_push": round(self.rolled_s, 3),
                "push_m_s": round(math.hypot(*t.velocity[:2]), 2),
                "rolling_friction_m": round(t.physics.rolling_friction, 4), "restitution": round(t.physics.restitution, 2),
                "ball_at_rest": bool(self.ball.at_rest), "ball_xy_m": [round(float(v), 3) for v in ball[:2]],
                "pelvis_to_ball_m": round(float(math.dist(data.qpos[:2], ball[:2])), 3),
                "frames": self.frames, "frames_with_ball": self.detections}

    def close(self) -> None:
        self.camera.close()
