"""A stand-in for Unitree's image server, for tests and for trying the camera client without a robot.

Same wire as the robot's `image_server.py`: a PUB socket, one single-part message per frame holding
one JPEG, optionally behind the 12-byte unit-test header (send time, frame counter). Cameras side by
side are one image: pass `np.hstack([left_eye, right_eye, ...])`.

    bessemer camera-server --endpoint tcp://*:5555 --size 640x480 --fps 30
"""

from __future__ import annotations

import io
import time
from typing import Self

import numpy as np
import zmq
from PIL import Image

from perception.camera_stream import UNITREE_HEADER


def encode_jpeg(image: np.ndarray, quality: int = 90) -> bytes:
    """RGB uint8 (height x width x 3) to JPEG bytes, as the robot's server sends them."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


class CameraServer:
    def __init__(self, endpoint: str = "tcp://*:5555", header: bool = False, quality: int = 90,
                 context: zmq.Context | None = None) -> None:
        """`header`: prefix each frame with the unit-test header, as Unitree's server does with Unit_Test=True."""
        self.header = header
        self.quality = quality
        self.frames_sent = 0
        self._socket = (context or zmq.Context.instance()).socket(zmq.PUB)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.bind(endpoint)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def send(self, image: np.ndarray) -> None:
        self.send_jpeg(encode_jpeg(image, self.quality))

    def send_jpeg(self, jpeg: bytes) -> None:
        """Any bytes as one frame's payload (a test can send a broken JPEG the way a real one goes)."""
        prefix = UNITREE_HEADER.pack(time.time(), self.frames_sent) if self.header else b""
        self._socket.send(prefix + jpeg)
        self.frames_sent += 1

    def close(self) -> None:
        self._socket.close(linger=0)


def moving_pattern(width: int, height: int, t: float) -> np.ndarray:
    """Colour gradients with a white bar sweeping across once a second: a stream that visibly moves."""
    x, y = np.meshgrid(np.linspace(0, 255, width), np.linspace(0, 255, height))
    image = np.stack([x, y, 255 - (x + y) / 2], axis=-1).astype(np.uint8)
    bar = int((t % 1.0) * width)
    image[:, bar:bar + max(width // 32, 1)] = 255
    return image
