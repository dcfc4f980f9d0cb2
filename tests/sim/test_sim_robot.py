"""The simulated robot: the motor PD law at physics rate, disabled motors, sensors, the band."""

import mujoco
import numpy as np
import pytest

from robots.g1 import joints
from robots.g1.poses import POSES
from robots.interface import JointCommand
from sim.robot import SimRobot
from sim.world import WorldConfig


def random_command(rng, n=29):
    cmd = JointCommand(n)
    lower, upper, effort, _ = joints.limits()
    cmd.q[:] = rng.uniform(lower, upper)
    cmd.dq[:] = rng.uniform(-2, 2, n)
    cmd.tau[:] = rng.uniform(-5, 5, n)
    cmd.kp[:] = rng.uniform(0, 300, n)
    cmd.kd[:] = rng.uniform(0, 8, n)
    cmd.enable[:] = 1.0
    return cmd


def expected_torque(robot, cmd):
    state = robot.read()
    _, _, effort, _ = joints.limits()
    tau = cmd.tau + cmd.kp * (cmd.q - state.q) + cmd.kd * (cmd.dq - state.dq)
    return np.clip(tau, -effort, effort) * cmd.enable


def test_pd_law_is_recomputed_every_physics_step_from_the_held_command():
    robot = SimRobot(WorldConfig(timestep=0.001), control_period=0.004)
    assert robot.substeps == 4
    robot.reset(POSES["stand"], band=True)
    cmd = random_command(np.random.default_rng(0))
    robot.write(cmd)
    for _ in range(4):
        mujoco.mj_forward(robot.model, robot.data)
        np.testing.assert_allclose(robot.data.actuator_force, expected_torque(robot, cmd), rtol=1e-9, atol=1e-9)
        mujoco.mj_step(robot.model, robot.data)
    _, _, effort, _ = joints.limits()
    assert np.any(np.isclose(np.abs(robot.data.actuator_force), effort)), "some torques should hit effort limits"


def test_disabled_motors_produce_no_torque():
    robot = SimRobot()
    robot.reset(POSES["stand"])
    cmd = random_command(np.random.default_rng(1))
    cmd.enable[::2] = 0.0
    robot.write(cmd)
    mujoco.mj_forward(robot.model, robot.data)
    assert np.all(robot.data.actuator_force[::2] == 0.0)
    assert np.all(np.abs(robot.data.actuator_force[1::2]) > 0.0)


def test_state_reads_joints_in_dds_order_and_imu_at_rest():
    robot = SimRobot()
    robot.reset(POSES["squat"])
    np.testing.assert_allclose(robot.read().q, POSES["squat"])
    hold = JointCommand(29)
    hold.q[:] = POSES["stand"]
    hold.kp[:], hold.kd[:], hold.enable[:] = joints.HOLD_KP, joints.HOLD_KD, 1.0
    robot.reset(POSES["stand"])
    robot.write(hold)
    for _ in range(250):
        robot.advance()
    state = robot.read()
    np.testing.assert_allclose(state.q, POSES["stand"], atol=0.05)
    np.testing.assert_allclose(state.quat, (1, 0, 0, 0), atol=0.02)
    assert state.accel[2] == pytest.approx(9.81, abs=0.3)
    assert np.all(np.abs(state.gyro) < 0.1)
    assert state.mode_machine == 5 and state.tick == 500


def test_23dof_reads_zero_and_ignores_commands_on_locked_slots():
    robot = SimRobot(WorldConfig(variant="23dof"))
    robot.reset(POSES["stand"])
    assert robot.read().mode_machine == 4
    cmd = random_command(np.random.default_rng(2))
    robot.write(cmd)
    for _ in range(50):
        robot.advance()
    state = robot.read()
    assert np.all(state.q[[13, 14, 20, 21, 27, 28]] == 0.0)
    assert robot.model.nu == 23


def test_band_holds_the_pelvis_until_released():
    robot = SimRobot()
    robot.reset(POSES["stand"], band=True)
    start = robot.base_height
    robot.write(JointCommand(29))
    for _ in range(500):
        robot.advance()
    held = robot.base_height
    assert start - held < 0.12, "a limp robot on the band must not fall to the floor"
    robot.release_band()
    for _ in range(1000):
        robot.advance()
    assert robot.base_height < held - 0.3


def test_control_period_must_be_a_multiple_of_the_physics_step():
    with pytest.raises(ValueError, match="whole multiple"):
        SimRobot(WorldConfig(timestep=0.002), control_period=0.003)


def test_tick_counts_exact_milliseconds_over_a_long_run():
    robot = SimRobot(WorldConfig(), control_period=0.002)
    ticks = []
    for _ in range(20000):
        robot.advance()
        ticks.append(robot.read().tick)
    assert set(np.diff(ticks)) == {2} and ticks[-1] == 40000
