"""Hand-overs from the walking policy to the stand mid-stride, in the whole simulated stack (`bessemer eval --handovers`)."""

from pathlib import Path

from bessemer.tasks.handover import HandoverConfig, handover_trial
from control.motion import MoveLimits
from policies.inference import SHIPPED_WALK_POLICY

STANDING_WALKER = Path(__file__).parents[2] / "policies" / "in_training" / "g1-walk-stand" / "latest.pt"
"""The policy in training, which stands still under a zero command (its contract's `stand_still_below`)."""
SHORT = HandoverConfig(hold_s=1.0)


def test_a_walker_that_cannot_stand_still_is_handed_to_the_stand_at_once():
    result = handover_trial(SHIPPED_WALK_POLICY, SHORT, seed=0)
    assert result.speed_mps > 0.3, "it was walking when the stand was asked for"
    assert result.stand_after_s is not None and result.stand_after_s < 0.01


def test_a_walker_that_can_stand_still_stops_and_brakes_before_the_stand_takes_over():
    result = handover_trial(STANDING_WALKER, SHORT, seed=0)
    assert result.speed_mps > 0.3, "it was walking when the stand was asked for"
    assert result.stand_after_s is not None
    assert 0.4 < result.stand_after_s < MoveLimits().policy_stop, "it stopped and settled, not at the timeout"
    assert result.speed_at_stand_mps < 0.1, "the stand takes a robot that has braked, not one still walking"
    assert result.up
