"""The upper-body override: the user's arm targets by a weight, never faster than the limit."""

import numpy as np
import pytest

from control.upper_body import UPPER_BODY, UpperBodyLimits, UpperBodyOverride

DT = 0.02


def policy_targets() -> np.ndarray:
    targets = np.zeros((6, 29))
    targets[0, UPPER_BODY] = 0.2
    targets[3], targets[4], targets[5] = 40.0, 1.0, 1.0
    return targets


def run(override: UpperBodyOverride, steps: int, release_at: int | None = None) -> np.ndarray:
    q = []
    for k in range(steps):
        if k == release_at:
            override.release()
        targets = policy_targets()
        override.apply(targets, DT)
        q.append(targets[0].copy())
    return np.array(q)


@pytest.mark.parametrize("jump", [-2.8, 2.0, 0.7])
def test_a_jump_in_the_request_moves_no_joint_faster_than_the_limit_and_a_release_hands_back(jump):
    override = UpperBodyOverride(UpperBodyLimits(max_joint_speed=4.0))
    request = np.zeros((5, len(UPPER_BODY)))
    request[0] = 0.2
    request[0, 10] = jump
    request[3], request[4] = 60.0, 1.5
    override.request(request, 1.0)
    q = run(override, 300, release_at=150)
    speed = np.abs(np.diff(q, axis=0)) / DT
    assert speed.max() <= 4.0 + 1e-9
    assert abs(q[149, UPPER_BODY[10]] - jump) < 1e-6, "the request is reached"
    assert np.allclose(q[-1], policy_targets()[0]) and override.weight == 0.0, "and handed back"
    assert np.allclose(q[:, :12], 0.0), "the legs are the policy's throughout"


def test_without_a_request_the_policy_targets_pass_untouched():
    override = UpperBodyOverride()
    q = run(override, 10)
    assert np.array_equal(q, np.tile(policy_targets()[0], (10, 1)))
