"""The G1 remote emulated from the keyboard of the terminal running `bessemer bridge`.

Each key press holds its buttons for a short while, as a thumb on the real remote would; the
terminal is put in cbreak mode for the run and restored after.
"""

from __future__ import annotations

import os
import sys
import termios
import threading
import time
import tty

KEYMAP: dict[str, frozenset[str]] = {
    "a": frozenset({"A"}), "b": frozenset({"B"}), "x": frozenset({"X"}), "y": frozenset({"Y"}),
    "s": frozenset({"start"}), "e": frozenset({"select"}), "d": frozenset({"L2", "B"}),
    "w": frozenset({"up"}), "z": frozenset({"down"}), "q": frozenset({"left"}), "r": frozenset({"right"}),
}
HOLD_SECONDS = 0.3
HELP = "keys: s start (stand up), d L2+B (damp), a/b/x/y, e select, w/z/q/r up/down/left/right"


class KeyboardRemote:
    def __init__(self) -> None:
        self._fd = sys.stdin.fileno()
        self._saved = termios.tcgetattr(self._fd)
        self._pressed: frozenset[str] = frozenset()
        self._until = 0.0
        self._lock = threading.Lock()
        tty.setcbreak(self._fd)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            char = os.read(self._fd, 1).decode(errors="ignore").lower()
            if char in KEYMAP:
                with self._lock:
                    self._pressed, self._until = KEYMAP[char], time.monotonic() + HOLD_SECONDS

    def held(self) -> frozenset[str]:
        with self._lock:
            return self._pressed if time.monotonic() < self._until else frozenset()

    def close(self) -> None:
        termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
