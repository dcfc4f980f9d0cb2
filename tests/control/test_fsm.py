"""The FSM's transition table, row by row, and its fault handling."""

import itertools

import numpy as np
import pytest

from control.external_targets import ExternalTargets, PolicySeat
from control.fsm import TRANSITIONS, Fsm, FsmGains, FsmId, parse_state_id
from robots.g1 import joints
from robots.g1.poses import POSES
from robots.interface import RobotState

EXPECTED_ALLOWED = {
    (0, 1), (1, 0), (1, 4), (2, 1), (2, 4), (3, 1), (3, 4), (4, 1), (4, 2), (4, 3), (4, 200), (200, 1), (200, 4),
}


def make_fsm(policy=False):
    gains = FsmGains(joints.HOLD_KP, joints.HOLD_KD, joints.DAMP_KD, np.ones(29))
    return Fsm(dict(POSES), gains, policy=PolicySeat(ExternalTargets(29)) if policy else None)


ROUTE = {FsmId.DAMP: (), FsmId.ZERO_TORQUE: (0,), FsmId.STAND_UP: (4,), FsmId.SQUAT: (4, 2), FsmId.SIT: (4, 3),
         FsmId.START: (4, 200)}
"""Allowed requests that lead from damp, where the FSM starts, to each state."""


def fsm_in(state, policy=False):
    fsm = make_fsm(policy)
    assert fsm.state == FsmId.DAMP
    for step in ROUTE[state]:
        assert fsm.request(step).accepted
    assert fsm.state == state
    return fsm


def test_table_is_exactly_the_documented_one():
    allowed = {(int(a), int(b)) for a, targets in TRANSITIONS.items() for b in targets}
    assert allowed == EXPECTED_ALLOWED
    assert all(FsmId.DAMP in TRANSITIONS[s] for s in FsmId if s != FsmId.DAMP)


@pytest.mark.parametrize("src,dst", list(itertools.permutations(FsmId, 2)))
def test_every_transition_allowed_or_refused(src, dst):
    fsm = fsm_in(src, policy=True)
    result = fsm.request(dst)
    assert result.accepted == ((int(src), int(dst)) in EXPECTED_ALLOWED), result.message
    assert fsm.state == (dst if result.accepted else src)
    if not result.accepted:
        assert "not allowed" in result.message


def test_start_is_refused_without_a_policy():
    fsm = fsm_in(FsmId.STAND_UP)
    result = fsm.request(200)
    assert not result.accepted and "no policy is configured" in result.message
    assert fsm.state == FsmId.STAND_UP


def test_start_is_refused_while_the_seated_policy_is_not_alive_and_allowed_once_it_is():
    alive = False
    gains = FsmGains(joints.HOLD_KP, joints.HOLD_KD, joints.DAMP_KD, np.ones(29))
    fsm = Fsm(dict(POSES), gains, policy=PolicySeat(ExternalTargets(29), alive=lambda: alive))
    fsm.request(FsmId.STAND_UP)
    result = fsm.request(200)
    assert not result.accepted and "not running" in result.message and fsm.state == FsmId.STAND_UP
    alive = True
    assert fsm.request(200).accepted and fsm.state == FsmId.START


def test_unknown_state_id_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown FSM state id '7'.*4 stand_up"):
        parse_state_id("7")
    with pytest.raises(ValueError, match="unknown FSM state id"):
        make_fsm().request(702)


def test_fault_damps_and_blocks_leaving_damp_until_it_clears():
    fsm = fsm_in(FsmId.SQUAT)
    fsm.on_fault("tilt 1.2 rad > 1.0 rad")
    assert fsm.state == FsmId.DAMP
    refused = fsm.request(4)
    assert not refused.accepted and "tilt" in refused.message
    fsm.clear_fault()
    assert fsm.request(4).accepted


def test_fault_in_zero_torque_is_recorded_but_does_not_drive_the_motors():
    fsm = fsm_in(FsmId.ZERO_TORQUE)
    fsm.on_fault("tilt 1.4 rad > 1.0 rad")
    assert fsm.state == FsmId.ZERO_TORQUE and fsm.fault
    assert fsm.request(1).accepted and not fsm.request(4).accepted


def test_damp_and_zero_torque_commands():
    state = RobotState(29)
    state.q[:] = POSES["squat"]
    fsm = make_fsm()
    cmd = fsm.step(state, 0.0)
    assert np.all(cmd.kp == 0) and np.all(cmd.kd == joints.DAMP_KD) and np.all(cmd.tau == 0)
    assert np.all(cmd.enable == 1)
    fsm.request(0)
    cmd = fsm.step(state, 0.0)
    assert np.all(cmd.kp == 0) and np.all(cmd.kd == 0) and np.all(cmd.tau == 0)


def test_pose_state_moves_smoothly_from_the_measured_pose_then_holds():
    state = RobotState(29)
    state.q[:] = POSES["sit"]
    fsm = make_fsm()
    fsm.request(4)
    cmd = fsm.step(state, 10.0)
    np.testing.assert_allclose(cmd.q, POSES["sit"])
    duration = fsm.move.duration
    previous = cmd.q.copy()
    dt = 0.002
    for k in range(1, int(duration / dt) + 10):
        fsm.step(state, 10.0 + k * dt)
        assert np.max(np.abs(cmd.q - previous)) / dt <= fsm.limits.max_speed + 1e-6
        previous = cmd.q.copy()
    assert fsm.pose_reached
    np.testing.assert_allclose(cmd.q, POSES["stand"])
    np.testing.assert_allclose(cmd.kp, joints.HOLD_KP)


def test_entering_200_blends_the_held_pose_into_the_policys_targets_and_gains():
    targets = ExternalTargets(29)
    targets.values[0] = 0.5
    targets.values[3], targets.values[4], targets.values[5] = 10.0, 0.5, 1.0
    gains = FsmGains(joints.HOLD_KP, joints.HOLD_KD, joints.DAMP_KD, np.ones(29))
    fsm = Fsm(dict(POSES), gains, policy=PolicySeat(targets))
    state = RobotState(29)
    state.q[:] = POSES["stand"]
    fsm.request(FsmId.STAND_UP)
    for k in range(400):
        fsm.step(state, k * 0.002)
    held = fsm.command.values.copy()
    assert fsm.request(FsmId.START).accepted
    ramp = fsm.limits.policy_ramp
    seen = [fsm.step(state, 0.8 + k * 0.002).values.copy() for k in range(round(ramp / 0.002) + 2)]
    assert np.allclose(seen[0], held), "the first tick in 200 still commands the held pose and gains"
    assert np.allclose(seen[-1], targets.values), "after the ramp, exactly the policy's targets"
    steps = np.abs(np.diff(np.array(seen)[:, 3], axis=0)).max()
    assert steps < 0.05 * np.abs(held[3] - targets.values[3]).max(), "the stiffness changes gradually"


def walking_fsm(stands_still: bool):
    """An FSM in 200 whose policy has driven for a second, its legs mid-stride."""
    fsm = fsm_in(FsmId.START, policy=True)
    fsm.policy.stands_still = stands_still
    fsm.policy.targets.values[0] = POSES["stand"] + 0.2
    state = RobotState(29)
    state.q[:] = POSES["stand"] + 0.2
    for k in range(500):
        fsm.step(state, k * 0.002)
    return fsm, state


def test_leaving_200_for_stand_waits_until_the_walker_stands_then_moves_from_where_it_is():
    fsm, state = walking_fsm(stands_still=True)
    assert fsm.request(FsmId.STAND_UP).accepted
    assert fsm.state == FsmId.START and fsm.pending == FsmId.STAND_UP and fsm.policy.stop_requested
    for k in range(100):
        assert np.allclose(fsm.step(state, 1.0 + k * 0.002).q, fsm.policy.targets.values[0]), "the policy still drives"
    fsm.policy.standing = True
    command = fsm.step(state, 1.2)
    assert fsm.state == FsmId.STAND_UP and fsm.pending is None and not fsm.policy.stop_requested
    assert np.allclose(command.q, state.q), "the pose move starts from the joints where the walker stopped"


def test_a_policy_that_cannot_stand_still_hands_over_at_once():
    fsm, _ = walking_fsm(stands_still=False)
    assert fsm.request(FsmId.STAND_UP).accepted and fsm.state == FsmId.STAND_UP


def test_a_policy_that_never_stands_is_relieved_after_the_stop_timeout():
    fsm, state = walking_fsm(stands_still=True)
    fsm.request(FsmId.STAND_UP)
    limit = fsm.limits.policy_stop
    fsm.step(state, 1.0)
    fsm.step(state, 1.0 + limit - 0.01)
    assert fsm.state == FsmId.START
    fsm.step(state, 1.0 + limit)
    assert fsm.state == FsmId.STAND_UP


def test_damp_and_faults_do_not_wait_for_the_walker_and_200_calls_the_stop_off():
    fsm, state = walking_fsm(stands_still=True)
    fsm.request(FsmId.STAND_UP)
    assert fsm.request(FsmId.START).accepted and fsm.pending is None and not fsm.policy.stop_requested
    fsm.request(FsmId.STAND_UP)
    fsm.on_fault("tilt")
    assert fsm.state == FsmId.DAMP and fsm.pending is None
    fsm.clear_fault()
    fsm, state = walking_fsm(stands_still=True)
    fsm.request(FsmId.STAND_UP)
    assert fsm.request(FsmId.DAMP).accepted and fsm.state == FsmId.DAMP
    fsm.policy.standing = True
    fsm.step(state, 2.0)
    assert fsm.state == FsmId.DAMP
