"""Reading a recording back: each fixed-size channel as a NumPy structured array (a field per schema field),
the FSM's events, the metadata and attachments; a file cut short is read up to the cut. `check_recording`
refuses, in one line, what replay, view and dataset cannot use.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from mcap.exceptions import McapError
from mcap.records import Attachment, Channel, Message, Metadata, Schema
from mcap.stream_reader import StreamReader

from bessemer.runtime import camera_frames
from bessemer.runtime.camera_frames import Frames
from bessemer.runtime.recorder import EVENT_HEAD, ROS1_TYPES, TOKENS, TOKENS_HEAD
from policies.contract import PolicyContract
from robots.g1.variants import VARIANTS


class RecordingError(ValueError):
    """A file that is not a readable Bessemer recording; the message says which and what to do."""


@dataclass
class Recording:
    """A recording read back: per channel, one structured array with a field per schema field."""

    channels: dict[str, np.ndarray] = field(default_factory=dict)
    events: list[dict] = field(default_factory=list)
    schemas: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    """Topic -> (schema name, schema encoding, message encoding)."""
    metadata: dict[str, dict[str, str]] = field(default_factory=dict)
    """`bessemer` (what ran: variant, contract, stack version, timing), `sim` (a simulated run's world),
    `bessemer.summary` (written at the end: missing from a killed run)."""
    attachments: dict[str, bytes] = field(default_factory=dict)
    cameras: dict[str, Frames] = field(default_factory=dict)
    """Camera name (`/camera/NAME`) -> its frames."""
    tokens: list[tuple[int, float, np.ndarray]] = field(default_factory=list)
    """Each percept's audio codebook ids: (tick, time, ids), in order."""
    complete: bool = True
    """False when the file ends early (a killed run): everything before the cut is still here."""

    @property
    def contract(self) -> dict:
        return json.loads(self.metadata["bessemer"]["contract"])


def read_recording(path: Path) -> Recording:
    """Read every message, tolerating a file cut short; messages come back in file order."""
    recording = Recording()
    schemas: dict[int, Schema] = {}
    topics: dict[int, Channel] = {}
    raw: dict[str, list[bytes]] = {}
    records = 0
    with Path(path).open("rb") as f:
        try:
            for record in StreamReader(f).records:
                records += 1
                if isinstance(record, Schema):
                    schemas[record.id] = record
                elif isinstance(record, Channel):
                    topics[record.id] = record
                    schema = schemas[record.schema_id]
                    recording.schemas[record.topic] = (schema.name, schema.encoding, record.message_encoding)
                elif isinstance(record, Message):
                    raw.setdefault(topics[record.channel_id].topic, []).append(record.data)
                elif isinstance(record, Metadata):
                    recording.metadata[record.name] = dict(record.metadata)
                elif isinstance(record, Attachment):
                    recording.attachments[record.name] = record.data
        except (McapError, EOFError, struct.error, ValueError, KeyError):
            if records == 0:
                raise RecordingError(f"{path} is not an MCAP file (record one with --record FILE.mcap)") from None
            recording.complete = False
    kinds = {c.topic: schemas[c.schema_id] for c in topics.values()}
    dtypes = {t: _fixed_dtype(s.data.decode()) for t, s in kinds.items()
              if s.encoding == "ros1msg" and s.name.startswith("bessemer/")}
    for topic, messages in raw.items():
        if kinds[topic].name == camera_frames.SCHEMA_NAME and topic.startswith("/camera/"):
            recording.cameras[topic.removeprefix("/camera/")] = camera_frames.decode(messages)
        elif topic == "/fsm/events":
            recording.events = [_decode_event(m) for m in messages]
        elif topic == TOKENS:
            recording.tokens = [_decode_tokens(m) for m in messages]
        elif dtypes.get(topic) is not None:
            recording.channels[topic] = np.frombuffer(b"".join(messages), dtypes[topic])
    return recording


def _fixed_dtype(schema: str) -> np.dtype | None:
    """The dtype of a fixed-size message of our `ros1msg` schemas (scalars, then float64 arrays); None otherwise."""
    fields: list[tuple] = []
    for line in schema.splitlines():
        kind, name = line.split()
        if kind in ROS1_TYPES:
            fields.append((name, ROS1_TYPES[kind]))
        elif kind.startswith("float64[") and kind.endswith("]"):
            fields.append((name, "<f8", (int(kind[8:-1]),)))
        else:
            return None
    return np.dtype(fields)


def check_recording(path: Path) -> Recording:
    """`read_recording`, refusing what a replay, view or dataset cannot use, in one line."""
    recording = read_recording(path)
    if "bessemer" not in recording.metadata or "/robot/state" not in recording.channels:
        raise RecordingError(f"{path} is an MCAP file but not a Bessemer recording (no run metadata or robot "
                             f"state): record one with `bessemer sim --record FILE.mcap`")
    variant = recording.metadata["bessemer"]["variant"]
    if variant not in VARIANTS:
        raise RecordingError(f"{path} was recorded on a G1 {variant!r}, a variant this stack does not know "
                             f"({', '.join(VARIANTS)})")
    return recording


def check_contract(recording: Recording) -> PolicyContract:
    """This stack's contract with the recording's policy choices (its gait, its observation frames), if
    the recording was made under it; else a one-line refusal naming the field."""
    contract = PolicyContract()
    problem = contract.mismatch(recording.contract)
    if problem is not None:
        problem = problem.replace("checkpoint", "recording").replace("missing from the recording", "missing from it")
        raise RecordingError(f"the recording was made under another policy contract, differing in {problem}: "
                             f"use the Bessemer version that recorded it")
    return contract.with_choices_of(recording.contract)


def _decode_tokens(data: bytes) -> tuple[int, float, np.ndarray]:
    tick, now, count = TOKENS_HEAD.unpack_from(data)
    return tick, now, np.frombuffer(data, "<u2", count, TOKENS_HEAD.size)


def _decode_event(data: bytes) -> dict:
    tick, now, state = EVENT_HEAD.unpack_from(data)
    at = EVENT_HEAD.size
    fields = []
    for _ in range(2):
        (size,) = struct.unpack_from("<I", data, at)
        fields.append(data[at + 4: at + 4 + size].decode())
        at += 4 + size
    return {"tick": tick, "time": now, "state": state, "kind": fields[0], "text": fields[1]}
