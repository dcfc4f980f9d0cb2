"""Walk to where a rolling ball will stop: a go-to-point controller on the ball predictor's rest point.

The head camera sees the floor from about 0.5 to 2.4 m ahead, so a rolling ball soon leaves the view;
what the robot walks to is therefore the predictor's forecast of where the ball will come to rest,
renewed at every frame that holds a detection and kept while the ball is out of view. Walking toward
that point turns the camera toward where the ball is going, so the robot sees it again on the way
(or at rest) and the forecast sharpens. The controller turns in place toward the point until it lies
within 25 deg and walks steering on it (a PI term takes out the walking policy's veer). Within
`hold_within_m` it stops turning and closes the rest with forward and sideways steps proportional to
where the point lies, and keeps doing so once there: the walking policy, told to stand, drifts on at
up to 0.2 m/s for seconds, so holding a point needs steps back as well. The robot's own pose comes
from odometry (in simulation, the simulator's).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import numpy as np

from bessemer.tasks.intercept_perception import Pose, placed
from bessemer.wire import Percept
from perception.ball_tracker import BallTracker
from policies.inference import LearnedPolicy
from robots.interface import RobotState


@dataclass(frozen=True)
class InterceptConfig:
    turn_gain: float = 1.2
    """Yaw rate (rad/s) per radian of bearing error."""
    turn_integral_gain: float = 0.4
    max_turn: float = 0.6
    """Yaw-rate limit (rad/s), inside the range the walking policy was trained on."""
    walk_speed: float = 0.5
    walk_within_deg: float = 25.0
    hold_within_m: float = 0.8
    hold_gain: float = 1.0
    """Commanded speed (m/s) per metre from the point, forward and sideways, within `hold_within_m`."""
    hold_speed: tuple[float, float] = (0.3, 0.2)
    """Forward and sideways speed limits (m/s) while holding, inside the walking policy's trained range."""
    arrive_m: float = 0.25
    """Pelvis to the forecast rest point within which the robot counts as there."""


class Phase(Enum):
    WATCHING = "watching"
    TURNING = "turning"
    WALKING = "walking"
    CLOSING = "closing"
    ARRIVED = "arrived"


class Intercept:
    """A `Policy` that drives the walking policy toward the ball's forecast rest point."""

    def __init__(self, walker: LearnedPolicy, tracker: BallTracker, config: InterceptConfig = InterceptConfig()) -> None:
        self.walker, self.tracker, self.config = walker, tracker, config
        self.name = f"intercept({walker.name})"
        self.rate_hz = walker.rate_hz
        self.phase = Phase.WATCHING
        self.command = np.zeros(3)
        self.goal: np.ndarray | None = None
        self._integral = 0.0
        self._period = 1.0 / tracker.predictor.config.rate_hz

    def observe(self, pose: tuple[float, float, float], detection: np.ndarray | None) -> None:
        """One camera frame: the robot's (x, y, heading) and the ball's floor position, if detected."""
        c = self.config
        forecast = self.tracker.observe(detection)
        if forecast is None:
            return
        self.goal = forecast.rest
        x, y, yaw = pose
        dx, dy = self.goal[0] - x, self.goal[1] - y
        distance = math.hypot(dx, dy)
        if distance <= c.hold_within_m:
            ahead = dx * math.cos(yaw) + dy * math.sin(yaw)
            left = -dx * math.sin(yaw) + dy * math.cos(yaw)
            forward, sideways = c.hold_speed
            self.command = np.array([np.clip(c.hold_gain * ahead, -forward, forward),
                                     np.clip(c.hold_gain * left, -sideways, sideways), 0.0])
            self.phase, self._integral = (Phase.ARRIVED if distance <= c.arrive_m else Phase.CLOSING), 0.0
            return
        error = math.remainder(math.atan2(dy, dx) - yaw, math.tau)
        if abs(error) <= math.radians(c.walk_within_deg):
            limit = c.max_turn / c.turn_integral_gain
            self._integral = float(np.clip(self._integral + error * self._period, -limit, limit))
            self.phase, self.command = Phase.WALKING, np.array([c.walk_speed, 0.0, self._turn(error, self._integral)])
        else:
            self._integral = 0.0
            self.phase, self.command = Phase.TURNING, np.array([0.0, 0.0, self._turn(error, 0.0)])

    def _turn(self, error: float, integral: float) -> float:
        c = self.config
        return float(np.clip(c.turn_gain * error + c.turn_integral_gain * integral, -c.max_turn, c.max_turn))

    def act(self, state: RobotState, t: float, targets: np.ndarray) -> None:
        self.walker.command = self.command
        self.walker.act(state, t, targets)


class InterceptByPercepts:
    """The `Intercept` as the policy node runs it, a `PerceivingPolicy`: each percept's detection (bearing
    and distance from the pelvis) is placed in the odometry frame with the pose `locate` gave last; a
    percept without one is a frame without the ball. Percepts from before the policy has the robot are
    not observed: the ball is pushed as it takes over, and the predictor learned throws from the push on."""

    def __init__(self, controller: Intercept) -> None:
        self.controller = controller
        self.name, self.rate_hz = controller.name, controller.rate_hz
        self.pose: Pose | None = None
        self._driving = False

    def locate(self, pose: Pose) -> None:
        self.pose = pose

    def perceive(self, percept: Percept) -> None:
        if not self._driving or self.pose is None:
            return
        seen = math.isfinite(percept.target_distance_m) and math.isfinite(percept.target_bearing_deg)
        detection = placed(self.pose, percept.target_bearing_deg, percept.target_distance_m) if seen else None
        self.controller.observe(self.pose, detection)

    def act(self, state: RobotState, t: float, targets: np.ndarray) -> None:
        self._driving = t > 0.0
        self.controller.act(state, t, targets)

    def report(self) -> dict:
        """The controller's phase and goal, for the stack's status."""
        goal = self.controller.goal
        return {"phase": self.controller.phase.value,
                "forecast_rest_xy_m": None if goal is None else [round(float(v), 3) for v in goal]}
