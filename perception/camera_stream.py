"""Head-camera frames on hardware: a client for the JPEG-over-ZMQ stream of Unitree's image server.

G1 users already run the `image_server.py` of Unitree's teleoperation repositories on the robot's
development computer: a PUB socket bound on port 5555 that sends each frame as one single-part
message holding one JPEG, and in its unit-test mode a 12-byte header before the JPEG (a float64
send time from `time.time()` and a uint32 frame counter, little-endian, no padding). Several cameras
come as one image side by side: the head camera first (a binocular one as its two eyes, left eye
first), then any wrist cameras. This client speaks exactly that, so nothing new runs on the robot.

A receiver thread drains the socket as messages arrive and keeps only the newest one with its
receive time; `poll` decodes that one only. A slow consumer thus gets the newest frame and an
honest age, never a backlog, and the ZMQ queue never fills (where PUB would drop the newest).
Bad input never raises out of `poll`: the result says what is wrong and whether it is degraded.
"""

from __future__ import annotations

import io
import logging
import math
import struct
import threading
import time
from dataclasses import dataclass
from enum import Enum
from typing import Self

import numpy as np
import zmq
from PIL import Image

log = logging.getLogger(__name__)

UNITREE_HEADER = struct.Struct("<dI")
"""The unit-test header: Unitree packs `struct.pack('dI', time.time(), frame_id)`, native order and
size, which on the robot's aarch64 computer and on x86 PCs is these 12 little-endian bytes."""
JPEG_START = b"\xff\xd8\xff"
"""Start-of-image marker and the next marker's lead byte: what every JPEG begins with. A JFIF or Exif
JPEG never has it at byte 12, so it tells a headed message from a bare one unambiguously."""
RECEIVE_QUEUE = 4
"""ZMQ receive high-water mark: the receiver thread keeps the queue drained, so this bounds memory only."""


class StreamStatus(str, Enum):
    OK = "ok"
    WAITING = "waiting"
    """Connected less than the timeout ago, no message yet."""
    STOPPED = "stopped"
    WRONG_SIZE = "wrong size"
    CORRUPT = "corrupt frame"


@dataclass(frozen=True)
class CameraStreamConfig:
    endpoint: str = "tcp://192.168.123.164:5555"
    """Unitree's image server: the G1's development computer, port 5555."""
    width: int = 640
    height: int = 480
    """The size of the image this client hands out: one camera (one eye of a binocular one)."""
    stream_width: int | None = None
    """Width of the server's image when it is wider than `width` because cameras come side by side
    (1280 for a binocular 640x480 head camera, more with wrist cameras): the client keeps the
    leftmost `width` columns, the head camera's left eye. None: the server sends `width` exactly."""
    timeout_s: float = 0.5
    """No message for this long and the stream counts as stopped (15 frames at the server's 30 fps)."""

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0 or self.timeout_s <= 0:
            raise ValueError(f"camera width, height and timeout must be positive, got "
                             f"{self.width}x{self.height}, {self.timeout_s} s")
        if self.stream_width is not None and self.stream_width < self.width:
            raise ValueError(f"stream_width {self.stream_width} is narrower than the camera's width {self.width}")

    @property
    def stream_size(self) -> tuple[int, int]:
        """(width, height) of the image the server is expected to send."""
        return (self.stream_width or self.width, self.height)


@dataclass(frozen=True)
class CameraFrame:
    image: np.ndarray | None
    """The newest good frame, height x width x 3 RGB uint8, read-only; None before the first. A frame
    of the wrong size is never handed out: it is not decoded at all."""
    age_s: float
    """Seconds since the receiver thread got `image` off the socket; infinite when there is none."""
    status: StreamStatus
    message: str
    """One line saying what is wrong and what to do; empty when the status is ok."""
    frame_id: int | None = None
    sent_time: float | None = None
    """Frame counter and server clock (`time.time()`) of `image`, from the unit-test header if sent."""

    @property
    def degraded(self) -> bool:
        """True whenever `image` is missing, stale, of the wrong size, or not the newest message."""
        return self.status is not StreamStatus.OK

    def for_encoder(self, size: int = 224) -> np.ndarray | None:
        """`image` as the vision encoder takes it (see `encoder_input`), or None without one."""
        return None if self.image is None else encoder_input(self.image, size)


@dataclass(frozen=True)
class StreamCounts:
    received: int
    """Messages taken off the socket."""
    superseded: int
    """Messages replaced by a newer one before `poll` looked: never decoded, by design."""
    decoded: int
    corrupt: int
    wrong_size: int


def encoder_input(image: np.ndarray, size: int = 224) -> np.ndarray:
    """The centre square of `image`, resized to size x size with Pillow.

    The encoder learned from the simulated head camera's square frames, 42 degrees each way, the
    D435i's vertical field of view. The centre square of a landscape frame spans the same angle both
    ways, so cropping (not squashing) keeps a pixel's bearing as in training; squashing a 4:3 frame
    would shrink every bearing the encoder reads by a quarter.
    """
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = Image.fromarray(np.ascontiguousarray(image[top:top + side, left:left + side]))
    return np.asarray(square.resize((size, size), Image.Resampling.BILINEAR))


class CameraStream:
    """Subscribes to Unitree's image server; `poll` hands out the newest frame, its age and status."""

    def __init__(self, config: CameraStreamConfig = CameraStreamConfig(), context: zmq.Context | None = None) -> None:
        self.config = config
        self._socket = (context or zmq.Context.instance()).socket(zmq.SUB)
        self._socket.setsockopt(zmq.RCVHWM, RECEIVE_QUEUE)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.setsockopt(zmq.SUBSCRIBE, b"")
        self._socket.connect(config.endpoint)
        self._arrived = threading.Condition()
        self._pending: tuple[list[bytes], float] | None = None
        self._received = self._superseded = 0
        self._last_message_s: float | None = None
        self._receiver_error = ""
        self._closing = threading.Event()
        self._connected_s = time.monotonic()
        self._connected_wall = time.time()
        self._image: np.ndarray | None = None
        self._image_s = -math.inf
        self._frame_id: int | None = None
        self._sent_time: float | None = None
        self._outcome, self._outcome_message = StreamStatus.WAITING, ""
        self._reported = StreamStatus.WAITING
        self._decoded = self._corrupt = self._wrong_size = 0
        self._thread = threading.Thread(target=self._receive, name="camera-stream", daemon=True)
        self._thread.start()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._closing.set()
        self._thread.join()

    @property
    def counts(self) -> StreamCounts:
        with self._arrived:
            received, superseded = self._received, self._superseded
        return StreamCounts(received, superseded, self._decoded, self._corrupt, self._wrong_size)

    def poll(self, wait_s: float = 0.0) -> CameraFrame:
        """Decode the newest message if one came since the last call (waiting up to `wait_s` for one)."""
        with self._arrived:
            if self._pending is None and wait_s > 0:
                self._arrived.wait(wait_s)
            pending, self._pending = self._pending, None
            last_message_s, receiver_error = self._last_message_s, self._receiver_error
        if pending is not None:
            self._take(*pending)
        frame = self._frame(time.monotonic(), last_message_s, receiver_error)
        if frame.status is not self._reported:
            self._reported = frame.status
            (log.info if frame.status is StreamStatus.OK else log.warning)(frame.message or "camera stream ok")
        return frame

    def _receive(self) -> None:
        """Receiver thread: owns the socket from here on, keeps the newest message, never blocks long."""
        try:
            while not self._closing.is_set():
                if not self._socket.poll(50):
                    continue
                while True:
                    try:
                        parts = self._socket.recv_multipart(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    now = time.monotonic()
                    with self._arrived:
                        self._superseded += self._pending is not None
                        self._pending = (parts, now)
                        self._received += 1
                        self._last_message_s = now
                        self._arrived.notify_all()
        except zmq.ZMQError as error:
            with self._arrived:
                self._receiver_error = f" (receiver stopped: {error})"
        finally:
            self._socket.close(linger=0)

    def _take(self, parts: list[bytes], received_s: float) -> None:
        if len(parts) != 1:
            self._reject(f"a {len(parts)}-part message, where Unitree's server sends one part")
            return
        payload = parts[0]
        frame_id = sent_time = None
        if payload[UNITREE_HEADER.size:UNITREE_HEADER.size + 3] == JPEG_START:
            sent_time, frame_id = UNITREE_HEADER.unpack_from(payload)
            payload = payload[UNITREE_HEADER.size:]
        try:
            with Image.open(io.BytesIO(payload), formats=["JPEG"]) as jpeg:
                if jpeg.size != self.config.stream_size:
                    self._wrong_size += 1
                    self._outcome = StreamStatus.WRONG_SIZE
                    self._outcome_message = self._size_message(jpeg.size, self.config.stream_size)
                    return
                image = np.asarray(jpeg.crop((0, 0, self.config.width, self.config.height)).convert("RGB"))
        except (OSError, ValueError, Image.DecompressionBombError) as error:
            self._reject(f"{len(payload)} bytes that are not a JPEG ({error})")
            return
        self._decoded += 1
        image.setflags(write=False)
        self._outcome, self._outcome_message = StreamStatus.OK, ""
        self._image, self._image_s, self._frame_id, self._sent_time = image, received_s, frame_id, sent_time

    def _reject(self, what: str) -> None:
        self._corrupt += 1
        self._outcome = StreamStatus.CORRUPT
        kept = "the last good frame is kept" if self._image is not None else "no good frame yet"
        self._outcome_message = (f"corrupt camera frame from {self.config.endpoint}: {what}; skipped "
                                 f"({self._corrupt} so far), {kept}")

    def _size_message(self, got: tuple[int, int], want: tuple[int, int]) -> str:
        message = f"camera frame is {got[0]}x{got[1]}, expected {want[0]}x{want[1]} (frame not used): "
        if got[1] == self.config.height and got[0] > self.config.width:
            return message + (f"set CameraStreamConfig(stream_width={got[0]}) if the server sends cameras side by "
                              f"side (the client keeps the left {self.config.width} columns), or width={got[0]}")
        return message + (f"set CameraStreamConfig(width={got[0]}, height={got[1]}) to the camera's size "
                          f"(and stream_width for side-by-side cameras), or the server's image shape")

    def _frame(self, now: float, last_message_s: float | None, receiver_error: str) -> CameraFrame:
        endpoint = self.config.endpoint
        if last_message_s is None:
            since = time.strftime("%H:%M:%S", time.localtime(self._connected_wall))
            if now - self._connected_s > self.config.timeout_s or receiver_error:
                status, message = StreamStatus.STOPPED, (
                    f"no camera frame since connecting at {since}: check that the image server runs and "
                    f"publishes on {endpoint}{receiver_error}")
            else:
                status, message = StreamStatus.WAITING, f"waiting for the first camera frame from {endpoint}"
        elif now - last_message_s > self.config.timeout_s or receiver_error:
            since = time.strftime("%H:%M:%S", time.localtime(time.time() - (now - last_message_s)))
            status, message = StreamStatus.STOPPED, (
                f"camera stream stopped: no frame for {now - last_message_s:.1f} s (since {since}), check the "
                f"image server at {endpoint}{receiver_error}")
        else:
            status, message = self._outcome, self._outcome_message
        return CameraFrame(self._image, now - self._image_s, status, message, self._frame_id, self._sent_time)
