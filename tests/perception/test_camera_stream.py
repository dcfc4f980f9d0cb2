"""The hardware camera client against real ZMQ sockets (ipc in a tmp dir) carrying Unitree's wire format:
pixels arrive, a slow consumer gets the newest frame, and a stopped stream, a wrong size or a corrupt
JPEG are flagged with a clear message and never raise."""

import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest
import zmq

from perception.camera_server import CameraServer, encode_jpeg
from perception.camera_stream import (
    CameraFrame,
    CameraStream,
    CameraStreamConfig,
    StreamStatus,
    encoder_input,
)

RED, GREEN, BLUE, WHITE = (220, 30, 30), (30, 200, 40), (20, 40, 210), (240, 240, 240)


def blocks(colours: list[tuple[int, int, int]], width: int = 640, height: int = 480) -> np.ndarray:
    """Colour blocks side by side, each `width` wide."""
    return np.hstack([np.full((height, width, 3), c, np.uint8) for c in colours])


def quadrants(width: int = 640, height: int = 480) -> np.ndarray:
    image = np.empty((height, width, 3), np.uint8)
    h, w = height // 2, width // 2
    image[:h, :w], image[:h, w:], image[h:, :w], image[h:, w:] = RED, GREEN, BLUE, WHITE
    return image


def block_mean(image: np.ndarray, rows: slice, cols: slice) -> np.ndarray:
    return image[rows, cols].reshape(-1, 3).mean(axis=0)


@pytest.fixture
def endpoint(tmp_path) -> str:
    return f"ipc://{tmp_path}/camera"


@pytest.fixture
def stream(endpoint) -> Iterator[Callable[..., CameraStream]]:
    opened: list[CameraStream] = []

    def open_stream(**config) -> CameraStream:
        opened.append(CameraStream(CameraStreamConfig(endpoint=endpoint, **config)))
        return opened[-1]

    yield open_stream
    for s in opened:
        s.close()


def until(client: CameraStream, send: Callable[[], None], done: Callable[[CameraFrame], bool],
          limit_s: float = 3.0) -> CameraFrame:
    """Send and poll until `done` (PUB drops what it sends before the subscriber has joined), then take
    what was still in flight, so that the next poll sees only what the test sends next."""
    deadline = time.monotonic() + limit_s
    while not done(client.poll(wait_s=0.05)) and time.monotonic() < deadline:
        send()
    time.sleep(0.05)
    return client.poll()


def test_unitree_frames_arrive_decoded_with_their_pixels(endpoint, stream):
    client = stream()
    with CameraServer(endpoint) as server:
        frame = until(client, lambda: server.send(quadrants()), lambda f: f.image is not None)
    assert frame.status is StreamStatus.OK and not frame.degraded and frame.message == ""
    assert frame.image.shape == (480, 640, 3) and frame.image.dtype == np.uint8
    assert 0 <= frame.age_s < 1.0
    assert frame.frame_id is None and frame.sent_time is None
    top, bottom, left, right = slice(20, 220), slice(260, 460), slice(20, 300), slice(340, 620)
    for (rows, cols), colour in zip([(top, left), (top, right), (bottom, left), (bottom, right)],
                                    [RED, GREEN, BLUE, WHITE]):
        np.testing.assert_allclose(block_mean(frame.image, rows, cols), colour, atol=6)


def test_the_head_cameras_left_eye_is_kept_from_cameras_side_by_side(endpoint, stream):
    client = stream(stream_width=1920)
    image = blocks([RED, BLUE, GREEN])  # left eye, right eye, one wrist camera
    with CameraServer(endpoint) as server:
        frame = until(client, lambda: server.send(image), lambda f: f.image is not None)
    assert frame.status is StreamStatus.OK
    assert frame.image.shape == (480, 640, 3)
    np.testing.assert_allclose(block_mean(frame.image, slice(None), slice(0, 620)), RED, atol=6)


def test_a_slow_consumer_gets_the_newest_frame_not_a_backlog(endpoint, stream):
    client = stream()
    with CameraServer(endpoint, header=True) as server:
        until(client, lambda: server.send(blocks([RED])), lambda f: f.image is not None)
        received = client.counts.received
        for level in range(40):
            server.send(np.full((480, 640, 3), 5 * level, np.uint8))
        last_id = server.frames_sent - 1
        deadline = time.monotonic() + 3.0
        while client.counts.received < received + 40 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)  # the consumer is busy elsewhere
        decoded = client.counts.decoded
        frame = client.poll()
    assert frame.status is StreamStatus.OK
    assert frame.frame_id == last_id
    assert abs(frame.image.mean() - 5 * 39) < 3
    assert frame.age_s >= 0.2
    assert client.counts.decoded == decoded + 1  # one decode, the newest: the 39 before it were skipped
    assert client.counts.superseded >= 39
    assert client.poll().frame_id == last_id  # and nothing older is queued behind it


def test_a_stream_that_stops_is_flagged_within_the_timeout_and_recovers(endpoint, stream):
    client = stream(timeout_s=0.3)
    with CameraServer(endpoint) as server:
        until(client, lambda: server.send(quadrants()), lambda f: f.image is not None)
        stopped_at = time.monotonic()
        frame = until(client, lambda: None, lambda f: f.status is StreamStatus.STOPPED)
        waited = time.monotonic() - stopped_at
        assert 0.2 < waited < 1.0
        assert frame.degraded and frame.image is not None and frame.age_s > 0.3
        assert "stopped" in frame.message and "since" in frame.message and endpoint in frame.message
        assert "\n" not in frame.message
        resumed = until(client, lambda: server.send(quadrants()), lambda f: f.status is StreamStatus.OK)
    assert resumed.status is StreamStatus.OK and resumed.age_s < 0.3


def test_a_server_that_never_sends_reads_as_stopped_naming_the_endpoint(endpoint, stream):
    client = stream(timeout_s=0.2)
    assert client.poll().status is StreamStatus.WAITING
    time.sleep(0.25)
    frame = client.poll()
    assert frame.status is StreamStatus.STOPPED and frame.image is None and frame.age_s == float("inf")
    assert "since connecting" in frame.message and endpoint in frame.message


def test_a_wrong_image_size_is_flagged_with_what_to_set(endpoint, stream):
    client = stream()
    with CameraServer(endpoint) as server:
        frame = until(client, lambda: server.send(blocks([RED, BLUE])),
                      lambda f: f.status is StreamStatus.WRONG_SIZE)
        assert frame.degraded and frame.image is None  # never handed out at a size nobody expects
        assert frame.message.startswith("camera frame is 1280x480, expected 640x480")
        assert "stream_width=1280" in frame.message and "\n" not in frame.message
        good = until(client, lambda: server.send(quadrants()), lambda f: f.status is StreamStatus.OK)
        server.send(quadrants(320, 240))
        small = client.poll(wait_s=1.0)
        assert small.status is StreamStatus.WRONG_SIZE and "width=320, height=240" in small.message
        assert small.image is good.image  # the last good frame stays, flagged
        fixed = until(client, lambda: server.send(quadrants()), lambda f: f.status is StreamStatus.OK)
    assert fixed.image.shape == (480, 640, 3)
    assert client.counts.wrong_size >= 2 and client.counts.decoded >= 2


def test_corrupt_frames_are_counted_and_skipped(endpoint, stream):
    client = stream()
    jpeg = encode_jpeg(quadrants())
    bad = [[b"not a jpeg"], [b""], [jpeg[: len(jpeg) // 2]], [b"\xff\xd8\xff" + bytes(200)], [jpeg, jpeg]]
    with zmq.Context.instance().socket(zmq.PUB) as pub:
        pub.bind(endpoint)
        good = until(client, lambda: pub.send(jpeg), lambda f: f.image is not None)
        for count, parts in enumerate(bad, start=1):
            pub.send_multipart(parts)
            frame = client.poll(wait_s=1.0)
            assert frame.status is StreamStatus.CORRUPT and frame.degraded
            assert frame.image is good.image  # the last good frame, flagged
            assert client.counts.corrupt == count
            assert "skipped" in frame.message and "\n" not in frame.message
        assert "2-part message" in frame.message
        pub.send(jpeg)
        assert client.poll(wait_s=1.0).status is StreamStatus.OK


def test_the_unit_test_header_parses(endpoint, stream):
    client = stream()
    jpeg = encode_jpeg(quadrants())
    with zmq.Context.instance().socket(zmq.PUB) as pub:
        pub.bind(endpoint)
        sent = time.time()
        # Exactly the robot's server in Unit_Test mode: native 'dI' (12 bytes here), then the JPEG.
        frame = until(client, lambda: pub.send(struct.pack("dI", sent, 4_000_000_000) + jpeg),
                      lambda f: f.image is not None)
    assert frame.status is StreamStatus.OK
    assert frame.frame_id == 4_000_000_000 and frame.sent_time == sent
    np.testing.assert_allclose(block_mean(frame.image, slice(20, 220), slice(20, 300)), RED, atol=6)


def test_encoder_input_is_the_centre_square_resized():
    image = blocks([RED, GREEN, BLUE], width=180, height=180)[:, 150:390]  # 30 red, 180 green, 30 blue
    square = encoder_input(image)
    assert square.shape == (224, 224, 3) and square.dtype == np.uint8
    np.testing.assert_allclose(square.reshape(-1, 3).mean(axis=0), GREEN, atol=1)
    frame = CameraFrame(image, 0.0, StreamStatus.OK, "")
    assert frame.for_encoder(112).shape == (112, 112, 3)
    assert CameraFrame(None, float("inf"), StreamStatus.WAITING, "").for_encoder() is None


def test_the_camera_server_command_streams_a_moving_picture_until_ctrl_c(endpoint, stream):
    client = stream(width=64, height=48)
    cmd = [sys.executable, "-m", "bessemer", "camera-server", "--endpoint", endpoint, "--size", "64x48", "--fps", "50",
           "--header"]
    server = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        first = client.poll(wait_s=0.1)
        while first.image is None and time.monotonic() < deadline:
            first = client.poll(wait_s=0.1)
        time.sleep(0.2)
        later = client.poll(wait_s=1.0)
    finally:
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=30)
    assert first.status is StreamStatus.OK and first.image.shape == (48, 64, 3)
    assert later.frame_id > first.frame_id and not np.array_equal(later.image, first.image)
    assert server.returncode == 0, err
    assert out.strip() == f"sending 64x48 JPEG frames at 50 fps on {endpoint}; Ctrl-C stops"
