"""Unitree's `arm` service (G1ArmActionClient) and `rt/arm_sdk`, over the walking policy.

Both move the waist and arms through one `UpperBodyOverride` while the policy keeps the legs.
ExecuteAction (7106) plays a gesture (`robots.g1.gestures`) or releases the arms (99), taking the id
as Python's SDK sends it (`{"data": id}`) or as the C++ SDK does (`{"action_id": id}`); GetActionList
(7107) lists what Bessemer can play. Codes are Unitree's: 7400 `rt/arm_sdk` holds the arms, 7401 a
holding gesture runs (release it first), 7402 an id Bessemer does not play, 7404 the walking policy
is not driving. A `rt/arm_sdk` command (a LowCmd_ whose motor_cmd[29].q is the weight) is taken
while it keeps coming; half a second of silence hands the arms back to the policy.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from control.fsm import Fsm, FsmId
from control.upper_body import UPPER_BODY, UpperBodyOverride
from robots import unitree_hg as hg
from robots.dds_transport import DdsLink, idl_type, take_valid
from robots.g1 import joints
from robots.g1.gestures import GESTURES, RELEASE_ARM, Gesture
from robots.unitree_rpc import OK, ApiError, RpcServer

SERVICE, VERSION = "arm", "1.0.0.14"
EXECUTE_ACTION, GET_ACTION_LIST = 7106, 7107
ARM_SDK_OCCUPIED, ARM_HOLDING, INVALID_ACTION, NOT_IN_LOCOMOTION = 7400, 7401, 7402, 7404
ARM_SDK_TOPIC = "rt/arm_sdk"
WEIGHT_SLOT = 29
ARM_SDK_SILENCE = 0.5


class ArmActions:
    def __init__(self, link: DdsLink, fsm: Fsm, override: UpperBodyOverride, clock: Callable[[], float],
                 say: Callable[[str], None] = lambda line: None) -> None:
        self.fsm, self.override, self.clock, self.say = fsm, override, clock, say
        self.gesture: Gesture | None = None
        self.started_at = 0.0
        self.arm_sdk = ArmSdkInput(link, override, clock)
        self.server = RpcServer(link, SERVICE, VERSION, {EXECUTE_ACTION: self._execute, GET_ACTION_LIST: self._list})
        self._gains = np.stack([joints.HOLD_KP[UPPER_BODY], joints.HOLD_KD[UPPER_BODY]])

    def poll(self) -> None:
        self.server.poll()
        self.arm_sdk.poll()
        if self.fsm.state != FsmId.START:
            self.gesture = None
            if not self.arm_sdk.active:
                self.override.release()
        elif self.gesture is not None and not self.arm_sdk.active:
            self._play()

    def _play(self) -> None:
        t = self.clock() - self.started_at
        values = np.zeros((5, len(UPPER_BODY)))
        values[0] = self.gesture.pose(t)[UPPER_BODY]
        values[3:] = self._gains
        self.override.request(values, 1.0)
        if not self.gesture.holds and t >= self.gesture.seconds:
            self.gesture = None
            self.override.release()

    def _execute(self, parameter: dict) -> tuple[int, None]:
        action = parameter.get("data", parameter.get("action_id"))
        if isinstance(action, bool) or not isinstance(action, (int, float)) or not math.isfinite(action):
            raise ApiError(INVALID_ACTION, "ExecuteAction takes an action id (data or action_id)")
        self.execute(int(action))
        return OK, None

    def execute(self, action: int) -> None:
        """Play gesture `action` or release the arms (99); raises ApiError with Unitree's code when it may not."""
        if self.arm_sdk.active:
            raise ApiError(ARM_SDK_OCCUPIED, "rt/arm_sdk holds the arms")
        if action == RELEASE_ARM:
            self.gesture = None
            self.override.release()
            self.say("arm: released")
            return
        if action not in GESTURES:
            raise ApiError(INVALID_ACTION, f"no action {action}")
        if self.fsm.state != FsmId.START:
            raise ApiError(NOT_IN_LOCOMOTION, "arm actions play while the walking policy drives")
        if self.gesture is not None and self.gesture.holds:
            raise ApiError(ARM_HOLDING, "a holding gesture runs: release the arms (99) first")
        self.gesture, self.started_at = GESTURES[action], self.clock()
        self.say(f"arm: {self.gesture.name}")

    def _list(self, _: dict) -> tuple[int, list]:
        return OK, [{"id": RELEASE_ARM, "name": "release arm"}] + [{"id": i, "name": g.name} for i, g in GESTURES.items()]


class ArmSdkInput:
    """The newest valid `rt/arm_sdk` LowCmd_ (size, CRC and finiteness checked) becomes the override."""

    def __init__(self, link: DdsLink, override: UpperBodyOverride, clock: Callable[[], float]) -> None:
        self.override, self.clock = override, clock
        self._reader = link.reader(link.topic(ARM_SDK_TOPIC, idl_type(hg.LOW_CMD)))
        self._codec = hg.LowCmdCodec()
        self.bad_crc = self.bad_size = self.non_finite = self.received = 0
        self.last = -math.inf

    @property
    def active(self) -> bool:
        return self.clock() - self.last < ARM_SDK_SILENCE

    def poll(self) -> None:
        newest = None
        for codec in take_valid(self._reader, self._codec, self):
            mc = codec.message["motor_cmd"]
            values = np.stack([mc[f][UPPER_BODY] for f in ("q", "dq", "tau", "kp", "kd")]).astype(float)
            weight = float(mc["q"][WEIGHT_SLOT])
            if not (np.isfinite(values).all() and math.isfinite(weight)):
                self.non_finite += 1
                continue
            newest = values, weight
        if newest is not None:
            self.received += 1
            self.last = self.clock()
            self.override.request(*newest)
        elif self.last > -math.inf and not self.active:
            self.override.release()
            self.last = -math.inf
