"""The stepping reference's clock: a policy that stands still steps in place for a gait period, then
stops with both feet down, never mid-swing, and starts again from there; a robot that starts with
nothing to do stands at once; the first policies' always-stepping clock is unchanged."""

from dataclasses import replace

import numpy as np

from policies.contract import PolicyContract
from policies.gait import GaitClock, leg_phases, reference_offsets, swing_lift

STANDS = replace(PolicyContract(), stand_still_below=0.1)
WALK, STAND = np.array([[0.5, 0.0, 0.0]]), np.zeros((1, 3))
PERIOD = round(STANDS.gait_period / STANDS.control_dt)


def clock(contract: PolicyContract = STANDS, robots: int = 1) -> GaitClock:
    return GaitClock(contract, np.zeros(robots, dtype=np.int64))


def run(gait: GaitClock, command: np.ndarray, steps: int) -> list[np.ndarray]:
    """The reference offsets the robot is given at each of `steps` policy steps."""
    seen = []
    for _ in range(steps):
        seen.append(reference_offsets(gait.contract, gait.t)[0])
        gait.advance(command)
    return seen


def lift_at(step: int) -> np.ndarray:
    return swing_lift(STANDS, leg_phases(STANDS, np.array([step * STANDS.control_dt])))[0]


def test_the_first_policies_clock_steps_whatever_the_command():
    gait = clock(PolicyContract())
    run(gait, STAND, 57)
    assert gait.steps[0] == 57 and gait.t[0] == 57 * PolicyContract().control_dt


def test_a_robot_that_starts_with_a_zero_command_stands_at_once():
    gait = clock()
    offsets = run(gait, STAND, 30)
    assert gait.steps[0] == 0 and all(not o.any() for o in offsets)


def test_a_stop_steps_in_place_for_a_period_then_holds_both_feet_down():
    gait = clock()
    run(gait, WALK, 27)
    offsets = run(gait, STAND, 3 * PERIOD)
    stopped_at = gait.steps[0]
    assert 27 + PERIOD <= stopped_at <= 27 + PERIOD + PERIOD // 2, "a period in place, then the next double support"
    assert not lift_at(stopped_at).any(), "both feet on the floor where the clock stopped"
    assert all(not o.any() for o in offsets[-PERIOD:]), "the reference holds the default pose while standing"
    assert bool(gait.stopped(STAND)[0])


def test_walking_again_starts_from_where_it_stopped_so_targets_do_not_jump():
    gait = clock()
    run(gait, WALK, 31)
    run(gait, STAND, 3 * PERIOD)
    stopped_at = gait.steps[0]
    offsets = run(gait, WALK, 10)
    assert gait.steps[0] == stopped_at + 10
    jump = np.abs(np.diff(np.array(offsets), axis=0)).max()
    assert jump < 0.1, f"reference moves at most {jump:.3f} rad per step when walking resumes"


def test_a_command_under_the_threshold_stands_and_one_over_it_walks():
    gait = clock(robots=3)
    commands = np.array([[0.05, 0.0, 0.05], [0.0, 0.0, 0.2], [0.0, 0.0, 0.0]])
    for _ in range(30):
        gait.advance(commands)
    assert list(gait.steps) == [0, 30, 0]
