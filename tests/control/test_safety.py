"""Each safety monitor fires on its fault and stays quiet on a healthy state."""

import math

import numpy as np

from control.safety import SafetyMonitors
from robots.interface import RobotState


def healthy():
    s = RobotState(29)
    s.temperature[:] = 40.0
    return s


def test_healthy_state_passes():
    assert SafetyMonitors().check(healthy()) is None


def test_nan_and_inf_anywhere_are_faults():
    for field in ("q", "dq", "tau_est", "quat", "gyro", "accel"):
        for bad in (math.nan, math.inf):
            s = healthy()
            getattr(s, field)[0] = bad
            assert "NaN or Inf" in SafetyMonitors().check(s)


def test_tilt_over_one_radian_is_a_fault():
    s = healthy()
    angle = 1.05
    s.quat[:] = (math.cos(angle / 2), math.sin(angle / 2), 0, 0)
    assert "tilt 1.05" in SafetyMonitors().check(s)
    angle = 0.95
    s.quat[:] = (math.cos(angle / 2), 0, math.sin(angle / 2), 0)
    assert SafetyMonitors().check(s) is None


def test_joint_over_speed_names_the_joint():
    s = healthy()
    s.dq[9] = -10.5
    assert "joint 9 speed 10.5" in SafetyMonitors().check(s)


def test_body_rate_and_temperature():
    s = healthy()
    s.gyro[:] = (0, 0, 6.5)
    assert "angular rate" in SafetyMonitors().check(s)
    s = healthy()
    s.temperature[3] = 125.0
    assert "motor 3 at 125 C" in SafetyMonitors().check(s)
    assert np.isfinite(s.values).all()
