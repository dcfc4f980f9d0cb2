"""`bessemer sim --task follow-sound`: a sounding ball somewhere in the room; the G1 hears it, turns,
walks to it and stops, steered only by what its head camera and microphones perceive.

The scene is drawn from a seed (where the ball lies, what it plays), so a failing scene can be
replayed. The task rides on a `SimSession` running stand-up then state 200 with the walking policy
under the `FollowSound` heading controller, perceiving at 10 Hz. Like a navigation episode, it ends on
arrival: the robot treads on the spot for `SETTLE_S` more seconds, then the run stops and the judge
is the pelvis's distance to the ball; a robot that has not arrived is judged when the time is up.
(Handing the robot from the walking policy back to the FSM's stand pose mid-stride tips it over, so
the task does not.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bessemer.tasks.follow_sound import FollowSound, Phase
from bessemer.runtime.session import SimSession
from bessemer.wire import Percept
from bessemer.tasks.sim_perception import SimPerception, SoundScene
from control.fsm import FsmId
from perception.acoustic_scene import SOURCE_KINDS, Room
from sim.world import TARGET_BALL

PERCEPTION_HZ = 10.0
ROOM = Room((8.0, 7.0, 3.0), rt60_s=0.3)
"""A large living room: balls 2-3 m away fit at every bearing, clear of the walls."""
TIME_LIMIT_S = 30.0
"""Seconds from the hand-over to the policy within which the robot must have stopped by the ball."""
SETTLE_S = 2.0
REACH_M = 0.5
"""A scene is reached when the robot stopped (within the 30 s) with its pelvis within this of the ball's
centre, horizontally, and upright."""


@dataclass(frozen=True)
class FollowSoundScene:
    seed: int
    ball_xy: tuple[float, float]
    kind: str
    room: Room = ROOM

    @classmethod
    def from_seed(cls, seed: int, room: Room = ROOM, distance_m: tuple[float, float] = (2.0, 3.0),
                  wall_margin_m: float = 0.8) -> FollowSoundScene:
        """A ball 2-3 m from the robot (which starts at the origin facing +x) at any bearing, behind it
        too, and clear of the walls so that the robot need not walk into one."""
        rng = np.random.default_rng(seed)
        half = np.array(room.size_m[:2]) / 2 - wall_margin_m
        while True:
            bearing, distance = rng.uniform(-math.pi, math.pi), rng.uniform(*distance_m)
            xy = distance * np.array([math.cos(bearing), math.sin(bearing)])
            if np.all(np.abs(xy) <= half):
                return cls(seed, (float(xy[0]), float(xy[1])), str(rng.choice(SOURCE_KINDS)), room)


    def sound(self, height: float = 0.1) -> SoundScene:
        """The ball's sound as the head hears it: the ball (of radius `height`) plays `kind` in the room."""
        return SoundScene((*self.ball_xy, height), self.kind, self.room, seed=self.seed)


class FollowSoundTask:
    def __init__(self, session: SimSession, controller: FollowSound, scene: FollowSoundScene) -> None:
        robot = session.low.robot
        self.session, self.controller, self.scene = session, controller, scene
        self.model, self.data = robot.model, robot.data
        ball = self.model.body(TARGET_BALL)
        height = float(self.model.geom(TARGET_BALL).size[0])
        self.data.mocap_pos[ball.mocapid[0]] = (*scene.ball_xy, height)
        self.perception = SimPerception(self.model, scene.sound(height))
        self.period = 1.0 / PERCEPTION_HZ
        self.started_at: float | None = None
        self.arrived_at: float | None = None
        self.percepts = 0
        self.last_percept: Percept | None = None
        """The latest percept, for a recorder (`percepts` counts them)."""
        session.every(round(self.period / session.low.config.loop.period), self._perceive)

    def _perceive(self, run: SimSession) -> None:
        percept = self.last_percept = self.perception.update(self.data, self.period)
        self.percepts += 1
        if self.arrived_at is not None and run.elapsed - self.arrived_at >= SETTLE_S:
            run.low.loop.stop()
        if run.low.fsm.state != FsmId.START or self.arrived_at is not None:
            return
        if self.started_at is None:
            self.started_at = run.elapsed
            run.event(f"following the sound ({self.scene.kind}) of a ball at {self.distance():.2f} m")
        self.controller.perceive(percept)
        if self.controller.phase == Phase.ARRIVED and self.arrived_at is None:
            self.arrived_at = run.elapsed
            run.event(f"arrived ({self.distance():.2f} m from the ball): treading on the spot, then done")

    def distance(self) -> float:
        return float(math.dist(self.data.qpos[:2], self.scene.ball_xy))

    def summary(self) -> dict:
        fsm = self.session.low.fsm
        final = self.distance()
        upright = fsm.state == FsmId.START and fsm.faults == 0
        stopped_after = None if self.arrived_at is None else self.arrived_at - self.started_at
        in_time = stopped_after is not None and stopped_after <= TIME_LIMIT_S
        return {"seed": self.scene.seed, "sound": self.scene.kind,
                "ball_xy_m": [round(v, 3) for v in self.scene.ball_xy], "final_distance_m": round(final, 3),
                "reached": bool(in_time and final <= REACH_M and upright), "fell": not upright,
                "stopped_after_s": None if stopped_after is None else round(stopped_after, 2),
                "phase": self.controller.phase.value, "percepts": self.percepts}

    def close(self) -> None:
        self.perception.close()
