"""The simulated G1's `motion_switcher` service, as a robot serves it: a mode is active until released.

A G1 boots with Unitree's locomotion mode active; low-level programs ask CheckMode (1001) and call
ReleaseMode (1003) until the name is empty (Unitree's own low-level example does exactly that and
fails without an answer). SelectMode (1002) activates a named mode again; Set/GetSilent (1004/1005)
keep a flag. The simulated robot has no locomotion of its own to fight a low-level program, so
commands that arrive while a mode is active are still applied, and counted so the user is told.
"""

from __future__ import annotations

from dataclasses import dataclass

from robots.dds_transport import DdsLink
from robots.unitree_rpc import BAD_PARAMETER, OK, ApiError, RpcServer

SERVICE = "motion_switcher"
VERSION = "1.0.0.1"
CHECK_MODE, SELECT_MODE, RELEASE_MODE, SET_SILENT, GET_SILENT = 1001, 1002, 1003, 1004, 1005
BOOT_MODE = "ai"
"""The mode a G1 boots in: Unitree's locomotion."""


@dataclass
class MotionMode:
    name: str = BOOT_MODE
    form: str = "0"
    silent: bool = False


class MotionSwitcherService:
    def __init__(self, link: DdsLink, mode: MotionMode | None = None) -> None:
        self.mode = mode or MotionMode()
        self.server = RpcServer(link, SERVICE, VERSION, {
            CHECK_MODE: self._check, SELECT_MODE: self._select, RELEASE_MODE: self._release,
            SET_SILENT: self._set_silent, GET_SILENT: self._get_silent})

    @property
    def active(self) -> bool:
        return bool(self.mode.name)

    def poll(self) -> int:
        return self.server.poll()

    def _check(self, _: dict) -> tuple[int, dict]:
        return OK, {"form": self.mode.form, "name": self.mode.name}

    def _select(self, parameter: dict) -> tuple[int, None]:
        name = parameter.get("name")
        if not isinstance(name, str) or not name:
            raise ApiError(BAD_PARAMETER, "SelectMode needs a mode name")
        self.mode.name = name
        return OK, None

    def _release(self, _: dict) -> tuple[int, None]:
        self.mode.name = ""
        return OK, None

    def _set_silent(self, parameter: dict) -> tuple[int, None]:
        silent = parameter.get("silent")
        if not isinstance(silent, bool):
            raise ApiError(BAD_PARAMETER, "SetSilent needs silent: true or false")
        self.mode.silent = silent
        return OK, None

    def _get_silent(self, _: dict) -> tuple[int, dict]:
        return OK, {"silent": self.mode.silent}
