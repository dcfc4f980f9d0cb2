"""A camera's frames in a recording: JPEG `sensor_msgs/CompressedImage` messages, at the camera's own rate.

The loop's thread only notices a new frame (its source replaced the array) and copies it into one of a
few preallocated slots; the writer's thread encodes it (Pillow, ~1 ms) and writes it. A frame that finds
every slot full is dropped and counted. The ROS 1 message is what Foxglove's image panel and the `mcap`
tools read as a compressed image: the header's `seq` is the loop's tick, its `stamp` the stack's time.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from PIL import Image

SCHEMA_NAME = "sensor_msgs/CompressedImage"
SCHEMA = (b"std_msgs/Header header\nstring format\nuint8[] data\n"
          b"================================================================================\n"
          b"MSG: std_msgs/Header\nuint32 seq\ntime stamp\nstring frame_id\n")
JPEG_QUALITY = 90
SLOTS = 8


class FrameSource(Protocol):
    frame: np.ndarray | None
    """The newest RGB frame (H, W, 3 uint8); a new one is a new array."""


class CameraFrames:
    def __init__(self, name: str, source: FrameSource, slots: int = SLOTS) -> None:
        self.name, self.source, self.slots = name, source, slots
        self._last: np.ndarray | None = source.frame
        self._frames: np.ndarray | None = None
        self._stamps: list[tuple[int, float]] = [(0, 0.0)] * slots
        self.head = self.tail = 0
        self.dropped = self.written = 0

    def sample(self, tick: int, now: float) -> None:
        """On the loop's thread: copy the source's frame if it is new."""
        frame = self.source.frame
        if frame is None or frame is self._last:
            return
        self._last = frame
        if self.head - self.tail >= self.slots:
            self.dropped += 1
            return
        if self._frames is None:
            self._frames = np.zeros((self.slots, *frame.shape), np.uint8)
        i = self.head % self.slots
        self._frames[i] = frame
        self._stamps[i] = (tick, now)
        self.head += 1

    def take(self, upto: int | None) -> list[tuple[int, float, bytes]]:
        """On the writer's thread: the frames sampled up to tick `upto` (all if None) as messages."""
        out = []
        while self.tail < self.head and (upto is None or self._stamps[self.tail % self.slots][0] <= upto):
            i = self.tail % self.slots
            tick, now = self._stamps[i]
            buffer = io.BytesIO()
            Image.fromarray(self._frames[i]).save(buffer, "JPEG", quality=JPEG_QUALITY)
            out.append((tick, now, encode(tick, now, self.name, buffer.getvalue())))
            self.tail += 1
            self.written += 1
        return out


def _string(data: bytes) -> bytes:
    return struct.pack("<I", len(data)) + data


def encode(tick: int, now: float, frame_id: str, jpeg: bytes) -> bytes:
    seconds = int(now)
    nanoseconds = min(999_999_999, round((now - seconds) * 1e9))
    return (struct.pack("<III", tick & 0xFFFFFFFF, seconds, nanoseconds) + _string(frame_id.encode())
            + _string(b"jpeg") + _string(jpeg))


@dataclass
class Frames:
    """A camera's frames read back: the loop's tick and the stack's time of each, and its JPEG bytes."""

    tick: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    time: np.ndarray = field(default_factory=lambda: np.zeros(0))
    jpeg: list[bytes] = field(default_factory=list)

    def image(self, i: int) -> np.ndarray:
        return np.asarray(Image.open(io.BytesIO(self.jpeg[i])).convert("RGB"))


def decode(messages: list[bytes]) -> Frames:
    ticks, times, jpegs = [], [], []
    for data in messages:
        tick, seconds, nanoseconds = struct.unpack_from("<III", data)
        at = 12
        fields = []
        for _ in range(3):
            (size,) = struct.unpack_from("<I", data, at)
            fields.append(data[at + 4: at + 4 + size])
            at += 4 + size
        ticks.append(tick)
        times.append(seconds + nanoseconds * 1e-9)
        jpegs.append(fields[2])
    return Frames(np.array(ticks, np.int64), np.array(times), jpegs)
