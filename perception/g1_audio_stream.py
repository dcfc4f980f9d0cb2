"""The G1's own microphones as an `AudioSource`: the mono 16 kHz stream its voice service multicasts.

Wire format, as Unitree's examples read it (unitree_sdk2 `example/g1/audio/g1_audio_client_example.cpp`
and unitree_sdk2_python `example/g1/audio/wav.py`, `record_pcm_multicast_to_wav`): each UDP datagram
to 239.168.123.161:5555 is bare PCM, signed 16-bit little-endian, one channel, 16 kHz, with no header
(the examples reinterpret the whole payload as int16 and append it). Chunks are about 160 ms (5120
bytes). An odd byte count cannot be 16-bit PCM, so such a datagram is counted and skipped whole
rather than guessed at (Unitree's example drops the last byte).

One channel means tokens, never a bearing: `array` is a single mic at the head origin, which
`MicArray.check_resolves_bearing` rightly refuses. A receiver thread drains the socket into a
bounded buffer that drops its oldest samples (counted) when the consumer falls behind, so memory
stays fixed and what is read is as fresh as the buffer allows; `read` never waits longer than a
short poll. `status` says in words when the stream has stopped and what to check.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass
from enum import Enum
from typing import Self

import numpy as np

from perception.microphones import MicArray

MAX_DATAGRAM = 65536
"""Receive size: any UDP payload fits, so a long datagram is never silently truncated."""


class StreamState(str, Enum):
    WAITING = "waiting"
    """Opened less than the timeout ago, no packet yet."""
    OK = "ok"
    STOPPED = "stopped"


@dataclass(frozen=True)
class G1AudioStreamConfig:
    group: str = "239.168.123.161"
    """Multicast group of the robot's mic stream; the address to bind when `multicast` is False."""
    port: int = 5555
    """0 binds a free port (see `G1AudioStream.port`), for tests."""
    interface_ip: str = "0.0.0.0"
    """Address of this computer's interface on the robot's network (192.168.123.x) to join the group
    on; 0.0.0.0 lets the kernel pick, which is wrong on a computer with several networks."""
    multicast: bool = True
    """False: bind `group`:`port` as a plain unicast address (e.g. 127.0.0.1), for a relay or tests."""
    sample_rate: int = 16_000
    timeout_s: float = 1.0
    """No packet for this long and the stream counts as stopped (about six 160 ms chunks)."""
    buffer_s: float = 2.0
    """Samples kept for a consumer that falls behind; older ones are dropped."""
    poll_s: float = 0.02
    """The longest `read` waits when nothing is buffered."""

    def __post_init__(self) -> None:
        if self.sample_rate <= 0 or self.timeout_s <= 0 or self.buffer_s <= 0 or self.poll_s < 0:
            raise ValueError(f"sample rate, timeout and buffer must be positive and the poll not negative, got "
                             f"{self.sample_rate} Hz, {self.timeout_s} s, {self.buffer_s} s, {self.poll_s} s")

    @property
    def capacity(self) -> int:
        return max(1, round(self.buffer_s * self.sample_rate))


@dataclass(frozen=True)
class AudioStreamStatus:
    state: StreamState
    message: str
    """What is wrong and what to check, in one line; empty when all is well."""
    age_s: float
    """Seconds since the last packet; infinite before the first."""
    packets: int
    malformed: int
    """Datagrams of an odd byte count, skipped whole."""
    dropped_samples: int
    """Samples pushed out of the full buffer before `read` took them."""


class G1AudioStream:
    """Receives the G1 mic stream; `read` hands out what has arrived as (1, n) floats in [-1, 1)."""

    def __init__(self, config: G1AudioStreamConfig = G1AudioStreamConfig()) -> None:
        self.config = config
        self.array = MicArray(((0.0, 0.0, 0.0),), config.sample_rate)
        self._socket = _open_socket(config)
        self._socket.settimeout(0.05)
        self.port: int = self._socket.getsockname()[1]
        """The bound port: the configured one, or the free one picked for port 0."""
        self._arrived = threading.Condition()
        self._chunks: deque[np.ndarray] = deque()
        self._buffered = self._packets = self._malformed = self._dropped = 0
        self._last_packet_s: float | None = None
        self._opened_s = time.monotonic()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._receive, name="g1-audio-stream", daemon=True)
        self._thread.start()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._closing.set()
        self._thread.join()
        self._socket.close()

    @property
    def sample_rate(self) -> int:
        return self.config.sample_rate

    @property
    def endpoint(self) -> str:
        kind = "multicast" if self.config.multicast else "unicast"
        return f"udp {kind} {self.config.group}:{self.port}"

    def read(self, n_samples: int) -> np.ndarray:
        """Up to `n_samples` of what has arrived, oldest first, shape (1, <= n); empty if nothing has."""
        with self._arrived:
            if not self._buffered and self.config.poll_s > 0:
                self._arrived.wait(self.config.poll_s)
            taken, need = [], max(0, n_samples)
            while need and self._chunks:
                head = self._chunks[0]
                taken.append(head[:need])
                if len(head) > need:
                    self._chunks[0] = head[need:]
                else:
                    self._chunks.popleft()
                need -= len(taken[-1])
            self._buffered -= sum(len(t) for t in taken)
        pcm = np.concatenate(taken) if taken else np.zeros(0, dtype=np.int16)
        return (pcm.astype(np.float32) / 32768.0)[None, :]

    def status(self) -> AudioStreamStatus:
        with self._arrived:
            last, packets, malformed, dropped = self._last_packet_s, self._packets, self._malformed, self._dropped
        now = time.monotonic()
        age = now - last if last is not None else np.inf
        if age > self.config.timeout_s and now - self._opened_s > self.config.timeout_s:
            state = StreamState.STOPPED
        else:
            state = StreamState.WAITING if last is None else StreamState.OK
        problems = []
        if state is StreamState.STOPPED:
            since = "since it opened" if last is None else f"for {age:.1f} s"
            where = (f"that this computer is on the robot's network (192.168.123.x), and that interface_ip "
                     f"({self.config.interface_ip}) is its address there" if self.config.multicast
                     else "and that whatever relays it sends to this address")
            problems.append(f"no audio packet on {self.endpoint} {since}: check the robot is on and its voice "
                            f"service is streaming, {where}")
        if malformed:
            problems.append(f"{malformed} of {packets} packets had an odd byte count and were skipped: "
                            f"the sender on port {self.port} is not sending 16-bit PCM")
        if dropped:
            problems.append(f"{dropped} samples dropped because audio was read too slowly: read at least "
                            f"{self.sample_rate} samples a second")
        return AudioStreamStatus(state, "; ".join(problems), age, packets, malformed, dropped)

    def _receive(self) -> None:
        """Receiver thread: owns reads on the socket, appends whole packets, trims the buffer's oldest end."""
        while not self._closing.is_set():
            try:
                payload = self._socket.recv(MAX_DATAGRAM)
            except TimeoutError:
                continue
            except OSError:
                if self._closing.is_set():
                    return
                raise
            with self._arrived:
                self._packets += 1
                self._last_packet_s = time.monotonic()
                if len(payload) % 2:
                    self._malformed += 1
                    continue
                self._chunks.append(np.frombuffer(payload, dtype="<i2"))
                self._buffered += len(self._chunks[-1])
                excess = self._buffered - self.config.capacity
                while excess > 0:
                    head = self._chunks[0]
                    cut = min(excess, len(head))
                    if cut == len(head):
                        self._chunks.popleft()
                    else:
                        self._chunks[0] = head[cut:]
                    excess -= cut
                    self._buffered -= cut
                    self._dropped += cut
                self._arrived.notify_all()


def _open_socket(config: G1AudioStreamConfig) -> socket.socket:
    """A UDP socket bound to the stream's port, joined to the group on `interface_ip` when multicast."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if not config.multicast:
            sock.bind((config.group, config.port))
            return sock
        sock.bind(("", config.port))
        membership = struct.pack("=4s4s", socket.inet_aton(config.group), socket.inet_aton(config.interface_ip))
        try:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
        except OSError as e:
            raise OSError(e.errno, f"cannot join multicast group {config.group} on interface "
                                   f"{config.interface_ip}: {e.strerror}; set interface_ip to this computer's "
                                   f"address on the robot's network, or multicast=False behind a relay") from e
        return sock
    except BaseException:
        sock.close()
        raise
