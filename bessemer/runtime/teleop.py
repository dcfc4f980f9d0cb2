"""Keyboard teleoperation of the upper body while the walking policy keeps the legs.

Each key press changes a request made the way an `rt/arm_sdk` message makes it (rows q, dq, tau, kp, kd
for the waist and arms, and a weight). In the simulator's own process it goes to the same
`UpperBodyOverride` that Unitree's arm_sdk input feeds; beside a robot (`bessemer deploy`, real or
the bridge) `ArmSdkPublisher` sends it as `rt/arm_sdk` itself. Either way the override's blending and
speed limits shape what a user does with the keys exactly as they shape an arm_sdk client's. Walking
keys set an in-process policy's velocity command inside the trained ranges. Presses come from the
terminal, or from a script of presses at run times (headless runs, tests).
"""

from __future__ import annotations

import os
import queue
import sys
import termios
import threading
import tty
from collections.abc import Callable, Iterable

import numpy as np

from bessemer.runtime.arm_service import ARM_SDK_TOPIC, WEIGHT_SLOT
from control.upper_body import UPPER_BODY
from policies.contract import COMMAND_RANGES
from robots import unitree_hg as hg
from robots.dds_transport import DdsLink, idl_type, write_bytes
from robots.g1 import joints
from robots.g1.poses import POSES

JOINT_STEP = 0.1
"""rad a `+` or `-` moves the selected joint's target."""
SPEED_STEP = (0.1, 0.1, 0.2)
"""Forward, lateral (m/s) and yaw rate (rad/s) a walking key changes the command by."""
FIRST_JOINT = 3
"""Selection starts at the left shoulder pitch (UPPER_BODY[3]): waist first, then the left and right arms."""
KEYS = {
    "t": "take or release the arms (the override's weight 1 or 0)",
    "]": "select the next upper-body joint", "[": "select the previous one",
    "+": f"raise the selected joint's target by {JOINT_STEP} rad", "-": "lower it",
    "0": "upper-body targets back to the stand pose",
    "w": "walk faster forward", "s": "slower / backward", "a": "turn left", "d": "turn right",
    "x": "stop walking (zero command)", "q": "quit",
}
WALKING_KEYS = "wsadx"


def help_line(walking: bool) -> str:
    return "keys: " + ", ".join(f"{k} {v}" for k, v in KEYS.items() if walking or k not in WALKING_KEYS)


class UpperBodyTeleop:
    """Turns key presses into arm_sdk-style requests, given to `request(values, weight)`, and, where a
    policy runs in this process, a velocity command in `command`."""

    def __init__(self, request: Callable[[np.ndarray, float], None], command: np.ndarray | None = None) -> None:
        self.send, self.command = request, command
        self.names = [joints.joint_names()[i].removesuffix("_joint") for i in UPPER_BODY]
        lower, upper, _, _ = joints.limits()
        self.lower, self.upper = lower[UPPER_BODY], upper[UPPER_BODY]
        self.request = np.zeros((5, len(UPPER_BODY)))
        self.request[0] = POSES["stand"][UPPER_BODY]
        self.request[3], self.request[4] = joints.HOLD_KP[UPPER_BODY], joints.HOLD_KD[UPPER_BODY]
        self.weight = 0.0
        self.selected = FIRST_JOINT
        self.quit = False

    def press(self, key: str) -> str | None:
        """Apply one key; return what it did (an event line), or None for a key that means nothing."""
        if key == "t":
            self.weight = 0.0 if self.weight > 0.0 else 1.0
            said = "arms taken" if self.weight else "arms handed back to the policy"
        elif key in "[]":
            self.selected = (self.selected + (1 if key == "]" else -1)) % len(UPPER_BODY)
            said = f"selected {self.names[self.selected]}"
        elif key in "+-=":
            i = self.selected
            step = -JOINT_STEP if key == "-" else JOINT_STEP
            self.request[0, i] = float(np.clip(self.request[0, i] + step, self.lower[i], self.upper[i]))
            said = f"{self.names[i]} target {self.request[0, i]:+.2f} rad"
        elif key == "0":
            self.request[0] = POSES["stand"][UPPER_BODY]
            said = "upper body back to the stand pose"
        elif key in WALKING_KEYS and self.command is None:
            return None
        elif key in "wsad":
            axis, sign = {"w": (0, 1), "s": (0, -1), "a": (2, 1), "d": (2, -1)}[key]
            low, high = COMMAND_RANGES[axis]
            self.command[axis] = float(np.clip(round(self.command[axis] + sign * SPEED_STEP[axis], 3), low, high))
            said = f"walk command {self.command[0]:+.1f} m/s, {self.command[2]:+.1f} rad/s"
        elif key == "x":
            self.command[:] = 0.0
            said = "walk command zero"
        elif key == "q":
            self.quit = True
            said = "quit"
        else:
            return None
        self.send(self.request, self.weight)
        return f"teleop: {said}"


class ArmSdkPublisher:
    """The request as Unitree's `rt/arm_sdk`: a signed LowCmd_ with the waist and arm rows and the weight in
    motor_cmd[29].q, sent at every `send` while the arms are taken; half a second of silence hands them back."""

    rate_hz = 50.0

    def __init__(self, link: DdsLink) -> None:
        self._writer = link.writer(link.topic(ARM_SDK_TOPIC, idl_type(hg.LOW_CMD)))
        self._codec = hg.LowCmdCodec()
        self.values = np.zeros((5, len(UPPER_BODY)))
        self.weight = 0.0
        self.sent = 0

    def request(self, values: np.ndarray, weight: float) -> None:
        np.copyto(self.values, values)
        self.weight = weight

    def send(self) -> None:
        if self.weight <= 0.0:
            return
        motors = self._codec.message["motor_cmd"]
        for row, name in enumerate(("q", "dq", "tau", "kp", "kd")):
            motors[name][UPPER_BODY] = self.values[row]
        motors["q"][WEIGHT_SLOT] = self.weight
        write_bytes(self._writer, self._codec.encode())
        self.sent += 1


class ScriptedKeys:
    """Presses at given stack times: [(seconds, keys)], each key of `keys` pressed in turn."""

    def __init__(self, script: Iterable[tuple[float, str]]) -> None:
        self._script = sorted(script)
        self._next = 0

    def due(self, now: float) -> str:
        keys = ""
        while self._next < len(self._script) and self._script[self._next][0] <= now:
            keys += self._script[self._next][1]
            self._next += 1
        return keys

    @property
    def done(self) -> bool:
        return self._next == len(self._script)

    def close(self) -> None:
        """Nothing to restore."""


class TerminalKeys:
    """Keys typed in this terminal, read by a thread in cbreak mode (restored by `close`)."""

    def __init__(self) -> None:
        self._fd = sys.stdin.fileno()
        self._saved = termios.tcgetattr(self._fd)
        self._keys: queue.SimpleQueue[str] = queue.SimpleQueue()
        tty.setcbreak(self._fd)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            self._keys.put(os.read(self._fd, 1).decode(errors="ignore"))

    def due(self, now: float) -> str:
        keys = ""
        while not self._keys.empty():
            keys += self._keys.get()
        return keys

    done = False

    def close(self) -> None:
        termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
