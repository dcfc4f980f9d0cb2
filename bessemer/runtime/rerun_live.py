"""A running stack streamed to Rerun as it runs (`--rerun`): the robot moving, joints measured and
commanded, the FSM's states and the run's events, as `bessemer view` shows a recording.

The loop's thread only copies a sample (and the run's new event lines) into rings in shared memory every
few ticks (25 a second by default); a separate process (`python -m bessemer.runtime.rerun_live`) poses
the model and sends to Rerun. Posing and Rerun's Python encoding
take tens of microseconds per body, and in a thread of the loop's own process they held the GIL long
enough to cost the 500 Hz loop hundreds of missed deadlines in eight seconds (measured): in another
process they cost it nothing but the copy. A full ring drops the sample and counts it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from multiprocessing import resource_tracker, shared_memory
from pathlib import Path

import numpy as np

from bessemer.runtime.low_level import SimLowLevel
from bessemer.runtime.session import ScriptedRun
from robots.g1.joints import NUM_MOTORS
from robots.g1.poses import POSES


@dataclass(frozen=True)
class LiveConfig:
    rate_hz: float = 25.0
    capacity: int = 256
    """Samples the ring holds (10 s at 25 Hz) before they are dropped."""
    poll: float = 0.05
    events: int = 64
    """Event lines the ring holds; each keeps its first `event_bytes` bytes."""
    event_bytes: int = 240


HEAD, TAIL, EVENT_HEAD, EVENT_TAIL, STOP = range(5)
"""Slots of `counters`: the loop writes the heads and STOP, the sender the tails."""


def _fields(config: LiveConfig) -> dict[str, tuple[tuple[int, ...], str]]:
    n, cap = NUM_MOTORS, config.capacity
    return {"counters": ((5,), "<i8"), "time": ((cap,), "<f8"), "fsm": ((cap,), "<i8"), "q": ((cap, n), "<f8"),
            "command": ((cap, n), "<f8"), "pos": ((cap, 3), "<f8"), "quat": ((cap, 4), "<f8"),
            "event_time": ((config.events,), "<f8"), "event_size": ((config.events,), "<i8"),
            "event_text": ((config.events, config.event_bytes), "u1")}


class _Ring:
    """Arrays over one shared-memory block."""

    def __init__(self, config: LiveConfig, name: str | None = None) -> None:
        fields = _fields(config)
        sizes = {k: int(np.prod(shape)) * np.dtype(dtype).itemsize for k, (shape, dtype) in fields.items()}
        self.memory = shared_memory.SharedMemory(name=name, create=name is None, size=sum(sizes.values()))
        if name is not None:  # attached: the creator unlinks it, not this process's resource tracker
            resource_tracker.unregister(self.memory._name, "shared_memory")
        self.arrays: dict[str, np.ndarray] = {}
        offset = 0
        for key, (shape, dtype) in fields.items():
            self.arrays[key] = np.ndarray(shape, dtype, buffer=self.memory.buf, offset=offset)
            offset += sizes[key]


class LiveRerun:
    """`target`: "spawn" (open the Rerun viewer) or a `.rrd` path to stream into."""

    def __init__(self, run: ScriptedRun, target: str | Path = "spawn", config: LiveConfig = LiveConfig()) -> None:
        low = run.low
        self.config = config
        self._ring = _Ring(config)
        a = self._ring.arrays
        self._counters, self._time, self._fsm = a["counters"], a["time"], a["fsm"]
        self._q, self._command, self._pos, self._quat = a["q"], a["command"], a["pos"], a["quat"]
        self._event_time, self._event_size, self._event_text = a["event_time"], a["event_size"], a["event_text"]
        self._events_seen = 0
        self.dropped = 0
        self._pelvis = low.robot.data.qpos[:7] if isinstance(low, SimLowLevel) else None
        setup = {"memory": self._ring.memory.name, "config": asdict(self.config), "variant": low.robot.variant.name,
                 "t0": low.now, "target": str(target)}
        self._process = subprocess.Popen([sys.executable, "-m", "bessemer.runtime.rerun_live", json.dumps(setup)],
                                         stdin=subprocess.DEVNULL)
        run.every(max(1, round(1.0 / (config.rate_hz * low.config.loop.period))), self.sample)

    def sample(self, run: ScriptedRun) -> None:
        """On the loop's thread: copy, never pose or send."""
        low = run.low
        if len(run.events) != self._events_seen:
            for line in run.events[self._events_seen:]:
                self._event(low.now, line)
            self._events_seen = len(run.events)
        head, tail = int(self._counters[HEAD]), int(self._counters[TAIL])
        if head - tail >= self.config.capacity:
            self.dropped += 1
            return
        i = head % self.config.capacity
        state = low.controller.state
        self._time[i], self._fsm[i] = low.now, int(low.fsm.state)
        self._q[i], self._command[i] = state.q, low.controller.command.q
        if self._pelvis is not None:
            self._pos[i], self._quat[i] = self._pelvis[:3], self._pelvis[3:7]
        else:
            self._pos[i, 2], self._quat[i] = np.nan, state.quat
        self._counters[HEAD] = head + 1

    def _event(self, now: float, line: str) -> None:
        head, size = int(self._counters[EVENT_HEAD]), self.config.events
        if head - int(self._counters[EVENT_TAIL]) >= size:
            return
        data = line.encode()[: self.config.event_bytes]
        i = head % size
        self._event_time[i], self._event_size[i] = now, len(data)
        self._event_text[i, : len(data)] = np.frombuffer(data, np.uint8)
        self._counters[EVENT_HEAD] = head + 1

    def close(self) -> dict:
        """Let the sender send what is left and finish; return how many samples went and were dropped."""
        self._counters[STOP] = 1
        try:
            code = self._process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self._process.kill()
            code = self._process.wait()
        sent = int(self._counters[TAIL])
        del self._counters, self._time, self._fsm, self._q, self._command, self._pos, self._quat
        del self._event_time, self._event_size, self._event_text
        self._ring.arrays.clear()
        self._ring.memory.close()
        self._ring.memory.unlink()
        return {"sent": sent, "dropped": self.dropped, "sender_exit": code}


def serve(setup: dict) -> None:
    """The sender process: pose and send each new sample and event line; on STOP, send the rest and flush."""
    import rerun as rr

    from bessemer.runtime.rerun_view import TIMELINE, RobotPoser, blueprint, state_name
    from robots.g1.joints import joint_names
    from robots.g1.variants import get_variant

    config, variant, t0 = LiveConfig(**setup["config"]), setup["variant"], setup["t0"]
    ring = _Ring(config, setup["memory"])
    a = ring.arrays
    counters = a["counters"]
    stream = rr.RecordingStream("bessemer")
    if setup["target"] == "spawn":
        stream.spawn(default_blueprint=blueprint())
    else:
        stream.save(setup["target"], default_blueprint=blueprint())
    poser = RobotPoser(stream, variant)
    height = poser.robot.standing_height(POSES["stand"])
    active = np.flatnonzero(get_variant(variant).active_mask > 0)
    names = [joint_names()[i].removesuffix("_joint") for i in active]
    for name in names:
        stream.log(f"/joints/{name}/measured", rr.SeriesLines(names=f"{name} measured"), static=True)
        stream.log(f"/joints/{name}/commanded", rr.SeriesLines(names=f"{name} commanded"), static=True)
    last_state = None
    while True:
        stopping = bool(counters[STOP])
        head, tail = int(counters[HEAD]), int(counters[TAIL])
        rows = np.arange(tail, head) % config.capacity
        if len(rows):
            times = [rr.TimeColumn(TIMELINE, duration=a["time"][rows] - t0)]
            pos = a["pos"][rows].copy()
            pos[np.isnan(pos[:, 2])] = (0.0, 0.0, height)  # a robot reports no pelvis position: drawn standing
            poser.send(times, pos, a["quat"][rows], a["q"][rows])
            for j, name in zip(active, names):
                stream.send_columns(f"/joints/{name}/measured", indexes=times,
                                    columns=rr.Scalars.columns(scalars=a["q"][rows, j]))
                stream.send_columns(f"/joints/{name}/commanded", indexes=times,
                                    columns=rr.Scalars.columns(scalars=a["command"][rows, j]))
            for row in rows:
                state = int(a["fsm"][row])
                if state != last_state:
                    last_state = state
                    stream.set_time(TIMELINE, duration=float(a["time"][row]) - t0)
                    stream.log("/fsm/state", rr.StateChange(state=state_name(state)))
            counters[TAIL] = head
        head, tail = int(counters[EVENT_HEAD]), int(counters[EVENT_TAIL])
        for i in np.arange(tail, head) % config.events:
            line = a["event_text"][i, : a["event_size"][i]].tobytes().decode(errors="replace")
            stream.set_time(TIMELINE, duration=float(a["event_time"][i]) - t0)
            stream.log("/events", rr.TextLog(line, level="WARN" if "fault" in line else "INFO"))
        counters[EVENT_TAIL] = head
        if stopping:
            break
        time.sleep(config.poll)
    stream.flush()
    stream.disconnect()
    del a, counters
    ring.arrays.clear()
    ring.memory.close()


if __name__ == "__main__":
    serve(json.loads(sys.argv[1]))
