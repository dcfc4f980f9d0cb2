"""Unitree's services for the robot a Bessemer process owns: `sport` always, `arm` and `rt/arm_sdk`
when a walking policy can take the upper body's weight."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bessemer.runtime.arm_service import ArmActions
from bessemer.runtime.low_level import LowLevel
from bessemer.runtime.sport_service import SportService
from control.upper_body import UpperBodyOverride
from robots.dds_transport import DdsLink


class UnitreeServices:
    def __init__(self, link: DdsLink, low: LowLevel, command: np.ndarray | None, upper_body: UpperBodyOverride | None,
                 say: Callable[[str], None]) -> None:
        """Raises robots.unitree_rpc.ServiceTaken when another `sport` server answers on the domain."""
        self.sport = SportService(link, low, command, low.clock, say=say,
                                  arm_action=None if upper_body is None else lambda action: self.arm.execute(action))
        self.arm = ArmActions(link, low.fsm, upper_body, low.clock, say=say) if upper_body is not None else None

    def poll(self) -> None:
        self.sport.poll()
        if self.arm is not None:
            self.arm.poll()

    @property
    def counters(self) -> dict:
        counters = self.sport.counters
        if self.arm is not None:
            counters["arm"] = vars(self.arm.server.counters)
            counters["arm_sdk"] = {k: getattr(self.arm.arm_sdk, k) for k in ("received", "bad_crc", "bad_size", "non_finite")}
        return counters
