"""Walking to where a rolling ball will stop: the controller's decisions on the shipped predictor's
forecasts, the seeded scenes, and the closed loop with the walking policy on scenes no training saw."""

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from bessemer.tasks.intercept import Intercept, InterceptConfig, Phase
from bessemer.tasks.intercept_scene import InterceptScene
from perception.ball_predictor import SHIPPED_WEIGHTS, load_shipped
from perception.ball_tracker import BallTracker
from perception.training.ball import TRAIN_FIRST_SEED
from sim.rolling_ball import BallPhysics, BallThrow
from policies.inference import SHIPPED_WALK_POLICY
from robots.interface import RobotState

SCENES = range(10)
pytestmark = pytest.mark.skipif(not SHIPPED_WEIGHTS.exists(), reason="the shipped ball predictor steers the task")


class StubWalker:
    """Stands in for the walking policy: it takes velocity commands and writes no joint targets."""

    name, rate_hz = "stub-walker", 50.0

    def __init__(self):
        self.command = np.zeros(3)
        self.acted_on = []

    def act(self, state, t, targets):
        self.acted_on.append(self.command.copy())


def intercept() -> tuple[Intercept, StubWalker]:
    walker = StubWalker()
    return Intercept(walker, BallTracker(load_shipped())), walker


def see_resting_ball(controller: Intercept, pose, ball) -> None:
    rng = np.random.default_rng(0)
    for _ in range(controller.tracker.predictor.config.window):
        controller.observe(pose, np.asarray(ball) + rng.normal(0, 0.003, 2))


def test_a_resting_ball_is_forecast_to_stay_where_it_lies():
    controller, _ = intercept()
    see_resting_ball(controller, (0.0, 0.0, 0.0), (1.6, -0.3))
    forecast = controller.tracker.forecast
    assert np.linalg.norm(forecast.rest - (1.6, -0.3)) < 0.1
    assert all(np.linalg.norm(p - (1.6, -0.3)) < 0.1 for p in forecast.ahead.values())


def test_a_ball_rolling_in_the_room_is_forecast_where_the_physics_takes_it_and_closer_than_constant_speed():
    controller, _ = intercept()
    rate = controller.tracker.predictor.config.rate_hz
    ball = BallThrow(0, BallPhysics(sliding_friction=0.6, rolling_friction=0.008, restitution=0.5), (1.0, 0.5),
                     (1.8, 0.4, 0.0)).ball()
    seen = []
    for _ in range(round(1.5 * rate)):
        ball.step(1 / rate)
        seen.append(ball.position[:2])
        controller.observe((0.0, 0.0, 0.0), seen[-1])
    forecast = controller.tracker.forecast
    constant_speed = seen[-1] + (seen[-1] - seen[-2]) * rate
    ball.step(1.0)
    ahead = ball.position[:2]
    assert np.linalg.norm(forecast.ahead[1.0] - ahead) < 0.5 * np.linalg.norm(constant_speed - ahead)
    while not ball.at_rest:
        ball.step(0.1)
    assert np.linalg.norm(forecast.rest - ball.position[:2]) < 0.3


def test_it_turns_toward_a_point_behind_then_walks_once_it_lies_ahead_and_closes_the_last_metre_stepping():
    controller, walker = intercept()
    see_resting_ball(controller, (0.0, 0.0, 0.0), (-2.0, 0.5))
    assert controller.phase == Phase.TURNING and controller.command[0] == 0.0
    assert controller.command[2] == InterceptConfig().max_turn, "the point lies behind and to the left"
    see_resting_ball(controller, (0.0, 0.0, math.radians(160)), (-2.0, 0.5))
    assert controller.phase == Phase.WALKING and controller.command[0] == 0.5
    controller.act(RobotState(29), 0.0, np.zeros((6, 29)))
    assert walker.acted_on[-1].tolist() == controller.command.tolist()
    controller.observe((-1.6, 0.5, math.pi), None)
    assert controller.phase == Phase.CLOSING and controller.command[0] == pytest.approx(0.3)
    assert controller.command[2] == 0.0
    goal = controller.goal
    controller.observe((goal[0] - 0.15, goal[1] - 0.1, math.pi), None)
    assert controller.phase == Phase.ARRIVED and controller.command[0] < 0, "past the point: a step back"
    assert controller.command[1] < 0, "and one to its right (it faces -x, the point lies at +y)"


def test_out_of_view_it_keeps_walking_to_the_last_forecast():
    controller, _ = intercept()
    see_resting_ball(controller, (0.0, 0.0, 0.0), (1.8, 0.0))
    goal = controller.goal.copy()
    for k in range(20):
        controller.observe((0.06 * k, 0.0, 0.0), None)
    assert controller.tracker.frames_unseen == 20 and controller.goal.tolist() == goal.tolist()
    assert controller.phase == Phase.CLOSING


def test_scenes_are_seeded_apart_from_the_training_throws():
    scenes = [InterceptScene.from_seed(seed) for seed in SCENES]
    assert max(SCENES) < TRAIN_FIRST_SEED
    assert InterceptScene.from_seed(3) == scenes[3] != scenes[4]
    speeds = [math.hypot(*s.throw.velocity[:2]) for s in scenes]
    assert min(speeds) >= 0.8 and max(speeds) <= 2.5


@pytest.fixture(scope="session")
def scene_results(tmp_path_factory):
    """A folder every xdist worker of this run shares, for the scenes' summaries."""
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if "PYTEST_XDIST_WORKER" in os.environ else base) / "intercept-scenes"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.mark.acceptance("intercept")
@pytest.mark.timeout(240)
@pytest.mark.skipif(not SHIPPED_WALK_POLICY.exists(), reason="the closed loop walks with the shipped walking policy")
@pytest.mark.parametrize("seed", SCENES)
def test_the_robot_walks_to_where_the_ball_stops_in_at_least_8_of_10_scenes(seed, scene_results, tmp_path):
    """One scene per test, so the scenes run in parallel; a scene whose ball is not reached fails only
    when more than two scenes of this run missed (the summaries written so far are shared)."""
    out = tmp_path / f"scene{seed}.json"
    run = subprocess.run([sys.executable, "-m", "bessemer", "sim", "--task", "intercept", "--scene-seed", str(seed),
                          "--summary-json", str(out)], capture_output=True, text=True, timeout=220)
    assert run.returncode == 0, run.stderr
    os.replace(out, scene_results / out.name)
    result = json.loads((scene_results / out.name).read_text())["intercept"]
    assert not result["fell"] and result["ball_at_rest"], result
    assert ("REACHED" if result["reached"] else "reached") in run.stdout, "the summary table says how it went"
    missed = [r for r in (json.loads(p.read_text())["intercept"] for p in sorted(scene_results.glob("scene*.json")))
              if not r["reached"]]
    assert len(missed) <= 2, missed


def test_a_lone_sighting_after_a_gap_keeps_the_forecast_of_the_last_run_until_a_new_run_begins():
    controller, _ = intercept()
    tracker = controller.tracker
    see_resting_ball(controller, (0.0, 0.0, 0.0), (1.5, 0.0))
    before = tracker.forecast
    for _ in range(3):
        controller.observe((0.0, 0.0, 0.0), None)
    controller.observe((0.0, 0.0, 0.0), np.array([2.0, -0.5]))
    assert tracker.forecast is before, "one glimpse says where the ball is, not where it goes"
    for _ in range(tracker.run_frames - 1):
        controller.observe((0.0, 0.0, 0.0), np.array([2.0, -0.5]))
    assert np.linalg.norm(tracker.forecast.now - (2.0, -0.5)) < 1e-6
