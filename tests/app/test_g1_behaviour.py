"""The G1 under the whole stack in lock-step: it stands, squats, sits, damps, and faults damp it."""

import math

import numpy as np
import pytest

from control.fsm import FsmId
from control.loop import LoopConfig
from robots.interface import tilt_of
from robots.g1 import joints
from robots.g1.poses import POSES
from bessemer.runtime.session import SessionConfig, SimSession
from bessemer.runtime.low_level import SimLowLevel, LowLevelConfig
from sim.world import WorldConfig


def run_session(sequence, duration=1.0, hold=1.0, band=True, observer=None, variant="29dof", spawn_pose="stand"):
    low = SimLowLevel(LowLevelConfig(world=WorldConfig(variant=variant), loop=LoopConfig(realtime=False)))
    session = SimSession(low, SessionConfig(sequence=tuple(FsmId(s) for s in sequence), duration=duration, hold=hold,
                                              band=band, spawn_pose=spawn_pose))
    if observer is not None:
        session.every(1, observer)
    low.loop.run(session.tick)
    session.finish()
    return session


@pytest.mark.parametrize("variant", ["29dof", "23dof"])
def test_stand_up_within_3s_then_stands_still_for_10s(variant):
    after = []

    def watch(s):
        if s.stood_up_at is not None:
            after.append((s.low.robot.base_height, tilt_of(s.low.controller.state.quat)))

    session = run_session([4], duration=10.0, hold=0.0, observer=watch, variant=variant)
    assert session.stood_up_at - session.config.damp_time <= 3.0
    summary = session.summary()
    assert summary["fsm"]["faults"] == 0 and summary["standing"]
    heights, tilts = np.array(after).T
    assert len(heights) >= 5000
    assert np.max(np.abs(heights - session.nominal_height)) < 0.02
    assert np.max(tilts) < 0.1
    active = session.low.robot.variant.active_mask == 1
    err = np.abs(session.low.controller.state.q - POSES["stand"])[active]
    assert np.max(err) < 0.06, "the joints hold the default pose up to PD sag"


@pytest.mark.parametrize("spawn_pose,band", [("zero", True), ("squat", True), ("sit", True), ("stand", False)])
def test_stands_up_from_any_spawn_pose_and_the_band_lets_go(spawn_pose, band):
    session = run_session([4], duration=3.0, hold=0.0, band=band, spawn_pose=spawn_pose)
    summary = session.summary()
    assert summary["standing"] and summary["fsm"]["faults"] == 0
    assert not session.low.robot.band_engaged
    assert summary["tilt_rad"] < 0.05


def test_squat_and_sit_reach_their_poses_and_return_to_stand():
    reached = {}

    def watch(s):
        fsm = s.low.fsm
        if fsm.pose_reached and fsm.state in (FsmId.SQUAT, FsmId.SIT) and fsm.state not in reached:
            reached[fsm.state] = (s.low.controller.state.q.copy(), s.low.robot.base_height)

    session = run_session([4, 2, 4, 3, 4], duration=2.0, observer=watch)
    summary = session.summary()
    assert summary["fsm"]["visited"] == [1, 4, 2, 4, 3, 4]
    assert summary["fsm"]["faults"] == 0 and summary["sequence"]["completed"]
    assert summary["standing"]
    legs = slice(0, 12)
    for state, pose in ((FsmId.SQUAT, "squat"), (FsmId.SIT, "sit")):
        q, height = reached[state]
        assert np.max(np.abs(q[legs] - POSES[pose][legs])) < 0.15, pose
        assert height < session.nominal_height - 0.08, f"{pose} lowers the pelvis"
    assert reached[FsmId.SIT][1] < reached[FsmId.SQUAT][1]


def test_damp_folds_to_the_floor_without_nan_or_range_violation():
    lower, upper, _, _ = joints.limits()
    worst = []

    def watch(s):
        if s.low.fsm.state == FsmId.DAMP and s.stood_up_at is not None:
            q = s.low.controller.state.q
            assert np.isfinite(s.low.robot.data.qpos).all()
            worst.append(max(np.max(lower - q), np.max(q - upper)))

    session = run_session([4, 1], duration=4.0, observer=watch)
    assert session.low.fsm.state == FsmId.DAMP
    assert session.low.robot.base_height < 0.35, "the robot folded down"
    assert max(worst) < 0.02, "no joint past its range (beyond MuJoCo's soft-limit give)"


def test_zero_torque_applies_no_torque():
    forces = []

    def watch(s):
        if s.low.fsm.state == FsmId.ZERO_TORQUE:
            forces.append(np.abs(s.low.robot.data.actuator_force).max())

    session = run_session([4, 1, 0], duration=1.0, hold=3.0, observer=watch)
    assert session.low.fsm.state == FsmId.ZERO_TORQUE
    assert len(forces) > 400 and max(forces) == 0.0


class Recorder:
    """Wraps the simulated robot to inject a fault into what the controller reads."""

    def __init__(self, low, inject):
        self.robot = low.robot
        self.inject = inject
        self.written = []
        self.num_motors = self.robot.num_motors
        low.controller.robot = self

    def read(self):
        state = self.robot.read()
        self.inject(state)
        return state

    def write(self, cmd):
        self.written.append((cmd.kp.copy(), cmd.kd.copy(), cmd.tau.copy(), cmd.q.copy()))
        self.robot.write(cmd)


@pytest.mark.parametrize("fault,expect", [
    (lambda st: st.q.__setitem__(3, math.nan), "NaN"),
    (lambda st: st.dq.__setitem__(7, 12.0), "joint 7 speed"),
    (lambda st: st.quat.__setitem__(slice(None), (math.cos(0.6), math.sin(0.6), 0, 0)), "tilt"),
])
def test_a_fault_damps_on_the_very_tick_it_is_read(fault, expect):
    low = SimLowLevel(LowLevelConfig(loop=LoopConfig(realtime=False)))
    low.spawn(band=False)
    low.fsm.request(4)
    armed = {"on": False}
    rec = Recorder(low, lambda st: fault(st) if armed["on"] else None)
    for _ in range(500):
        low.tick()
    assert low.fsm.state == FsmId.STAND_UP and np.all(rec.written[-1][0] > 0)
    armed["on"] = True
    low.tick()
    assert low.fsm.state == FsmId.DAMP and expect in low.fsm.last_fault
    kp, kd, tau, q = rec.written[-1]
    assert np.all(kp == 0) and np.all(kd == joints.DAMP_KD) and np.all(tau == 0)
    assert np.isfinite(q).all(), "a faulty state never leaks into the command"
    assert np.isfinite(low.robot.data.ctrl).all()


def test_a_real_push_over_is_caught_by_the_tilt_monitor():
    low = SimLowLevel(LowLevelConfig(loop=LoopConfig(realtime=False)))
    low.spawn(band=False)
    low.fsm.request(4)
    for _ in range(500):
        low.tick()
    pelvis = low.robot.model.body("torso_link").id
    low.robot.data.xfrc_applied[pelvis, 0] = 150.0
    for _ in range(2000):
        low.tick()
        if low.fsm.state == FsmId.DAMP:
            break
    assert low.fsm.state == FsmId.DAMP and "tilt" in low.fsm.last_fault
    assert 1.0 < tilt_of(low.controller.state.quat) < 1.1, "damped on the first tick past the threshold"


def test_a_lockstep_run_whose_observers_are_slow_keeps_the_policy_fresh_on_simulated_time():
    """Video frames and perception can take longer to compute than a policy period lasts; in lock-step
    only simulated time counts, so the policy's targets must not expire on the wall clock."""
    import time

    from bessemer.runtime.policy_host import InProcessPolicy
    from control.external_targets import always
    from policies.arm_wave import ArmWavePolicy

    low = SimLowLevel(LowLevelConfig(world=WorldConfig(), loop=LoopConfig(realtime=False)), policy_alive=always)
    session = SimSession(low, SessionConfig(sequence=(FsmId.STAND_UP, FsmId.START), duration=0.5, hold=0.5))
    InProcessPolicy(ArmWavePolicy(), session)
    session.every(20, lambda run: time.sleep(0.06))
    low.loop.run(session.tick)
    assert low.fsm.state == FsmId.START and low.fsm.faults == 0, low.fsm.last_fault


def test_a_policy_that_outputs_nan_never_reaches_the_motors_and_the_robot_damps():
    """In-process, as over ZMQ: non-finite targets are refused, the held ones expire, stale targets damp."""
    import numpy as np

    from bessemer.runtime.policy_host import InProcessPolicy
    from control.external_targets import always
    from policies.arm_wave import ArmWavePolicy

    class GoesNan(ArmWavePolicy):
        def act(self, state, t, targets):
            super().act(state, t, targets)
            if t > 0.5:
                targets[0, :] = np.nan

    low = SimLowLevel(LowLevelConfig(world=WorldConfig(), loop=LoopConfig(realtime=False)), policy_alive=always)
    session = SimSession(low, SessionConfig(sequence=(FsmId.STAND_UP, FsmId.START), duration=1.5, hold=0.5))
    InProcessPolicy(GoesNan(), session)
    commanded = []
    session.every(1, lambda r: commanded.append(np.isfinite(low.controller.command.values).all()))
    low.loop.run(session.tick)
    assert all(commanded), "no non-finite target was ever written"
    assert low.policy.targets.non_finite > 0 and low.fsm.state == FsmId.DAMP
    assert "policy targets stale" in low.fsm.last_fault
