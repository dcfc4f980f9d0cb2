"""FSM requests from the G1's wireless remote, with Unitree's habits: L2+B damps, start stands up.

A request fires once per press (on the rising edge), so holding a button does not repeat it.
"""

from __future__ import annotations

from control.fsm import Fsm, FsmId, RequestResult
from robots.interface import RobotState
from robots.remote import RemoteState

BINDINGS: tuple[tuple[frozenset[str], FsmId], ...] = (
    (frozenset({"L2", "B"}), FsmId.DAMP),
    (frozenset({"start"}), FsmId.STAND_UP),
)


class RemoteFsmCommands:
    def __init__(self, fsm: Fsm) -> None:
        self.fsm = fsm
        self._held: set[FsmId] = set()

    def poll(self, state: RobotState) -> RequestResult | None:
        keys = RemoteState.decode(state.remote.tobytes()).keys
        result = None
        for combo, target in BINDINGS:
            if combo <= keys:
                if target not in self._held:
                    self._held.add(target)
                    result = self.fsm.request(target)
            else:
                self._held.discard(target)
        return result
