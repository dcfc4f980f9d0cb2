"""`bessemer sim --task intercept`: a ball pushed across the room in front of the G1 rolls, bounces and
stops; the robot walks to where it will stop, steered by its head camera's detections and the ball
predictor's forecast.

The scene is drawn from a seed (where the ball lies, how hard and which way it is pushed, the floor's
sliding and rolling friction and the bounce), so a failing scene can be replayed. The ball rolls in
its own MuJoCo model (`sim.rolling_ball`) stepped in lock-step with the robot's and is shown in the
robot's world as its target ball; it is pushed the moment the walking policy takes over. At the ball
predictor's rate the head camera renders, the detector places the ball on the floor from the camera's pose, and the
`Intercept` controller steers. The run ends once the ball has been at rest and the robot at the
forecast rest point for `SETTLE_S`, or at the time limit; the judge is the pelvis's distance to where
the ball came to rest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bessemer.runtime.session import SimSession
from bessemer.tasks.intercept import Intercept, Phase
from bessemer.tasks.intercept_perception import HeadBallCamera, pelvis_pose
from control.fsm import FsmId
from sim.rolling_ball import BallThrow, RollingBall, RollingBallConfig
from sim.world import TARGET_BALL

BALL_STEP_TICKS = 5
"""Control ticks (2 ms) between advances of the ball's own model (1 ms steps)."""
ROOM_M = RollingBallConfig().room_m
TIME_LIMIT_S = 40.0
"""Seconds from the push within which the robot must stand by the resting ball."""
SETTLE_S = 2.0
REACH_M = 0.5
"""A scene is reached when, the ball at rest, the robot stood (upright) with its pelvis within this of
the ball's centre, horizontally."""


@dataclass(frozen=True)
class InterceptScene:
    seed: int
    throw: BallThrow

    @classmethod
    def from_seed(cls, seed: int) -> InterceptScene:
        """A throw in front of the robot, which starts at the origin facing +x."""
        return cls(seed, BallThrow.from_seed(seed))


class InterceptTask:
    def __init__(self, session: SimSession, controller: Intercept, scene: InterceptScene) -> None:
        robot = session.low.robot
        self.session, self.controller, self.scene = session, controller, scene
        self.model, self.data = robot.model, robot.data
        self.ball: RollingBall = scene.throw.ball()
        self._mocap = int(self.model.body(TARGET_BALL).mocapid[0])
        self._show_ball()
        self.camera = HeadBallCamera(self.model)
        self.pushed_at: float | None = None
        self.arrived_at: float | None = None
        self.rested_at: float | None = None
        self.detections = 0
        self.frames = 0
        tick = session.low.config.loop.period
        session.every(BALL_STEP_TICKS, self._roll)
        session.every(round(1 / (controller.tracker.predictor.config.rate_hz * tick)), self._perceive)

    def _show_ball(self) -> None:
        self.data.mocap_pos[self._mocap] = self.ball.position

    def _roll(self, run: SimSession) -> None:
        if self.pushed_at is None:
            return
        self.ball.step(BALL_STEP_TICKS * run.low.config.loop.period)
        self._show_ball()

    def _perceive(self, run: SimSession) -> None:
        if run.low.fsm.state != FsmId.START:
            return
        if self.pushed_at is None:
            self.pushed_at = run.elapsed
            t = self.scene.throw
            run.event(f"ball pushed at {math.hypot(*t.velocity[:2]):.1f} m/s (rolling friction "
                      f"{t.physics.rolling_friction:.4f} m, restitution {t.physics.restitution:.2f})")
        pose = self.pose()
        seen = self.camera.look(self.data)
        self.frames += 1
        self.detections += seen is not None
        before = self.controller.phase
        self.controller.observe(pose, seen)
        phase = self.controller.phase
        if phase == Phase.ARRIVED and before != Phase.ARRIVED:
            self.arrived_at = run.elapsed
            run.event(f"at the forecast rest point ({self.distance():.2f} m from the ball): treading on the spot")
        elif phase != Phase.ARRIVED:
            self.arrived_at = None
        if self.ball.at_rest and self.rested_at is None:
            self.rested_at = run.elapsed
            run.event(f"the ball came to rest {self.distance():.2f} m from the robot")
        elif not self.ball.at_rest:
            self.rested_at = None
        settled = self.arrived_at is not None and self.rested_at is not None
        if settled and run.elapsed - max(self.arrived_at, self.rested_at) >= SETTLE_S:
            run.low.loop.stop()
        elif run.elapsed - self.pushed_at >= TIME_LIMIT_S:
            run.low.loop.stop()

    def pose(self) -> tuple[float, float, float]:
        """The pelvis's (x, y, heading): the robot's odometry, here the simulator's."""
        return pelvis_pose(self.data.qpos)

    def distance(self) -> float:
        return float(math.dist(self.data.qpos[:2], self.ball.position[:2]))

    def summary(self) -> dict:
        fsm = self.session.low.fsm
        final = self.distance()
        upright = fsm.state == FsmId.START and fsm.faults == 0
        t = self.scene.throw
        goal = self.controller.goal
        return {"seed": self.scene.seed, "push_m_s": round(math.hypot(*t.velocity[:2]), 2),
                "rolling_friction_m": round(t.physics.rolling_friction, 4), "restitution": round(t.physics.restitution, 2),
                "ball_at_rest": bool(self.ball.at_rest), "rest_xy_m": [round(float(v), 3) for v in self.ball.position[:2]],
                "forecast_rest_xy_m": None if goal is None else [round(float(v), 3) for v in goal],
                "final_distance_m": round(final, 3),
                "reached": bool(self.ball.at_rest and final <= REACH_M and upright),
                "fell": not upright, "phase": self.controller.phase.value,
                "seconds_after_push": None if self.pushed_at is None else round(self.session.elapsed - self.pushed_at, 2),
                "frames": self.frames, "frames_with_ball": self.detections}

    def close(self) -> None:
        self.camera.close()
