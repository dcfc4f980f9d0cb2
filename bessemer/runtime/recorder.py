"""Recording a run to MCAP: every tick's state, command and FSM state, the FSM's events, the policy's targets.

The loop only copies each tick's arrays into preallocated ring slots (no I/O, no lock, no allocation
beyond the rare event); a writer thread serialises and writes them. In real time a full ring drops the
tick and counts it, so recording never stalls the loop; in lock-step nothing is late, so the loop
waits for room instead and every tick is kept.

Messages are ROS1-serialised (`ros1msg` schemas): little-endian fixed-size fields, so a tick's message
is its arrays' bytes behind a small header. Foxglove and the `mcap` CLI decode them without our code,
and the writer spends ~13 us a tick where JSON costs ~120 us of Python holding the GIL. Chunks are
small, LZ4-compressed (zstd takes ~300 us of GIL per chunk, which showed in the loop's p99 period
error; LZ4 ~10 us for 20% more bytes) and flushed as they close, so a killed process leaves a file
readable up to the last chunk.
"""

from __future__ import annotations

import struct
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
from mcap.exceptions import McapError
from mcap.records import Channel, Message, Schema
from mcap.stream_reader import StreamReader
from mcap.writer import CompressionType, Writer

from bessemer.runtime.session import ScriptedRun

ROS1_TYPES = {"uint8": "u1", "int32": "<i4", "uint64": "<u8", "int64": "<i8", "float64": "<f8"}


@dataclass(frozen=True)
class Layout:
    """A fixed-size ROS1 message: header scalars, then float64 arrays packed as the stack packs them."""

    name: str
    header: tuple[tuple[str, str], ...]
    arrays: tuple[tuple[str, int], ...] = ()

    @property
    def schema(self) -> bytes:
        lines = [f"{kind} {name}" for name, kind in self.header]
        lines += [f"float64[{size}] {name}" for name, size in self.arrays]
        return ("\n".join(lines) + "\n").encode()

    @property
    def dtype(self) -> np.dtype:
        """Every field by name: what a reader gets."""
        return np.dtype([(n, ROS1_TYPES[k]) for n, k in self.header] + [(n, "<f8", (s,)) for n, s in self.arrays])

    @property
    def storage(self) -> np.dtype:
        """The same bytes with the arrays as one block, so the loop fills them with one copy."""
        floats = sum(size for _, size in self.arrays)
        block = [("values", "<f8", (floats,))] if floats else []
        return np.dtype([(n, ROS1_TYPES[k]) for n, k in self.header] + block)


STAMPED = (("tick", "uint64"), ("time", "float64"))
"""Every message begins with the loop's tick (counted from the first recorded one) and the stack's clock
in seconds: simulated time in `bessemer sim`, CLOCK_MONOTONIC in `bessemer deploy`; log times are the same."""


def layouts(num_motors: int) -> dict[str, Layout]:
    n = num_motors
    rows = ("q", "dq", "tau", "kp", "kd", "enable")
    return {
        "/robot/state": Layout("bessemer/RobotState", STAMPED + (("robot_tick", "uint64"), ("stamp", "float64")),
                               (("q", n), ("dq", n), ("tau_est", n), ("temperature", n), ("quat", 4), ("gyro", 3),
                                ("accel", 3), ("age", 1))),
        "/robot/command": Layout("bessemer/JointCommand", STAMPED, tuple((r, n) for r in rows)),
        "/fsm/state": Layout("bessemer/FsmState", STAMPED + (("state", "int32"), ("faulted", "uint8"))),
        "/policy/targets": Layout("bessemer/PolicyTargets", STAMPED + (("seq", "int64"), ("deadline", "float64")),
                                  tuple((r, n) for r in rows)),
    }


EVENT_SCHEMA = b"uint64 tick\nfloat64 time\nint32 state\nstring kind\nstring text\n"
"""kind: `state` (the FSM changed state; text `FROM -> TO`), `fault` (text: the reason) or `run` (the run's own
event lines: requests, refusals, the band's release)."""
EVENT_HEAD = struct.Struct("<Qdi")
PER_TICK = ("/robot/state", "/robot/command", "/fsm/state")


@dataclass(frozen=True)
class RecorderConfig:
    capacity: int = 1024
    """Ticks the ring holds (2 s at 500 Hz) before real-time ticks are dropped."""
    wait_when_full: bool = False
    """Lock-step: wait for the writer instead of dropping, as no deadline is at stake."""
    chunk_bytes: int = 128 * 1024
    """At most this much (~50 ticks, 0.1 s) is lost when the process is killed."""
    batch: int = 8
    """Ticks the writer serialises (~0.1 ms) before it lets the loop's thread have the GIL again: less than
    the loop's 0.3 ms spin guard, so a loop that wakes meanwhile still starts its tick on time."""
    poll: float = 0.01


class _Ring:
    """Single-producer, single-consumer slots; the GIL orders the producer's copy before its `head` bump."""

    def __init__(self, capacity: int, dtypes: dict[str, np.dtype]) -> None:
        self.capacity = capacity
        self.arrays = {name: np.zeros(capacity, dtype) for name, dtype in dtypes.items()}
        self.head = 0
        self.tail = 0

    def free_slot(self) -> int | None:
        return None if self.head - self.tail >= self.capacity else self.head % self.capacity


class Recorder:
    """`attach(run)` records every tick of `run` into `path`; `close()` finishes the file."""

    def __init__(self, path: Path, num_motors: int, config: RecorderConfig | None = None) -> None:
        self.path = Path(path)
        self.config = config or RecorderConfig()
        self.layouts = layouts(num_motors)
        cap = self.config.capacity
        self._ticks = _Ring(cap, {c: self.layouts[c].storage for c in PER_TICK})
        self._targets = _Ring(max(16, cap // 8), {"/policy/targets": self.layouts["/policy/targets"].storage})
        self._state, self._command, self._fsm = (self._ticks.arrays[c] for c in PER_TICK)
        self._columns = [self._state[f] for f in ("tick", "time", "robot_tick", "stamp", "values")]
        self._columns += [self._command[f] for f in ("tick", "time", "values")]
        self._columns += [self._fsm[f] for f in ("tick", "time", "state", "faulted")]
        """Each field as a column view: a column's item assignment costs a fraction of a record's field's."""
        self._command_flat = np.zeros(0)
        """The controller's command rows as one flat view, set by `attach`."""
        self._events: list[tuple[int, float, int, str, str]] = []
        self._events_taken = 0
        self.ticks = 0
        """Ticks offered by the loop; with `dropped`, what the summary reports."""
        self.dropped = 0
        self.written = 0
        self.targets_written = 0
        self.events_written = 0
        self._last_state: int | None = None
        self._faults = 0
        self._run_events = 0
        self._targets_seq = -1
        self._file: BinaryIO = self.path.open("wb")
        self._writer = Writer(self._file, chunk_size=self.config.chunk_bytes, compression=CompressionType.LZ4)
        self._writer.start(profile="", library="bessemer")
        self._channels: dict[str, int] = {}
        for topic, layout in self.layouts.items():
            schema = self._writer.register_schema(layout.name, "ros1msg", layout.schema)
            self._channels[topic] = self._writer.register_channel(topic, "ros1", schema)
        schema = self._writer.register_schema("bessemer/FsmEvent", "ros1msg", EVENT_SCHEMA)
        self._channels["/fsm/events"] = self._writer.register_channel("/fsm/events", "ros1", schema)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._write_loop, name="recorder", daemon=True)
        self._thread.start()

    def attach(self, run: ScriptedRun) -> None:
        self._command_flat = run.low.controller.command.values.reshape(-1)
        run.every(1, self.sample)

    def sample(self, run: ScriptedRun) -> None:
        """On the loop's thread, every tick: copy, never serialise or write."""
        low = run.low
        k, now = self.ticks, low.now
        self.ticks += 1
        self._note_events(run, k, now)
        seat = low.policy
        if seat is not None and seat.targets.seq != self._targets_seq:
            self._targets_seq = seat.targets.seq
            self._sample_targets(k, now, seat.targets.seq, seat.targets.deadline, seat.targets.values)
        ring = self._ticks
        i = ring.free_slot()
        while i is None and self.config.wait_when_full:
            time.sleep(0.0005)
            i = ring.free_slot()
        if i is None:
            self.dropped += 1
            return
        state, fsm = low.controller.state, low.fsm
        s_tick, s_time, s_robot_tick, s_stamp, s_values, c_tick, c_time, c_values, f_tick, f_time, f_state, \
            f_faulted = self._columns
        s_tick[i] = c_tick[i] = f_tick[i] = k
        s_time[i] = c_time[i] = f_time[i] = now
        s_robot_tick[i], s_stamp[i], f_state[i], f_faulted[i] = state.tick, state.stamp, fsm.state, fsm.fault is not None
        s_values[i] = state.values
        c_values[i] = self._command_flat
        ring.head += 1

    def _note_events(self, run: ScriptedRun, k: int, now: float) -> None:
        fsm = run.low.fsm
        state = int(fsm.state)
        if state != self._last_state:
            if self._last_state is not None:
                self._events.append((k, now, state, "state", f"{self._last_state} -> {state}"))
            self._last_state = state
        if fsm.faults != self._faults:
            self._faults = fsm.faults
            self._events.append((k, now, state, "fault", str(fsm.last_fault)))
        if len(run.events) != self._run_events:
            for line in run.events[self._run_events:]:
                self._events.append((k, now, state, "run", line))
            self._run_events = len(run.events)

    def _sample_targets(self, k: int, now: float, seq: int, deadline: float, values: np.ndarray) -> None:
        ring = self._targets
        i = ring.free_slot()
        if i is None:
            self.dropped += 1
            return
        t = ring.arrays["/policy/targets"][i]
        t["tick"], t["time"], t["seq"], t["deadline"] = k, now, seq, deadline
        t["values"] = values.ravel()
        ring.head += 1

    def _write_loop(self) -> None:
        while True:
            stopping = self._stop.is_set()
            if self._drain():
                time.sleep(0)
            elif stopping:
                return
            else:
                self._stop.wait(self.config.poll)

    def _drain(self) -> bool:
        """Write up to one batch of ticks, with the events and targets up to them; True if any was pending."""
        ring, add = self._ticks, self._writer.add_message
        start = ring.tail
        end = min(ring.head, start + self.config.batch)
        for j in range(start, end):
            i = j % ring.capacity
            tick = int(self._state[i]["tick"])
            self._write_events(tick)
            self._write_targets(tick)
            for topic in PER_TICK:
                record = ring.arrays[topic][i]
                stamp = round(float(record["time"]) * 1e9)
                add(self._channels[topic], stamp, record.tobytes(), stamp, sequence=tick)
            ring.tail = j + 1
            self.written += 1
        if end == ring.head:
            self._write_events(None)
            self._write_targets(None)
        self._file.flush()
        return end > start

    def _write_events(self, upto: int | None) -> None:
        pending = self._events
        while self._events_taken < len(pending) and (upto is None or pending[self._events_taken][0] <= upto):
            tick, now, state, kind, text = pending[self._events_taken]
            data = EVENT_HEAD.pack(tick, now, state) + _ros1_string(kind) + _ros1_string(text)
            stamp = round(now * 1e9)
            self._writer.add_message(self._channels["/fsm/events"], stamp, data, stamp, sequence=tick)
            self._events_taken += 1
            self.events_written += 1

    def _write_targets(self, upto: int | None) -> None:
        ring = self._targets
        array = ring.arrays["/policy/targets"]
        while ring.tail < ring.head and (upto is None or array[ring.tail % ring.capacity]["tick"] <= upto):
            record = array[ring.tail % ring.capacity]
            stamp = round(float(record["time"]) * 1e9)
            self._writer.add_message(self._channels["/policy/targets"], stamp, record.tobytes(), stamp,
                                     sequence=int(record["tick"]))
            ring.tail += 1
            self.targets_written += 1

    def close(self) -> dict:
        """Write what is queued, finish the file (its index and summary); return the summary's entry."""
        self._stop.set()
        self._thread.join()
        self._writer.finish()
        self._file.close()
        return {"path": str(self.path), "ticks": self.ticks, "written": self.written, "dropped": self.dropped,
                "events": self.events_written, "policy_targets": self.targets_written,
                "bytes": self.path.stat().st_size}


def _ros1_string(text: str) -> bytes:
    data = text.encode()
    return struct.pack("<I", len(data)) + data


@dataclass
class Recording:
    """A recording read back: per channel, one structured array with a field per schema field."""

    channels: dict[str, np.ndarray] = field(default_factory=dict)
    events: list[dict] = field(default_factory=list)
    schemas: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    """Topic -> (schema name, schema encoding, message encoding)."""
    complete: bool = True
    """False when the file ends early (a killed run): everything before the cut is still here."""


def read_recording(path: Path) -> Recording:
    """Read every message, tolerating a file cut short; messages come back in file order."""
    recording = Recording()
    schemas: dict[int, Schema] = {}
    topics: dict[int, Channel] = {}
    raw: dict[str, list[bytes]] = {}
    with Path(path).open("rb") as f:
        try:
            for record in StreamReader(f).records:
                if isinstance(record, Schema):
                    schemas[record.id] = record
                elif isinstance(record, Channel):
                    topics[record.id] = record
                    schema = schemas[record.schema_id]
                    recording.schemas[record.topic] = (schema.name, schema.encoding, record.message_encoding)
                elif isinstance(record, Message):
                    raw.setdefault(topics[record.channel_id].topic, []).append(record.data)
        except (McapError, EOFError, struct.error, ValueError):
            recording.complete = False
    num_motors = _motors_of(schemas)
    known = layouts(num_motors) if num_motors else {}
    for topic, messages in raw.items():
        if topic == "/fsm/events":
            recording.events = [_decode_event(m) for m in messages]
        elif topic in known:
            recording.channels[topic] = np.frombuffer(b"".join(messages), known[topic].dtype)
    return recording


def _motors_of(schemas: dict[int, Schema]) -> int | None:
    for schema in schemas.values():
        if schema.name == "bessemer/JointCommand":
            first = schema.data.decode().splitlines()[len(STAMPED)]
            return int(first.split("[")[1].split("]")[0])
    return None


def _decode_event(data: bytes) -> dict:
    tick, now, state = EVENT_HEAD.unpack_from(data)
    at = EVENT_HEAD.size
    fields = []
    for _ in range(2):
        (size,) = struct.unpack_from("<I", data, at)
        fields.append(data[at + 4: at + 4 + size].decode())
        at += 4 + size
    return {"tick": tick, "time": now, "state": state, "kind": fields[0], "text": fields[1]}
