"""The intercept as processes, judged from the running stack's status.

The perception node, which rolls the scene's ball, reports its truth (where the ball is, whether it
rests, the pelvis's distance to it); the policy node reports its controller's phase; the low-level
node says whether the robot still stands in state 200. The run ends as the in-process task's does,
`SETTLE_S` after the ball rests with the robot at the forecast point, or `TIME_LIMIT_S` after the
push. It also ends as soon as nothing more can happen: the robot has left state 200 (it fell, a
fault damped it, or an operator did), even before the ball was pushed (a perception node that starts
after the fault never sees state 200 and never pushes), or the perception node has gone silent for
`SILENT_S` while still running.
"""

from __future__ import annotations

import time

from bessemer.tasks.intercept_scene import REACH_M, SETTLE_S, TIME_LIMIT_S
from control.fsm import FsmId

SILENT_S = 10.0
"""A perception node whose report is this old has stalled: its ball no longer rolls, so the run would
never reach its time limit."""


class InterceptWatch:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.ball: dict | None = None
        """The perception node's last report on the scene."""
        self.controller: dict | None = None
        """The policy node's last report on its controller."""
        self.fsm: dict | None = None
        self.ended_by: str | None = None
        """Why the run ended before the task's own end, if it did."""
        self._settled_at: float | None = None

    def over(self, status: dict) -> bool:
        """Take one status, taken while the robot was handed to the policy; whether the task is over."""
        nodes = status["nodes"]
        perception = nodes.get("perception", {})
        self.ball = perception.get("task", self.ball)
        self.controller = nodes.get("policy", {}).get("task", self.controller)
        self.fsm = status["fsm"]
        if self.fsm["state"] != FsmId.START:
            self.ended_by = f"the robot left state 200 ({self.fsm['last_fault'] or 'requested'})"
            return True
        if perception.get("age_s", 0.0) > SILENT_S:
            self.ended_by = f"the perception node has not reported for {perception['age_s']:.0f} s"
            return True
        if self.ball is None or not self.ball["pushed"]:
            return False
        arrived = self.controller is not None and self.controller["phase"] == "arrived"
        if not (arrived and self.ball["ball_at_rest"]):
            self._settled_at = None
        elif self._settled_at is None:
            self._settled_at = time.monotonic()
        settled = self._settled_at is not None and time.monotonic() - self._settled_at >= SETTLE_S
        return settled or self.ball["seconds_after_push"] >= TIME_LIMIT_S

    def summary(self) -> dict:
        """The judge on the last status taken, keyed as `bessemer sim --task intercept`'s, and why the run
        ended early, if it did."""
        ball, controller, fsm = self.ball or {}, self.controller or {}, self.fsm or {}
        upright = fsm.get("state") == FsmId.START and fsm.get("faults") == 0
        at_rest = bool(ball.get("ball_at_rest", False))
        final = ball.get("pelvis_to_ball_m")
        return {"seed": self.seed, "push_m_s": ball.get("push_m_s"), "rolling_friction_m": ball.get("rolling_friction_m"),
                "restitution": ball.get("restitution"), "ball_at_rest": at_rest, "rest_xy_m": ball.get("ball_xy_m"),
                "forecast_rest_xy_m": controller.get("forecast_rest_xy_m"), "final_distance_m": final,
                "reached": bool(at_rest and final is not None and final <= REACH_M and upright),
                "fell": not upright, "ended_by": self.ended_by, "phase": controller.get("phase"),
                "seconds_after_push": ball.get("seconds_after_push") if ball.get("pushed") else None,
                "frames": ball.get("frames"), "frames_with_ball": ball.get("frames_with_ball")}
