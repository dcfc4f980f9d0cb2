"""Each safety monitor fires on its fault and stays quiet on a healthy state."""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from control.external_targets import ExternalTargets
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


values = st.one_of(st.floats(-200, 200), st.sampled_from([math.nan, math.inf, -math.inf]))


@settings(max_examples=300, deadline=None)
@given(dq=st.lists(values, min_size=29, max_size=29), temp=st.lists(st.floats(0, 200), min_size=29, max_size=29),
       imu=st.lists(st.floats(-1.0, 1.0), min_size=7, max_size=7), scale=st.floats(0.0, 12.0))
def test_fast_envelope_never_hides_a_fault(dq, temp, imu, scale):
    s = healthy()
    s.dq[:] = np.array(dq) * 0.1
    s.temperature[:] = temp
    quat = np.array(imu[:4]) + (1e-3, 0, 0, 0)
    s.quat[:] = quat / np.linalg.norm(quat)
    s.gyro[:] = np.array(imu[4:]) * scale
    monitors = SafetyMonitors()
    exact = next((f for m in monitors.monitors if (f := m.check(s)) is not None), None)
    assert monitors.check(s) == exact


def test_stale_policy_targets_are_a_fault_only_while_the_policy_drives():
    now = [0.0]
    targets = ExternalTargets(29, clock=lambda: now[0])
    monitors = SafetyMonitors(targets=targets)
    state = healthy()
    assert "policy targets stale" in monitors.check(state, policy_driving=True)
    targets.offer(1, deadline=0.05, values=np.zeros((6, 29)))
    assert monitors.check(state, policy_driving=True) is None
    now[0] = 0.05
    assert "policy targets stale" in monitors.check(state, policy_driving=True)
    assert monitors.check(state, policy_driving=False) is None
