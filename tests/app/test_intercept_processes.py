"""The intercept as processes (`bessemer run --sim --intercept SEED`): the low-level, perception and
policy nodes over real ZMQ; the perception node rolls the scene's ball from the hand-over and sees it,
the policy node walks the shipped walking policy to where it will stop."""

import json
import subprocess
import sys

import numpy as np
import pytest

from bessemer.cli import main
from bessemer.tasks.intercept import Intercept, InterceptByPercepts
from bessemer.tasks.intercept_perception import placed, relative
from bessemer.tasks.intercept_scene import REACH_M, InterceptScene
from bessemer.wire import Percept
from perception.ball_predictor import SHIPPED_WEIGHTS, load_shipped
from perception.ball_tracker import BallTracker
from policies.inference import SHIPPED_WALK_POLICY
from robots.interface import RobotState

SEED = 23
"""A scene neither the predictor's training (seeds 10,000+) nor the in-process task's tuning (0-19) used."""


class StubWalker:
    """Stands in for the walking policy: it takes velocity commands and writes no joint targets."""

    name, rate_hz = "stub-walker", 50.0

    def __init__(self):
        self.command = np.zeros(3)

    def act(self, state, t, targets):
        pass


def test_a_detection_sent_as_bearing_and_distance_from_the_pelvis_is_placed_back_where_it_lies():
    pose = (0.7, -0.4, 2.5)
    for xy in [(1.9, 0.3), (-1.2, -2.0), (0.7, 1.0), (0.2, -0.4)]:
        bearing, distance = relative(pose, np.array(xy))
        assert -180 < bearing <= 180 and np.allclose(placed(pose, bearing, distance), xy)
    assert relative((0.0, 0.0, np.pi / 2), np.array([0.0, 2.0])) == pytest.approx((0.0, 2.0))


@pytest.mark.skipif(not SHIPPED_WEIGHTS.exists(), reason="the shipped ball predictor forecasts")
def test_over_percepts_the_controller_sees_the_ball_in_the_odometry_frame_once_its_policy_drives():
    policy = InterceptByPercepts(Intercept(StubWalker(), BallTracker(load_shipped())))
    tracker, pose, ball = policy.controller.tracker, (1.0, 0.5, -0.6), np.array([2.2, -0.3])
    bearing, distance = relative(pose, ball)
    seen = Percept(target_probability=1.0, target_bearing_deg=bearing, target_distance_m=distance)
    policy.locate(pose)
    policy.act(RobotState(29), 0.0, np.zeros((6, 29)))
    policy.perceive(seen)
    assert np.isnan(tracker.window).all(), "before the hand-over the ball has not been pushed"
    policy.act(RobotState(29), 0.02, np.zeros((6, 29)))
    policy.perceive(seen)
    policy.perceive(Percept(target_probability=1.0))
    assert np.allclose(tracker.window[-2], ball) and np.isnan(tracker.window[-1]).all(), (
        "a seen ball is placed in the odometry frame; a ball cut by the frame's edge is a frame without one")
    report = policy.report()
    assert report["phase"] == policy.controller.phase.value != "watching" and report["forecast_rest_xy_m"] == [
        round(float(v), 3) for v in policy.controller.goal], "the heartbeat carries the controller's phase and goal"


@pytest.mark.acceptance("intercept-processes")
@pytest.mark.timeout(240)
@pytest.mark.xdist_group("stack-processes")
@pytest.mark.skipif(not (SHIPPED_WALK_POLICY.exists() and SHIPPED_WEIGHTS.exists()),
                    reason="the shipped walking policy and ball predictor run the task")
def test_over_processes_the_robot_walks_to_where_the_seeds_ball_stops_and_stands_there(tmp_path, base_port):
    out = tmp_path / "summary.json"
    run = subprocess.run([sys.executable, "-m", "bessemer", "run", "--sim", "--intercept", str(SEED),
                          "--base-port", str(base_port), "--summary-json", str(out)],
                         capture_output=True, text=True, timeout=220)
    assert run.returncode == 0, run.stderr[-3000:]
    judge = json.loads(out.read_text())["intercept"]
    assert judge["ball_at_rest"] and not judge["fell"], judge
    assert judge["reached"] and judge["final_distance_m"] <= REACH_M, judge
    assert judge["frames_with_ball"] > 0 and judge["phase"] == "arrived", judge
    alone = InterceptScene.from_seed(SEED).throw.ball()
    alone.step(judge["seconds_after_push"])
    assert np.allclose(judge["rest_xy_m"], alone.position[:2], atol=2e-3), (
        "the perception node rolled the seed's ball on the robot's clock: the same path as the ball rolled alone")
    assert "intercept REACHED" in run.stderr, "the run says how it went"


@pytest.mark.parametrize("argv, said", [
    (["run", "--iface", "lo", "--intercept", "3"], "--intercept is a simulated scene: it needs --sim"),
    (["run", "--sim", "--no-perception", "--intercept", "3"], "--intercept is a simulated scene"),
    (["run", "--sim", "--intercept", "3", "--follow-sound", "3"], "two scenes: give one"),
])
def test_the_intercept_without_the_simulation_or_beside_another_scene_is_refused_in_one_line(argv, said, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and said in err[0], err
