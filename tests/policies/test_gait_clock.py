"""The stepping reference's clock: a policy that stands still stops stepping with both feet down,
never mid-swing, and starts again from there; the first policies' always-stepping clock is unchanged."""

from dataclasses import replace

import numpy as np

from policies.contract import PolicyContract
from policies.gait import GaitClock, leg_phases, reference_offsets, swing_lift

STANDS = replace(PolicyContract(), stand_still_below=0.1)
WALK, STAND = np.array([[0.5, 0.0, 0.0]]), np.zeros((1, 3))


def run(clock: GaitClock, command: np.ndarray, steps: int) -> list[np.ndarray]:
    """The reference offsets the robot is given at each of `steps` policy steps."""
    seen = []
    for _ in range(steps):
        seen.append(reference_offsets(clock.contract, clock.t)[0])
        clock.advance(command)
    return seen


def test_the_first_policies_clock_steps_whatever_the_command():
    clock = GaitClock(PolicyContract(), np.zeros(1, dtype=np.int64))
    run(clock, STAND, 57)
    assert clock.steps[0] == 57 and clock.t[0] == 57 * PolicyContract().control_dt


def test_a_stop_waits_for_both_feet_down_then_holds_them_there():
    clock = GaitClock(STANDS, np.zeros(1, dtype=np.int64))
    run(clock, WALK, 27)
    offsets = run(clock, STAND, 60)
    lifts = [swing_lift(STANDS, leg_phases(STANDS, np.array([k * STANDS.control_dt])))[0] for k in range(0, 200)]
    stopped_at = clock.steps[0]
    assert 27 < stopped_at <= 27 + round(STANDS.gait_period / STANDS.control_dt / 2), "within half a gait period"
    assert not lifts[stopped_at].any(), "both feet on the floor where the clock stopped"
    assert all(not o.any() for o in offsets[-40:]), "the reference holds the default pose while standing"
    assert bool(clock.stopped(STAND)[0])


def test_walking_again_starts_from_where_it_stopped_so_targets_do_not_jump():
    clock = GaitClock(STANDS, np.zeros(1, dtype=np.int64))
    run(clock, WALK, 31)
    run(clock, STAND, 40)
    stopped_at = clock.steps[0]
    offsets = run(clock, WALK, 10)
    assert clock.steps[0] == stopped_at + 10
    steps = np.abs(np.diff(np.array(offsets), axis=0)).max()
    assert steps < 0.1, f"reference moves at most {steps:.3f} rad per step when walking resumes"


def test_a_command_under_the_threshold_stands_and_one_over_it_walks():
    clock = GaitClock(STANDS, np.zeros(3, dtype=np.int64))
    commands = np.array([[0.05, 0.0, 0.05], [0.0, 0.0, 0.2], [0.0, 0.0, 0.0]])
    for _ in range(30):
        clock.advance(commands)
    assert list(clock.steps) == [0, 30, 0]
