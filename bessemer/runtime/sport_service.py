"""Unitree's `sport` service (the G1 `LocoClient`) on Bessemer's FSM and walking policy.

An owner's LocoClient scripts drive Bessemer as they drive Unitree's locomotion: SetFsmId moves the
FSM (0-4 are Bessemer's own ids; 200 and 500 both start the walking policy; 706 goes squat <->
stand, 702 stands up), SetVelocity becomes the policy's command for its duration and then zero, the
getters report the FSM. As on a G1, whose stand balances and walks, a velocity command to a robot
standing in Bessemer's stand-up pose hands it to the walking policy. It answers under both names a G1 has used (`sport`, and `loco` before ai_sport
8.2) and refuses to start while another server of them answers. Codes are Unitree's: 7301 the state
does not allow the request (a refused transition, a command outside state 200), 7302 an FSM id
Bessemer does not have, 3203 an api without a Bessemer meaning (stand and swing height), 3204 a
malformed or out-of-range parameter (a velocity outside the policy's trained range). SetTaskId
(LocoClient's WaveHand and ShakeHand) plays the `arm` service's gestures; the arm service's codes
come back unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from bessemer.runtime.low_level import LowLevel
from control.fsm import FsmId
from policies.contract import command_problem
from robots.dds_transport import DdsLink
from robots.unitree_rpc import BAD_PARAMETER, OK, ApiError, RpcServer

NAMES = ("sport", "loco")
VERSION = "1.0.0.0"
GET_FSM_ID, GET_FSM_MODE, GET_BALANCE_MODE = 7001, 7002, 7003
SET_FSM_ID, SET_BALANCE_MODE, SET_VELOCITY, SET_TASK_ID = 7101, 7102, 7105, 7106
STATE_UNAVAILABLE, INVALID_FSM_ID = 7301, 7302
START_IDS = (200, 500)
SQUAT_TOGGLE, LIE_TO_STAND = 706, 702
TASK_ACTIONS = {0: 26, 1: 26, 2: 27, 3: 99}
"""LocoClient's arm tasks as `arm` action ids: 0 wave hand, 1 wave hand and turn (the wave only: the
turn is not made), 2 shake hand (held), 3 its release."""


class SportService:
    def __init__(self, link: DdsLink, low: LowLevel, command: np.ndarray | None, clock: Callable[[], float],
                 say: Callable[[str], None] = lambda line: None, exclusive_after: float | None = 0.3,
                 arm_action: Callable[[int], None] | None = None) -> None:
        """`command` is the walking policy's velocity command (changed in place); None without a policy.
        `say` hears each state change and velocity command a client makes. `arm_action` plays an
        `arm` action id (raising ApiError when it may not); without it, SetTaskId answers 3203."""
        self.low, self.command, self.clock, self.say = low, command, clock, say
        self.arm_action = arm_action
        self.balance_mode = 0
        self.start_id = 200
        """The id the client started with (200 or 500): GetFsmId reports it back."""
        self.command_until = 0.0
        handlers = {GET_FSM_ID: self._get_fsm_id, GET_FSM_MODE: self._get_fsm_mode,
                    GET_BALANCE_MODE: self._get_balance_mode, SET_FSM_ID: self._set_fsm_id,
                    SET_BALANCE_MODE: self._set_balance_mode, SET_VELOCITY: self._set_velocity}
        if arm_action is not None:
            handlers[SET_TASK_ID] = self._set_task_id
        self.servers = [RpcServer(link, name, VERSION, handlers, exclusive_after=exclusive_after) for name in NAMES]

    def poll(self) -> None:
        for server in self.servers:
            server.poll()
        expired = self.command_until and self.clock() >= self.command_until
        if self.command is not None and (expired or self.low.fsm.state != FsmId.START):
            self.command[:] = 0.0
            self.command_until = 0.0

    @property
    def counters(self) -> dict:
        return {server.service: vars(server.counters) for server in self.servers}

    def _get_fsm_id(self, _: dict) -> tuple[int, dict]:
        state = self.low.fsm.state
        return OK, {"data": self.start_id if state == FsmId.START else int(state)}

    def _get_fsm_mode(self, _: dict) -> tuple[int, dict]:
        moving = self.low.fsm.state == FsmId.START and self.command is not None and bool(np.any(self.command))
        return OK, {"data": int(moving)}

    def _get_balance_mode(self, _: dict) -> tuple[int, dict]:
        return OK, {"data": self.balance_mode}

    def _set_fsm_id(self, parameter: dict) -> tuple[int, None]:
        wanted = _integer(parameter.get("data"))
        fsm = self.low.fsm
        if wanted in START_IDS:
            target = FsmId.START
        elif wanted == SQUAT_TOGGLE:
            target = FsmId.SQUAT if fsm.state in (FsmId.STAND_UP, FsmId.START) else FsmId.STAND_UP
        elif wanted == LIE_TO_STAND:
            target = FsmId.STAND_UP
        elif wanted in tuple(int(s) for s in FsmId):
            target = FsmId(wanted)
        else:
            raise ApiError(INVALID_FSM_ID, f"no FSM id {wanted}")
        if target == FsmId.START and self.command is not None:
            self.command[:] = 0.0
        result = fsm.request(target)
        self.say(f"sport SetFsmId {wanted}: {result.message}")
        if not result.accepted:
            raise ApiError(STATE_UNAVAILABLE, result.message)
        if target == FsmId.START:
            self.start_id = wanted if wanted in START_IDS else self.start_id
        return OK, None

    def _set_balance_mode(self, parameter: dict) -> tuple[int, None]:
        mode = _integer(parameter.get("data"))
        if mode not in (0, 1):
            raise ApiError(BAD_PARAMETER, "balance mode is 0 (stand) or 1 (continuous gait)")
        self.balance_mode = mode
        return OK, None

    def _set_velocity(self, parameter: dict) -> tuple[int, None]:
        velocity, duration = parameter.get("velocity"), parameter.get("duration", 1.0)
        if not (isinstance(velocity, list) and len(velocity) == 3 and all(_is_number(v) for v in velocity)
                and _is_number(duration) and duration >= 0):
            raise ApiError(BAD_PARAMETER, "SetVelocity takes velocity [vx, vy, wz] and a duration >= 0")
        if command_problem(tuple(float(v) for v in velocity)) is not None:
            raise ApiError(BAD_PARAMETER, "velocity outside the walking policy's trained range")
        fsm = self.low.fsm
        if self.command is not None and fsm.state == FsmId.STAND_UP and fsm.pose_reached and any(velocity):
            fsm.request(FsmId.START)
        if self.command is None or fsm.state != FsmId.START:
            raise ApiError(STATE_UNAVAILABLE, "velocity commands drive the walking policy: stand up or start it first")
        self.command[:] = velocity
        self.command_until = self.clock() + float(duration)
        self.say(f"sport SetVelocity {velocity} for {float(duration):g} s")
        return OK, None


    def _set_task_id(self, parameter: dict) -> tuple[int, None]:
        task = _integer(parameter.get("data"))
        if task not in TASK_ACTIONS:
            raise ApiError(BAD_PARAMETER, f"no arm task {task}: 0-1 wave hand, 2-3 shake hand and release")
        self.arm_action(TASK_ACTIONS[task])
        self.say(f"sport SetTaskId {task}")
        return OK, None


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _integer(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value != int(value):
        raise ApiError(BAD_PARAMETER, "expected a whole number in data")
    return int(value)
