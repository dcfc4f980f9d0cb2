"""The rolling ball's physics, its detection in the head camera, and the constant-velocity baseline."""

import math

import mujoco
import numpy as np
import pytest

from perception.ball_detector import CameraPose, detect_ball
from perception.ball_kalman import ConstantVelocityKalman, KalmanConfig
from robots.g1.mjcf import HEAD_CAMERA
from sim.ball_frames import BallScene
from sim.rolling_ball import BallPhysics, BallThrow, RollingBall, RollingBallConfig


def roll(ball: RollingBall, seconds: float, dt: float = 0.05) -> list[np.ndarray]:
    path = []
    for _ in range(round(seconds / dt)):
        ball.step(dt)
        path.append(ball.position)
    return path


def test_a_pushed_ball_slides_then_rolls_slower_and_stops_sooner_on_a_rougher_floor():
    ball = RollingBall(BallPhysics(rolling_friction=1e-5))
    ball.push((-3.0, 0.0), (1.5, 0.0, 0.0))
    roll(ball, 0.3)
    assert ball.velocity[0] == pytest.approx(0.6 * 1.5, abs=0.01), "a shell rolls on at 3/5 of a spinless push"
    stops = []
    for rolling in (0.004, 0.012):
        ball = RollingBall(BallPhysics(rolling_friction=rolling))
        ball.push((-3.0, 0.0), (1.5, 0.0, 0.0))
        path = roll(ball, 10.0)
        assert ball.at_rest
        stops.append(path[-1][0] + 3.0)
    assert 0 < stops[1] < stops[0] / 2


@pytest.mark.parametrize("restitution", [0.3, 0.5, 0.75])
@pytest.mark.parametrize("drop_m", [0.1, 1.0])
def test_a_dropped_ball_bounces_back_about_its_restitution_of_its_speed_and_never_gains_energy(restitution, drop_m):
    ball = RollingBall(BallPhysics(restitution=restitution))
    ball.push((0.0, 0.0), (0.0, 0.0, 0.0))
    ball.data.qpos[2] = 0.1 + drop_m
    heights = np.array([p[2] for p in roll(ball, 1.5, dt=0.002)])
    landed = int(np.argmax(heights < 0.1005))
    given_back = math.sqrt((heights[landed:landed + 400].max() - 0.1) / drop_m)
    assert restitution - 0.02 < given_back < restitution + 0.12


def test_the_walls_keep_the_ball_in_the_room_and_a_sliding_ball_bounces_back_off_them():
    config = RollingBallConfig()
    ball = RollingBall(BallPhysics(restitution=0.7), config)
    ball.push((3.4, 3.0), (3.0, 1.0, 0.0))
    path = np.array(roll(ball, 3.0))
    half = np.array(config.room_m) / 2 - config.radius + 0.01
    assert np.all(np.abs(path[:, :2]) <= half)
    assert path[:, 0].max() > 3.85 and path[-1][0] < 3.3, "back off the east wall"
    assert path[:, 1].max() > 3.35 and path[-1][1] < 3.3, "and the north one"


def test_throws_are_seeded_in_front_of_the_watcher_and_never_at_it():
    throws = [BallThrow.from_seed(seed, (1.0, -1.0), math.pi / 2) for seed in range(30)]
    assert BallThrow.from_seed(4, (1.0, -1.0), math.pi / 2) == throws[4] != throws[5]
    for throw in throws:
        dx, dy = throw.start[0] - 1.0, throw.start[1] + 1.0
        assert 1.2 <= math.hypot(dx, dy) <= 2.0 and abs(math.degrees(math.atan2(dy, dx)) - 90) <= 15
        heading = math.degrees(math.atan2(throw.velocity[1], throw.velocity[0]))
        assert abs(math.remainder(heading - 90, 360)) <= 135
    assert len({t.physics for t in throws}) == 30


@pytest.fixture(scope="module")
def scene():
    scene = BallScene()
    yield scene
    scene.close()


def camera_pose(scene: BallScene) -> CameraPose:
    cam = mujoco.mj_name2id(scene.model, mujoco.mjtObj.mjOBJ_CAMERA, HEAD_CAMERA)
    return CameraPose(scene.data.cam_xpos[cam].copy(), scene.data.cam_xmat[cam].reshape(3, 3).copy(),
                      float(scene.model.cam_fovy[cam]))


@pytest.mark.parametrize("pose,ball", [((0.0, 0.0, 0.0), (1.5, 0.2)), ((1.0, -2.0, 2.0), (0.3, -0.6)),
                                       ((-1.0, 1.0, -1.0), (-0.2, -0.4))])
def test_the_detector_places_a_ball_in_view_on_the_floor_within_a_few_centimetres(scene, pose, ball):
    scene.pose_robot(*pose)
    scene.place_ball(np.array([*ball, 0.1]))
    present, *_ = scene.label()
    assert present
    detection = detect_ball(scene.render(), camera_pose(scene))
    assert detection is not None and not detection.at_edge
    assert np.linalg.norm(detection.position - ball) < 0.05


def test_no_ball_in_view_no_detection_and_a_ball_cut_by_the_edge_is_not_placed(scene):
    scene.pose_robot(0.0, 0.0, 0.0)
    scene.place_ball(np.array([-1.5, 0.0, 0.1]))
    assert detect_ball(scene.render(), camera_pose(scene)) is None
    column, row = None, None
    for distance in np.arange(0.8, 0.3, -0.02):
        scene.place_ball(np.array([distance, 0.0, 0.1]))
        detection = detect_ball(scene.render(), camera_pose(scene))
        if detection is not None and detection.at_edge:
            column, row = detection.pixel
            break
    assert row is not None and row > 180, "a ball at the feet leaves the view at the bottom edge"
    assert detection.position is None


def test_the_kalman_baseline_forecasts_a_ball_at_constant_velocity_from_noisy_detections():
    rng = np.random.default_rng(0)
    kalman = ConstantVelocityKalman(KalmanConfig(accel_noise=0.01, measurement_noise=0.02))
    with pytest.raises(ValueError, match="no detection"):
        kalman.forecast(1.0)
    velocity = np.array([0.8, -0.3])
    for k in range(30):
        t = 0.1 * k
        seen = None if k % 4 == 3 else np.array([0.5, 1.0]) + velocity * t + rng.normal(0, 0.02, 2)
        kalman.update(t, seen)
    truth = np.array([0.5, 1.0]) + velocity * (2.9 + 1.0)
    assert np.linalg.norm(kalman.forecast(1.0) - truth) < 0.06
