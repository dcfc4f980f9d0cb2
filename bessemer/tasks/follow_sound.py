"""Walk to a sound: a heading controller that turns the walking policy's velocity command toward what
perception reports.

Hearing says where the source is from any direction but not how far; the head camera, pitched down
at the floor ahead, sees the target only between about 0.5 and 2.5 m but then says both where and
how far. So the controller turns in place toward the sound until it lies ahead, walks while steering
on it, steers on the camera once the target is in view, and, when the camera puts the target straight
ahead and close, walks the last stretch blind (the target is about to leave the view at the robot's
feet) for as long as that stretch takes at the speed the camera saw the target approach, then stops
for good. Timing the stretch by the seen approach, not the commanded speed, holds whatever way the
walking policy actually makes.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from enum import Enum

import numpy as np

from bessemer.wire import Percept
from policies.inference import LearnedPolicy
from robots.interface import RobotState


@dataclass(frozen=True)
class FollowSoundConfig:
    turn_gain: float = 1.2
    """Yaw rate (rad/s) per radian of bearing error."""
    turn_integral_gain: float = 0.6
    """Yaw rate (rad/s) per radian-second of bearing error while walking: a walking policy veers a little
    to one side, which a proportional term alone leaves as a standing bearing error."""
    max_turn: float = 0.6
    """Yaw-rate limit (rad/s), inside the range the walking policy was trained on."""
    walk_speed: float = 0.5
    walk_within_deg: float = 25.0
    """Walk forward only while the target lies within this of straight ahead; turn in place otherwise."""
    seen_probability: float = 0.6
    """The camera's target probability above which its bearing and distance are trusted."""
    creep_from_m: float = 0.75
    """Camera distance below which, with the target within `creep_within_deg` of ahead, the robot creeps,
    still steering on the camera while it sees the target."""
    creep_within_deg: float = 25.0
    stop_at_m: float = 0.3
    """Where the last stretch ends (from the torso), the ball then at the robot's toes."""
    approach_window_s: float = 1.5
    """Sightings over which the approach speed is measured."""


class Phase(Enum):
    LISTENING = "listening"
    TURNING = "turning"
    WALKING = "walking"
    CREEPING = "creeping"
    ARRIVED = "arrived"


class FollowSound:
    """A `Policy` (and `PerceivingPolicy`) that drives the walking policy with a heading controller."""

    def __init__(self, walker: LearnedPolicy, config: FollowSoundConfig = FollowSoundConfig()) -> None:
        self.walker, self.config = walker, config
        self.name = f"follow-sound({walker.name})"
        self.rate_hz = walker.rate_hz
        self.phase = Phase.LISTENING
        self.command = np.zeros(3)
        self._t = 0.0
        self._perceived_at: float | None = None
        self._integral = 0.0
        self._creep_until = 0.0
        self._sightings: deque[tuple[float, float]] = deque()

    def perceive(self, percept: Percept) -> None:
        c = self.config
        dt = 0.0 if self._perceived_at is None else self._t - self._perceived_at
        self._perceived_at = self._t
        if self.phase == Phase.ARRIVED:
            return
        seen = percept.target_probability >= c.seen_probability
        if seen and self.phase != Phase.CREEPING:
            self._sightings.append((self._t, percept.target_distance_m))
            while self._t - self._sightings[0][0] > c.approach_window_s:
                self._sightings.popleft()
        if self.phase == Phase.CREEPING:
            self.command[2] = self._turn(math.radians(percept.target_bearing_deg), 0.0) if seen else 0.0
            return
        if (seen and percept.target_distance_m <= c.creep_from_m
                and abs(percept.target_bearing_deg) <= c.creep_within_deg):
            self.phase = Phase.CREEPING
            self.command = np.array([c.walk_speed, 0.0, self._turn(math.radians(percept.target_bearing_deg), 0.0)])
            self._creep_until = self._t + max(0.0, percept.target_distance_m - c.stop_at_m) / self.approach_speed()
            return
        bearing = percept.target_bearing_deg if seen else percept.sound_bearing_deg
        if math.isnan(bearing):
            self.phase, self.command, self._integral = Phase.LISTENING, np.zeros(3), 0.0
            return
        error = math.radians(bearing)
        if abs(bearing) <= c.walk_within_deg:
            self._integral = float(np.clip(self._integral + error * dt, -c.max_turn / c.turn_integral_gain,
                                           c.max_turn / c.turn_integral_gain))
            self.phase, self.command = Phase.WALKING, np.array([c.walk_speed, 0.0, self._turn(error, self._integral)])
        else:
            self._integral = 0.0
            self.phase, self.command = Phase.TURNING, np.array([0.0, 0.0, self._turn(error, 0.0)])

    def approach_speed(self) -> float:
        """How fast the camera saw the target come closer over the last window (m/s); the commanded speed
        until it has seen enough, and never below a tenth of it."""
        c = self.config
        (t0, d0), (t1, d1) = self._sightings[0], self._sightings[-1]
        if t1 - t0 < c.approach_window_s / 2:
            return c.walk_speed
        return float(np.clip((d0 - d1) / (t1 - t0), 0.1 * c.walk_speed, 1.5 * c.walk_speed))

    def _turn(self, error: float, integral: float) -> float:
        c = self.config
        return float(np.clip(c.turn_gain * error + c.turn_integral_gain * integral, -c.max_turn, c.max_turn))

    def act(self, state: RobotState, t: float, targets: np.ndarray) -> None:
        self._t = t
        if self.phase == Phase.CREEPING and t >= self._creep_until:
            self.phase, self.command = Phase.ARRIVED, np.zeros(3)
        self.walker.command = self.command
        self.walker.act(state, t, targets)
