"""Recording a run to MCAP: every tick's state, command and FSM state, the FSM's events, the policy's
observations, actions and targets, and in simulation the pelvis; metadata says what ran (variant, contract,
stack version, timing) and a simulated run carries MuJoCo's initial state, so a replay can start where it did.
What is recorded is the stack's low level (a scripted run, or the low-level node of `bessemer run`) or the
simulated robot that `bessemer bridge` serves (its state, the commands it applied and the pelvis; no FSM).

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

import json
import struct
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO, Callable, Protocol

import numpy as np
from mcap.writer import CompressionType, Writer

import bessemer
from bessemer.runtime import camera_frames
from bessemer.runtime.camera_frames import CameraFrames, FrameSource
from bessemer.runtime.low_level import LowLevel, SimLowLevel
from bessemer.runtime.session import ScriptedRun
from bessemer.wire import Percept
from perception.sound_classes import SOUND_CLASSES
from policies.contract import PolicyContract
from robots.interface import JointCommand, RobotState
from sim.robot import SimRobot

ROS1_TYPES = {"uint8": "u1", "int32": "<i4", "uint64": "<u8", "int64": "<i8", "float64": "<f8"}
INITIAL_STATE = "initial_state.mjstate"
"""Attachment of a simulated run: MuJoCo's integration state (`mjSTATE_INTEGRATION`, float64) before tick 0."""


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
    def storage(self) -> np.dtype:
        """The message's bytes with the arrays as one block, so the loop fills them with one copy; a reader
        gets every field by name from the schema instead."""
        floats = sum(size for _, size in self.arrays)
        block = [("values", "<f8", (floats,))] if floats else []
        return np.dtype([(n, ROS1_TYPES[k]) for n, k in self.header] + block)


STAMPED = (("tick", "uint64"), ("time", "float64"))
"""Every message begins with the loop's tick (counted from the first recorded one) and the stack's clock
in seconds: simulated time in `bessemer sim` and `bessemer bridge`, CLOCK_MONOTONIC in `bessemer deploy` and
`bessemer run`; log times are the same."""


PERCEPT = "/perception/percept"
"""Each percept as the task received it (NaN: not known). `sound_class` counts from 1 in the `perception`
metadata's `sound_classes`; 0 is unknown."""


TOKENS = "/perception/tokens"
TOKENS_SCHEMA = b"uint64 tick\nfloat64 time\nuint16[] tokens\n"
"""The audio codebook ids a percept brought (those since the one before), oldest first."""
TOKENS_HEAD = struct.Struct("<QdI")
MAX_QUEUED_PERCEPTS = 64
"""Percepts (6 s at 10 Hz) waiting for the writer before new ones are dropped."""


class PerceptSource(Protocol):
    """What perceives in the loop's thread: how many percepts so far, and the latest."""

    percepts: int
    last_percept: Percept | None


def layouts(num_motors: int, contract: PolicyContract | None = None) -> dict[str, Layout]:
    """`/sim/pelvis` (simulation only): the free joint after the tick's physics step (position, quaternion and
    linear velocity in the world, angular velocity in the pelvis frame, as MuJoCo keeps them) and whether the
    band pulls in the next step. `/policy/observation` and `/policy/action` share the targets' `seq`."""
    n = num_motors
    contract = contract or PolicyContract()
    rows = ("q", "dq", "tau", "kp", "kd", "enable")
    step = STAMPED + (("seq", "int64"),)
    return {
        "/robot/state": Layout("bessemer/RobotState", STAMPED + (("robot_tick", "uint64"), ("stamp", "float64")),
                               (("q", n), ("dq", n), ("tau_est", n), ("temperature", n), ("quat", 4), ("gyro", 3),
                                ("accel", 3), ("age", 1))),
        "/robot/command": Layout("bessemer/JointCommand", STAMPED, tuple((r, n) for r in rows)),
        "/fsm/state": Layout("bessemer/FsmState", STAMPED + (("state", "int32"), ("faulted", "uint8"))),
        "/policy/targets": Layout("bessemer/PolicyTargets", STAMPED + (("seq", "int64"), ("deadline", "float64")),
                                  tuple((r, n) for r in rows)),
        "/policy/observation": Layout("bessemer/PolicyObservation", step, (("observation", contract.obs_size),)),
        "/policy/action": Layout("bessemer/PolicyAction", step, (("action", contract.action_size),)),
        "/sim/pelvis": Layout("bessemer/SimPelvis", STAMPED + (("band", "uint8"),),
                              (("pos", 3), ("quat", 4), ("linvel", 3), ("angvel", 3))),
        PERCEPT: Layout("bessemer/Percept", STAMPED + (
            ("sound_bearing_deg", "float64"), ("target_probability", "float64"), ("target_bearing_deg", "float64"),
            ("target_distance_m", "float64"), ("sound_class", "uint8"), ("audio_degraded", "uint8"),
            ("vision_degraded", "uint8"))),
    }


EVENT_SCHEMA = b"uint64 tick\nfloat64 time\nint32 state\nstring kind\nstring text\n"
"""kind: `state` (the FSM changed state; text `FROM -> TO`), `fault` (text: the reason) or `run` (the run's own
event lines: requests, refusals, the band's release)."""
EVENT_HEAD = struct.Struct("<Qdi")
PER_TICK = ("/robot/state", "/robot/command", "/fsm/state")
BRIDGE_TICK = ("/robot/state", "/robot/command")
POLICY_STEP = ("/policy/targets", "/policy/observation", "/policy/action")


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
        self.num_motors = num_motors
        self.layouts: dict[str, Layout] = {}
        self._per_tick: tuple[str, ...] = PER_TICK
        self._ticks = self._targets = _Ring(0, {})
        self._columns: list[np.ndarray] = []
        """Each field as a column view: a column's item assignment costs a fraction of a record's field's."""
        self._pelvis_columns: list[np.ndarray] = []
        self._command_flat = np.zeros(0)
        """The controller's command rows as one flat view, set by `attach`."""
        self._qpos = self._qvel = np.zeros(0)
        self._sim: SimRobot | None = None
        self._state_of: Callable[[], RobotState] = lambda: RobotState(num_motors)
        self._fsm = None
        self._seat = None
        self._clock: Callable[[], float] = time.monotonic
        self._run_lines: list[str] = []
        """The run's own event lines, recorded as they are appended."""
        self._percept_source: PerceptSource | None = None
        self._percepts_seen = 0
        self._percepts = _Ring(0, {})
        self._tokens: deque[tuple[int, float, np.ndarray]] = deque()
        """Percepts are rare (10 Hz): their tokens, of any count, are copied into a queue, not a slot."""
        self.percepts_written = self.percepts_dropped = 0
        self._policy = None
        self._cameras: list[CameraFrames] = []
        self._events: list[tuple[int, float, int, str, str]] = []
        self._events_taken = 0
        self.ticks = 0
        """Ticks offered by the loop; those not `written` (a full ring in real time, a failed file) are dropped."""
        self.targets_dropped = 0
        self.error: str | None = None
        """Why the file could not be written (set by the writer thread); the ticks after it are dropped."""
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
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def attach(self, run: ScriptedRun, policy=None, cameras: dict[str, FrameSource] | None = None,
               percepts: PerceptSource | None = None) -> None:
        """Record `run` from its next tick; `policy` (one with a `contract`, an `observation` and a `last_action`,
        as `LearnedPolicy`) adds its observations and actions, `cameras` their new frames as `/camera/NAME`,
        `percepts` each new percept on `/perception/percept`. What ran goes first, as metadata."""
        self.attach_low_level(run.low, run.config.spawn_pose, run.events, policy, cameras, percepts)
        run.every(1, lambda _: self.sample())

    def attach_low_level(self, low: LowLevel, spawn_pose: str = "stand", events: list[str] | None = None,
                         policy=None, cameras: dict[str, FrameSource] | None = None,
                         percepts: PerceptSource | None = None) -> None:
        """Record `low` from the next `sample()`, called once a tick after it ticked (the low-level node);
        `events` is a list the run appends its event lines to."""
        if percepts is not None:
            self._percept_source, self._percepts_seen = percepts, percepts.percepts
            self._percepts = _Ring(MAX_QUEUED_PERCEPTS, {PERCEPT: layouts(self.num_motors)[PERCEPT].storage})
        self._fsm, self._seat, self._clock = low.fsm, low.policy, low.clock
        self._state_of = lambda: low.controller.state
        sim = low.robot if isinstance(low, SimLowLevel) else None
        self._start(low.controller.command, sim, PER_TICK, events if events is not None else [], policy, cameras, {
            "variant": low.robot.variant.name, "period_s": repr(low.config.loop.period),
            "mode": "realtime" if low.config.loop.realtime else "lockstep",
            "backend": "sim" if sim is not None else "robot"}, spawn_pose)

    def attach_bridge(self, robot: SimRobot, command: JointCommand, state: RobotState, period: float,
                      spawn_pose: str) -> None:
        """Record the simulated robot a bridge serves from the next `sample()`, called after each tick: `state`
        is what it read before the tick's step (as a controller reads it), `command` what it applied."""
        self._clock = lambda: robot.time
        self._state_of = lambda: state
        self._start(command, robot, BRIDGE_TICK, [], None, None, {
            "variant": robot.variant.name, "period_s": repr(period), "mode": "realtime", "backend": "bridge"},
            spawn_pose)

    def _start(self, command: JointCommand, sim: SimRobot | None, per_tick: tuple[str, ...], events: list[str],
               policy, cameras: dict[str, FrameSource] | None, ran: dict[str, str], spawn_pose: str) -> None:
        self._cameras = [CameraFrames(name, source) for name, source in (cameras or {}).items()]
        contract = getattr(policy, "contract", None) or PolicyContract()
        self.layouts = layouts(self.num_motors, contract)
        self._per_tick = per_tick + (("/sim/pelvis",) if sim is not None else ())
        self._run_lines = events
        self._policy = policy if policy is not None and hasattr(policy, "observation") else None
        step = () if self._fsm is None else POLICY_STEP if self._policy is not None else POLICY_STEP[:1]
        cap = self.config.capacity
        self._ticks = _Ring(cap, {c: self.layouts[c].storage for c in self._per_tick})
        self._targets = _Ring(max(16, cap // 8), {c: self.layouts[c].storage for c in step})
        state, command_ring = (self._ticks.arrays[c] for c in PER_TICK[:2])
        self._columns = [state[f] for f in ("tick", "time", "robot_tick", "stamp", "values")]
        self._columns += [command_ring[f] for f in ("tick", "time", "values")]
        if self._fsm is not None:
            fsm = self._ticks.arrays["/fsm/state"]
            self._columns += [fsm[f] for f in ("tick", "time", "state", "faulted")]
        self._command_flat = command.values.reshape(-1)
        self._write_header(contract, step, ran, sim, spawn_pose)
        if sim is not None:
            pelvis = self._ticks.arrays["/sim/pelvis"]
            self._pelvis_columns = [pelvis[f] for f in ("tick", "time", "band", "values")]
            self._qpos, self._qvel = sim.data.qpos[:7], sim.data.qvel[:6]
            self._sim = sim
        self._thread = threading.Thread(target=self._write_loop, name="recorder", daemon=True)
        self._thread.start()

    def _write_header(self, contract: PolicyContract, step: tuple[str, ...], ran: dict[str, str],
                      sim: SimRobot | None, spawn_pose: str) -> None:
        writer = self._writer
        for topic in self._per_tick + step + tuple(self._percepts.arrays):
            layout = self.layouts[topic]
            schema = writer.register_schema(layout.name, "ros1msg", layout.schema)
            self._channels[topic] = writer.register_channel(topic, "ros1", schema)
        schema = writer.register_schema("bessemer/FsmEvent", "ros1msg", EVENT_SCHEMA)
        self._channels["/fsm/events"] = writer.register_channel("/fsm/events", "ros1", schema)
        if self._cameras:
            schema = writer.register_schema(camera_frames.SCHEMA_NAME, "ros1msg", camera_frames.SCHEMA)
            for camera in self._cameras:
                self._channels[f"/camera/{camera.name}"] = writer.register_channel(f"/camera/{camera.name}", "ros1",
                                                                                   schema)
        writer.add_metadata("bessemer", {
            "stack_version": bessemer.__version__, "num_motors": str(self.num_motors), **ran,
            "started_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "policy": getattr(self._policy, "name", "") or "",
            "contract_hash": contract.hash(), "contract": json.dumps(contract.as_dict()),
        })
        if self._percepts.arrays:
            schema = writer.register_schema("bessemer/AudioTokens", "ros1msg", TOKENS_SCHEMA)
            self._channels[TOKENS] = writer.register_channel(TOKENS, "ros1", schema)
            writer.add_metadata("perception", {"sound_classes": json.dumps(SOUND_CLASSES)})
        if sim is not None:
            import mujoco

            world = {k: v for k, v in asdict(sim.config).items() if k != "mesh_dir"}
            writer.add_metadata("sim", {
                "world": json.dumps(world), "band": json.dumps(sim.band_engaged),
                "spawn_pose": spawn_pose, "mujoco_version": mujoco.__version__,
                "state_spec": str(int(mujoco.mjtState.mjSTATE_INTEGRATION)),
            })
            spec = mujoco.mjtState.mjSTATE_INTEGRATION
            state = np.zeros(mujoco.mj_stateSize(sim.model, spec))
            mujoco.mj_getState(sim.model, sim.data, state, spec)
            stamp = round(self._clock() * 1e9)
            writer.add_attachment(stamp, stamp, INITIAL_STATE, "application/octet-stream", state.tobytes())

    def sample(self) -> None:
        """On the loop's thread, every tick: copy, never serialise or write."""
        k, now = self.ticks, self._clock()
        self.ticks += 1
        self._note_events(k, now)
        for camera in self._cameras:
            camera.sample(k, now)
        source = self._percept_source
        if source is not None and source.percepts != self._percepts_seen:
            self._percepts_seen = source.percepts
            self._sample_percept(k, now, source.last_percept)
        seat = self._seat
        if seat is not None and seat.targets.seq != self._targets_seq:
            self._targets_seq = seat.targets.seq
            self._sample_targets(k, now, seat.targets.seq, seat.targets.deadline, seat.targets.values)
        ring = self._ticks
        i = ring.free_slot()
        while i is None and self.config.wait_when_full and self.error is None:
            time.sleep(0.0005)
            i = ring.free_slot()
        if i is None:
            return
        state, fsm = self._state_of(), self._fsm
        s_tick, s_time, s_robot_tick, s_stamp, s_values, c_tick, c_time, c_values = self._columns[:8]
        s_tick[i] = c_tick[i] = k
        s_time[i] = c_time[i] = now
        s_robot_tick[i], s_stamp[i] = state.tick, state.stamp
        s_values[i] = state.values
        c_values[i] = self._command_flat
        if fsm is not None:
            f_tick, f_time, f_state, f_faulted = self._columns[8:]
            f_tick[i], f_time[i], f_state[i], f_faulted[i] = k, now, fsm.state, fsm.fault is not None
        if self._pelvis_columns:
            p_tick, p_time, p_band, p_values = self._pelvis_columns
            p_tick[i], p_time[i], p_band[i] = k, now, self._sim.band_engaged
            p_values[i, :7] = self._qpos
            p_values[i, 7:] = self._qvel
        ring.head += 1

    def _note_events(self, k: int, now: float) -> None:
        fsm, lines = self._fsm, self._run_lines
        state = int(fsm.state) if fsm is not None else -1
        if fsm is not None and state != self._last_state:
            if self._last_state is not None:
                self._events.append((k, now, state, "state", f"{self._last_state} -> {state}"))
            self._last_state = state
        if fsm is not None and fsm.faults != self._faults:
            self._faults = fsm.faults
            self._events.append((k, now, state, "fault", str(fsm.last_fault)))
        if len(lines) != self._run_events:
            for line in lines[self._run_events:]:
                self._events.append((k, now, state, "run", line))
            self._run_events = len(lines)

    def _sample_targets(self, k: int, now: float, seq: int, deadline: float, values: np.ndarray) -> None:
        """The policy's new targets, and the observation and action they came from (the same tick, just before)."""
        ring = self._targets
        i = ring.free_slot()
        if i is None:
            self.targets_dropped += 1
            return
        t = ring.arrays["/policy/targets"][i]
        t["tick"], t["time"], t["seq"], t["deadline"] = k, now, seq, deadline
        t["values"] = values.ravel()
        if self._policy is not None:
            for topic, values in (("/policy/observation", self._policy.observation),
                                  ("/policy/action", self._policy.last_action)):
                r = ring.arrays[topic][i]
                r["tick"], r["time"], r["seq"] = k, now, seq
                r["values"] = values
        ring.head += 1

    def _sample_percept(self, k: int, now: float, p: Percept) -> None:
        ring = self._percepts
        i = ring.free_slot()
        if i is None:
            self.percepts_dropped += 1
            return
        r = ring.arrays[PERCEPT][i]
        r["tick"], r["time"] = k, now
        r["sound_bearing_deg"], r["target_probability"] = p.sound_bearing_deg, p.target_probability
        r["target_bearing_deg"], r["target_distance_m"] = p.target_bearing_deg, p.target_distance_m
        r["sound_class"] = SOUND_CLASSES.index(p.sound_class) + 1 if p.sound_class in SOUND_CLASSES else 0
        r["audio_degraded"], r["vision_degraded"] = p.audio_degraded, p.vision_degraded
        self._tokens.append((k, now, np.array(p.tokens, np.uint16)))
        ring.head += 1

    def _write_loop(self) -> None:
        """Until stopped, or until the file cannot be written (a full disk): then the loop goes on unrecorded,
        its ticks counted as dropped, and `error` says why."""
        while True:
            stopping = self._stop.is_set()
            try:
                wrote = self._drain()
            except OSError as exc:
                self.error = exc.strerror or str(exc)
                return
            if wrote:
                time.sleep(0)
            elif stopping:
                return
            else:
                self._stop.wait(self.config.poll)

    def _drain(self) -> bool:
        """Write up to one batch of ticks, with the events and targets up to them; True if any was pending."""
        ring, add = self._ticks, self._writer.add_message
        state = ring.arrays[PER_TICK[0]]
        start = ring.tail
        end = min(ring.head, start + self.config.batch)
        for j in range(start, end):
            i = j % ring.capacity
            tick = int(state[i]["tick"])
            self._write_events(tick)
            self.targets_written += self._write_ring(self._targets, tick)
            self._write_tokens(tick)
            self.percepts_written += self._write_ring(self._percepts, tick)
            self._write_frames(tick)
            for topic in self._per_tick:
                record = ring.arrays[topic][i]
                stamp = round(float(record["time"]) * 1e9)
                add(self._channels[topic], stamp, record.tobytes(), stamp, sequence=tick)
            ring.tail = j + 1
            self.written += 1
        if end == ring.head:
            self._write_events(None)
            self.targets_written += self._write_ring(self._targets, None)
            self._write_tokens(None)
            self.percepts_written += self._write_ring(self._percepts, None)
            self._write_frames(None)
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

    def _write_ring(self, ring: _Ring, upto: int | None) -> int:
        """Write a ring's entries up to tick `upto` (all if None), each on its topics; return how many."""
        if not ring.arrays:
            return 0
        first = next(iter(ring.arrays.values()))
        start = ring.tail
        while ring.tail < ring.head and (upto is None or first[ring.tail % ring.capacity]["tick"] <= upto):
            i = ring.tail % ring.capacity
            for topic, array in ring.arrays.items():
                record = array[i]
                stamp = round(float(record["time"]) * 1e9)
                self._writer.add_message(self._channels[topic], stamp, record.tobytes(), stamp,
                                         sequence=int(record["tick"]))
            ring.tail += 1
        return ring.tail - start

    def _write_tokens(self, upto: int | None) -> None:
        queue = self._tokens
        while queue and (upto is None or queue[0][0] <= upto):
            tick, now, tokens = queue.popleft()
            stamp = round(now * 1e9)
            data = TOKENS_HEAD.pack(tick, now, len(tokens)) + tokens.astype("<u2").tobytes()
            self._writer.add_message(self._channels[TOKENS], stamp, data, stamp, sequence=tick)

    def _write_frames(self, upto: int | None) -> None:
        for camera in self._cameras:
            channel = self._channels[f"/camera/{camera.name}"]
            for tick, now, data in camera.take(upto):
                stamp = round(now * 1e9)
                self._writer.add_message(channel, stamp, data, stamp, sequence=tick)

    def close(self) -> dict:
        """Write what is queued, finish the file (its index and summary); return the summary's entry."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        summary = {"path": str(self.path), "ticks": self.ticks, "written": self.written,
                   "dropped": self.ticks - self.written, "events": self.events_written,
                   "policy_targets": self.targets_written, "policy_targets_dropped": self.targets_dropped}
        for camera in self._cameras:
            summary[f"camera_{camera.name}"] = {"frames": camera.written, "dropped": camera.dropped}
        if self._percept_source is not None:
            summary["percepts"] = {"written": self.percepts_written, "dropped": self.percepts_dropped}
        try:
            if self.error is None:
                self._writer.add_metadata("bessemer.summary",
                                          {k: json.dumps(v) for k, v in summary.items() if k != "path"})
                self._writer.finish()
            self._file.close()
        except OSError as exc:
            self.error = exc.strerror or str(exc)
        if self.error is not None:
            summary["error"] = self.error
        return {**summary, "bytes": self.path.stat().st_size}


def _ros1_string(text: str) -> bytes:
    data = text.encode()
    return struct.pack("<I", len(data)) + data
