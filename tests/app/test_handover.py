"""Hand-overs from the walking policy to the stand mid-stride, in the whole simulated stack (`bessemer eval --handovers`)."""

import os
import time
from pathlib import Path

import pytest

from bessemer.control_client import request_fsm, request_status
from bessemer.endpoints import Endpoints
from bessemer.launch import LaunchConfig, Launcher
from bessemer.tasks.handover import HandoverConfig, handover_trial
from control.fsm import FsmId
from control.motion import MoveLimits
from policies.inference import SHIPPED_WALK_POLICY

STEPPING_WALKER = Path(__file__).parents[1] / "assets" / "g1_walk_stepping.pt"
"""The stepping walk (shipped two walks ago), which steps in place under a zero command: the FSM must
not wait for it."""
STANDING_WALKER = SHIPPED_WALK_POLICY
"""Stands still under a zero command (its contract's `stand_still_below`)."""
SHORT = HandoverConfig(hold_s=1.0)


def test_a_walker_that_cannot_stand_still_is_handed_to_the_stand_at_once():
    result = handover_trial(STEPPING_WALKER, SHORT, seed=0)
    assert result.speed_mps > 0.3, "it was walking when the stand was asked for"
    assert result.stand_after_s is not None and result.stand_after_s < 0.01


def test_a_walker_that_can_stand_still_stops_and_brakes_before_the_stand_takes_over():
    result = handover_trial(STANDING_WALKER, SHORT, seed=0)
    assert result.speed_mps > 0.3, "it was walking when the stand was asked for"
    assert result.stand_after_s is not None
    assert 0.4 < result.stand_after_s < MoveLimits().policy_stop, "it stopped and settled, not at the timeout"
    assert result.speed_at_stand_mps < 0.1, "the stand takes a robot that has braked, not one still walking"
    assert result.up


@pytest.mark.timeout(240)
@pytest.mark.xdist_group("stack-processes")
def test_over_processes_the_policy_node_stops_the_walker_before_the_stand_takes_it(base_port):
    """`bessemer run`: the FSM is in the low-level node, the walker in the policy node; the stop request
    and the walker's standing travel in the state and the heartbeat. In the group of the other stacks
    of processes: two stacks' real-time loops at once on two cores starve each other's policy."""
    endpoints = Endpoints(stack=f"handover{os.getpid()}", base_port=base_port)
    launcher = Launcher(LaunchConfig(endpoints, ["--variant", "29dof"], hold=0.5, perception=False,
                                     policy=str(STANDING_WALKER), command="0.5,0,0", target_deadline_ms=1000),
                        say=quiet, show=quiet)
    try:
        launcher.start()
        launcher.run_sequence()
        walking = wait_for(endpoints, lambda s: s["fsm"]["state"] == FsmId.START and s["nodes"].get("policy", {})
                           and time.monotonic() - s["fsm"]["since"] > 4.0, timeout=60)
        assert walking["fsm"]["state"] == FsmId.START, walking["fsm"]
        accepted, state, message = request_fsm(endpoints, FsmId.STAND_UP)
        asked = time.monotonic()
        assert accepted and state == FsmId.START, ("the FSM waits for the walker to stop", message)
        stood = wait_for(endpoints, lambda s: s["fsm"]["state"] != FsmId.START, timeout=30)
        assert stood["fsm"]["state"] == FsmId.STAND_UP and stood["fsm"]["since"] - asked > 0.4, stood["fsm"]
        held = wait_for(endpoints, lambda s: time.monotonic() - s["fsm"]["since"] > 3.0 or s["fsm"]["fault"], timeout=30)
        assert held["fsm"]["state"] == FsmId.STAND_UP and held["fsm"]["faults"] == 0, held["fsm"]
    finally:
        launcher.shutdown()


def quiet(_):
    pass


def wait_for(endpoints, predicate, timeout):
    deadline = time.monotonic() + timeout
    while True:
        status = request_status(endpoints, timeout=10)
        if predicate(status) or time.monotonic() > deadline:
            return status
        time.sleep(0.05)
