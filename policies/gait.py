"""The phase-locked stepping reference: the action is a residual on it, and the reward follows it.

Each leg is on the floor for `stance_fraction` of the gait period and swings for the rest, the legs
half a period apart. In swing, hip pitch, knee and ankle pitch move by `reference_step` scaled by a
half sine, which lifts the foot flat (the three pitches sum to zero). Mapping actions on top of this
reference means a fresh policy already steps in place and learns balance and propulsion around it,
which a CPU budget of samples can afford; the same function serves the envs and the runtime, so the
reference a policy was trained with is the one it runs with (both fields are in the contract).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from policies.arrays import device, like, namespace
from policies.contract import PolicyContract

LEG_SAGITTAL = np.array(((0, 3, 4), (6, 9, 10)))
"""Hip pitch, knee and ankle pitch of the left and right leg, in action order."""


def leg_phases(contract: PolicyContract, t: np.ndarray) -> np.ndarray:
    """Phase in [0, 1) of the left and right leg at policy times `t`, shape (n, 2)."""
    left = (t / contract.gait_period) % 1.0
    return namespace(left).stack((left, (left + 0.5) % 1.0), axis=-1)


def swing_lift(contract: PolicyContract, phases: np.ndarray) -> np.ndarray:
    """0 in stance, a half sine over the swing, per leg."""
    s = contract.stance_fraction
    xp = namespace(phases)
    return xp.sin(np.pi * xp.clip((phases - s) / (1.0 - s), 0.0, 1.0))


def reference_offsets(contract: PolicyContract, t: np.ndarray) -> np.ndarray:
    """Joint offsets of the reference step from the default pose at times `t`, shape (n, actions)."""
    lift = swing_lift(contract, leg_phases(contract, t))
    xp = namespace(lift)
    offsets = xp.zeros((lift.shape[0], contract.action_size), dtype=lift.dtype, device=device(lift))
    offsets[:, like(LEG_SAGITTAL, lift)] = lift[:, :, None] * like(_reference_step(contract), lift)
    return offsets


@lru_cache(maxsize=4)
def _reference_step(contract: PolicyContract) -> np.ndarray:
    return np.array(contract.reference_step)


class GaitClock:
    """The reference's clock for a batch of robots, in whole policy steps.

    It runs while a robot is told to move. With the contract's `stand_still_below`, a command under
    it keeps the robot stepping in place for one gait period, which takes the walk's momentum out
    and brings the feet together, then stops the clock at the next moment both feet are down: the
    reference holds them on the floor in the default pose until a command moves it again, from
    where it stopped, so the targets never jump. (Stopping at once leaves the feet a stride apart,
    36 cm at 0.9 m/s, where no stand pose fits them.) A robot that starts under such a command
    stands at once. Without `stand_still_below` the clock runs always, as the first policies were
    trained. The arrays live where the caller's do (numpy, or torch on the simulator's device).
    """

    def __init__(self, contract: PolicyContract, steps: Any) -> None:
        """`steps`: an integer array of zeros, one per robot, in the caller's array library."""
        self.contract = contract
        self.steps = steps
        self.period = round(contract.gait_period / contract.control_dt)
        """The gait period in policy steps."""
        self.quiet = steps + self.period
        """Policy steps each robot has been told to stand (counted up to one period)."""
        self._half = self.period // 2
        self._double_support = max(1, round((contract.stance_fraction - 0.5) * self.period))

    @property
    def t(self) -> Any:
        """Each robot's reference time (s): what the observation's phase and the reference step read."""
        return self.steps * self.contract.control_dt

    def standing(self, commands: Any) -> Any:
        """Which robots' commands ask them to stand still (all False without `stand_still_below`)."""
        xp = namespace(commands)
        below = self.contract.stand_still_below
        if below is None:
            return xp.zeros(commands.shape[0], dtype=xp.bool, device=device(commands))
        return xp.sum(commands * commands, axis=1) < below * below

    def stopped(self, commands: Any) -> Any:
        """Which robots' clocks stand still under `commands`: told to stand for a period, both feet down."""
        return (self.standing(commands) & (self.quiet >= self.period)
                & (self.steps % self._half < self._double_support))

    def advance(self, commands: Any) -> None:
        """One policy step on, given the commands the robots now follow."""
        xp = namespace(self.steps)
        stop = self.stopped(commands)
        standing = xp.astype(self.standing(commands), self.steps.dtype)
        self.quiet[...] = xp.clip(self.quiet + 1, max=self.period) * standing
        self.steps += xp.astype(~stop, self.steps.dtype)

    def reset(self, rows: Any) -> None:
        """Robots that start anew, standing: a command under the threshold keeps them so."""
        self.steps[rows] = 0
        self.quiet[rows] = self.period
