"""Typed ZMQ messages between the stack's processes: a small versioned header and raw array frames.

A message is a fixed header (magic, version, type, stack id, sequence, timestamp, deadline) and
frames whose sizes the type fixes. Latest-only streams (state, simulated pose) are single-frame,
header and body together, because ZMQ's CONFLATE, which keeps a subscriber's queue at the newest
message even when the kernel holds a backlog, works on single-frame messages only. Decoding checks
everything and raises `WireError` with the reason; nothing is unpickled, nothing is trusted.
Timestamps and deadlines are CLOCK_MONOTONIC seconds, which all processes of one machine share.
"""

from __future__ import annotations

import struct
import time
import zlib
from dataclasses import dataclass, field
from enum import IntEnum
from typing import NamedTuple

import numpy as np

from perception.sound_classes import SOUND_CLASSES
from robots.g1.joints import NUM_MOTORS as G1_MOTORS
from robots.interface import RobotState

MAGIC = b"BS"
VERSION = 1
HEADER = struct.Struct("<2sBBIQdd")
NUM_MOTORS = G1_MOTORS
STATE_VALUES = RobotState(NUM_MOTORS).values.size
STATE_META = struct.Struct("<HBBI")
"""FSM state id, fault flag, stop request, robot tick. The stop request took a byte that was padding,
so the message keeps its size and version: a sender from before it says 0, no request."""
FSM_REQUEST = struct.Struct("<H")
FSM_REPLY = struct.Struct("<HB")
IMAGE_META = struct.Struct("<HHH")
MAX_TEXT = 4096
MAX_IMAGE_BYTES = 1920 * 1080 * 3
PERCEPT_META = struct.Struct("<BBxxffff")
"""Degraded flags, sound class (0: unknown, else 1 + its index in SOUND_CLASSES), sound bearing (deg),
target probability, target bearing (deg), target distance (m). The class took a byte that was padding,
so the message keeps its size and version: a sender from before it says 0, unknown."""
MAX_TOKENS = 4096


class MsgType(IntEnum):
    STATE = 1
    TARGETS = 2
    FSM_REQUEST = 3
    FSM_REPLY = 4
    IMAGE = 5
    HEARTBEAT = 6
    STATUS_REQUEST = 7
    STATUS_REPLY = 8
    SIM_POSE = 9
    """The simulator's full qpos, for rendering the simulated cameras in another process."""
    PERCEPT = 10
    """What the perception node made of its inputs: sound bearing, the target's detection, audio tokens."""


class WireError(ValueError):
    """A message that must not be used; the text says why."""

    @property
    def reason(self) -> str:
        """The kind of failure, without the message's particulars: a key for counting rejections."""
        return str(self).split(":")[0][:60]


def stack_id(name: str) -> int:
    """A 32-bit id of a stack name: messages of another stack on the same machine are refused."""
    return zlib.crc32(name.encode())


@dataclass(frozen=True)
class Header:
    type: MsgType
    stack: int
    seq: int
    stamp: float
    deadline: float


def header(kind: MsgType, stack: int, seq: int, deadline: float = 0.0, stamp: float | None = None) -> bytes:
    """`stamp`: when what the message reports was true, if not now (a frame rendered from an older pose)."""
    return HEADER.pack(MAGIC, VERSION, kind, stack, seq, time.monotonic() if stamp is None else stamp, deadline)


def parse_header(frames: list[bytes], stack: int) -> Header:
    if not frames or len(frames[0]) != HEADER.size:
        raise WireError(f"header of {len(frames[0]) if frames else 0} bytes, expected {HEADER.size}")
    magic, version, kind, sid, seq, stamp, deadline = HEADER.unpack(frames[0])
    if magic != MAGIC:
        raise WireError(f"not a Bessemer message (magic {magic!r})")
    if version != VERSION:
        raise WireError(f"wire version {version}, this build speaks {VERSION}")
    try:
        kind = MsgType(kind)
    except ValueError:
        raise WireError(f"unknown message type {kind}") from None
    if sid != stack:
        raise WireError(f"message for stack id {sid:#010x}, this is {stack:#010x}")
    return Header(kind, sid, seq, stamp, deadline)


SINGLE_FRAME = {MsgType.STATE, MsgType.SIM_POSE}
STATE_BODY = STATE_META.size + STATE_VALUES * 8
MAX_POSE_VALUES = 1024

_FRAME_SIZES: dict[MsgType, tuple[int, ...]] = {
    MsgType.TARGETS: (6 * NUM_MOTORS * 8,),
    MsgType.FSM_REQUEST: (FSM_REQUEST.size,),
    MsgType.STATUS_REQUEST: (),
}


def check_frames(kind: MsgType, frames: list[bytes]) -> None:
    """Frame count and sizes for the message's type (after the header)."""
    body = frames[1:]
    sizes = _FRAME_SIZES.get(kind)
    if sizes is not None:
        if tuple(len(f) for f in body) != sizes:
            raise WireError(f"{kind.name}: frames of {[len(f) for f in body]} bytes, expected {list(sizes)}")
    elif kind in (MsgType.FSM_REPLY,):
        if len(body) != 2 or len(body[0]) != FSM_REPLY.size or len(body[1]) > MAX_TEXT:
            raise WireError(f"{kind.name}: malformed frames {[len(f) for f in body]}")
    elif kind in (MsgType.HEARTBEAT, MsgType.STATUS_REPLY):
        if len(body) != 1 or len(body[0]) > MAX_TEXT:
            raise WireError(f"{kind.name}: malformed frames {[len(f) for f in body]}")
    elif kind in SINGLE_FRAME:
        raise WireError(f"{kind.name} must be a single-frame message")
    elif kind == MsgType.PERCEPT:
        if (len(body) != 3 or len(body[0]) != PERCEPT_META.size or len(body[1]) % 2
                or len(body[1]) > 2 * MAX_TOKENS or len(body[2]) > MAX_TEXT):
            raise WireError(f"PERCEPT: malformed frames {[len(f) for f in body]}")
    elif kind == MsgType.IMAGE:
        if len(body) != 2 or len(body[0]) != IMAGE_META.size:
            raise WireError(f"IMAGE: malformed frames {[len(f) for f in body]}")
        w, h, c = IMAGE_META.unpack(body[0])
        if w * h * c != len(body[1]) or len(body[1]) > MAX_IMAGE_BYTES:
            raise WireError(f"IMAGE: {len(body[1])} bytes for {w}x{h}x{c}")


def decode(frames: list[bytes], stack: int, expect: MsgType | None = None) -> Header:
    """Validate a received multipart message; raise WireError if any part is off."""
    h = parse_header(frames, stack)
    if expect is not None and h.type != expect:
        raise WireError(f"got {h.type.name}, expected {expect.name}")
    check_frames(h.type, frames)
    return h


def decode_single(frame: bytes, stack: int, expect: MsgType) -> tuple[Header, memoryview]:
    """Validate a single-frame message; returns its header and body."""
    h = parse_header([frame[: HEADER.size]], stack)
    if h.type != expect:
        raise WireError(f"got {h.type.name}, expected {expect.name}")
    body = memoryview(frame)[HEADER.size :]
    if expect == MsgType.STATE and len(body) != STATE_BODY:
        raise WireError(f"STATE: body of {len(body)} bytes, expected {STATE_BODY}")
    if expect == MsgType.SIM_POSE and (len(body) % 8 or len(body) > 8 * MAX_POSE_VALUES):
        raise WireError(f"SIM_POSE: body of {len(body)} bytes")
    return h, body


class StateBody(NamedTuple):
    fsm_id: int
    fault: bool
    stop_requested: bool
    """The FSM waits to take the robot back from a policy that can stand still: it should stop."""
    tick: int
    values: np.ndarray


def state_message(stack: int, seq: int, fsm_id: int, fault: bool, tick: int, values: np.ndarray,
                  stop_requested: bool = False) -> bytes:
    return (header(MsgType.STATE, stack, seq) + STATE_META.pack(fsm_id, fault, stop_requested, tick & 0xFFFFFFFF)
            + values.tobytes())


def parse_state(body: memoryview) -> StateBody:
    fsm_id, fault, stop, tick = STATE_META.unpack_from(body)
    return StateBody(fsm_id, bool(fault), bool(stop), tick,
                     np.frombuffer(body, dtype=np.float64, offset=STATE_META.size))


def pose_message(stack: int, seq: int, qpos: np.ndarray) -> bytes:
    return header(MsgType.SIM_POSE, stack, seq) + qpos.tobytes()


def targets_frames(stack: int, seq: int, deadline: float, values: np.ndarray) -> list[bytes]:
    """`values` is a JointCommand's (6, 29) array: q, dq, tau, kp, kd, enable."""
    return [header(MsgType.TARGETS, stack, seq, deadline), values.tobytes()]


AUDIO_DEGRADED, VISION_DEGRADED = 1, 2


@dataclass(frozen=True)
class Percept:
    """One perception update. NaN marks what is not known (no track yet, no camera); the flags say
    which input is degraded and `reasons` says why, in words an operator can act on."""

    sound_bearing_deg: float = float("nan")
    target_probability: float = float("nan")
    target_bearing_deg: float = float("nan")
    target_distance_m: float = float("nan")
    audio_degraded: bool = False
    vision_degraded: bool = False
    tokens: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint16))
    """Audio codebook ids since the previous update, oldest first."""
    reasons: str = ""
    sound_class: str = ""
    """What is sounding, one of `perception.sound_classes.SOUND_CLASSES`; "" while unknown."""

    @property
    def degraded(self) -> bool:
        return self.audio_degraded or self.vision_degraded


def percept_frames(stack: int, seq: int, p: Percept, stamp: float | None = None) -> list[bytes]:
    flags = AUDIO_DEGRADED * p.audio_degraded | VISION_DEGRADED * p.vision_degraded
    if p.sound_class and p.sound_class not in SOUND_CLASSES:
        raise ValueError(f"unknown sound class {p.sound_class!r}: one of {', '.join(SOUND_CLASSES)}, or empty")
    sound_class = SOUND_CLASSES.index(p.sound_class) + 1 if p.sound_class else 0
    meta = PERCEPT_META.pack(flags, sound_class, p.sound_bearing_deg, p.target_probability, p.target_bearing_deg,
                             p.target_distance_m)
    return [header(MsgType.PERCEPT, stack, seq, stamp=stamp), meta, np.asarray(p.tokens, np.uint16).tobytes(),
            p.reasons.encode()[:MAX_TEXT]]


def parse_percept(frames: list[bytes]) -> Percept:
    """The Percept of a PERCEPT message already checked by `decode`. A sound class this build does not
    know (a newer sender's) reads as unknown."""
    flags, sound_class, sound, probability, bearing, distance = PERCEPT_META.unpack(frames[1])
    try:
        reasons = frames[3].decode()
    except UnicodeDecodeError:
        raise WireError("PERCEPT: reasons are not UTF-8") from None
    return Percept(sound, probability, bearing, distance, bool(flags & AUDIO_DEGRADED),
                   bool(flags & VISION_DEGRADED), np.frombuffer(frames[2], np.uint16).copy(), reasons,
                   SOUND_CLASSES[sound_class - 1] if 0 < sound_class <= len(SOUND_CLASSES) else "")


def array(frame: bytes, shape: tuple[int, ...]) -> np.ndarray:
    return np.frombuffer(frame, dtype=np.float64).reshape(shape)
