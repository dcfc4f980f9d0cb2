"""The G1 mic stream client against real UDP sockets on loopback."""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest

from perception.audio_perception import StreamingTokenizer
from perception.codebook import SHIPPED_CODEBOOK, AudioCodebook
from perception.g1_audio_stream import G1AudioStream, G1AudioStreamConfig, StreamState
from perception.synthetic_audio import synthetic_audio

CHUNK = 2560
"""Samples per packet: Unitree's 160 ms at 16 kHz."""


def unicast(**overrides: object) -> G1AudioStreamConfig:
    return G1AudioStreamConfig(**{"group": "127.0.0.1", "port": 0, "multicast": False, **overrides})


def send(stream: G1AudioStream, payloads: list[bytes], host: str = "127.0.0.1") -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for payload in payloads:
            sender.sendto(payload, (host, stream.port))
            time.sleep(0.001)


def chunks(pcm: np.ndarray, size: int = CHUNK) -> list[bytes]:
    return [pcm[i:i + size].astype("<i2").tobytes() for i in range(0, len(pcm), size)]


def collect(stream: G1AudioStream, n: int, block: int = 1000, deadline_s: float = 10.0) -> np.ndarray:
    got, end = [], time.monotonic() + deadline_s
    while sum(g.shape[1] for g in got) < n and time.monotonic() < end:
        got.append(stream.read(block))
    return np.concatenate(got, axis=1)


def wait_for_packets(stream: G1AudioStream, packets: int, deadline_s: float = 10.0) -> None:
    end = time.monotonic() + deadline_s
    while stream.status().packets < packets and time.monotonic() < end:
        time.sleep(0.005)


def test_int16_chunks_arrive_as_the_same_samples_scaled_to_floats() -> None:
    pcm = np.random.default_rng(0).integers(-32768, 32768, 3 * CHUNK + 100).astype(np.int16)
    pcm[:3] = (-32768, 32767, 0)
    with G1AudioStream(unicast()) as stream:
        assert stream.read(100).shape == (1, 0)
        assert stream.status().state is StreamState.WAITING
        send(stream, chunks(pcm))
        got = collect(stream, len(pcm), block=777)
        status = stream.status()
    assert got.shape == (1, len(pcm)) and got.dtype == np.float32
    np.testing.assert_array_equal(got[0], pcm / 32768.0)
    assert got.min() >= -1.0 and got.max() < 1.0
    assert status.state is StreamState.OK and status.message == ""
    assert status.packets == 4 and status.malformed == 0 and status.dropped_samples == 0


def test_single_mic_array_gives_tokens_never_a_bearing() -> None:
    with G1AudioStream(unicast()) as stream:
        assert stream.array.channels == 1 and stream.sample_rate == stream.array.sample_rate == 16_000
        with pytest.raises(ValueError, match="single microphone"):
            stream.array.check_resolves_bearing()


@pytest.mark.timeout(10)
def test_read_returns_empty_instead_of_waiting_when_nothing_arrives() -> None:
    with G1AudioStream(unicast(poll_s=0.02)) as stream:
        assert stream.read(CHUNK).shape == (1, 0)


def test_a_stream_that_stops_is_reported_with_its_endpoint() -> None:
    with G1AudioStream(unicast(timeout_s=0.2)) as stream:
        send(stream, chunks(np.zeros(CHUNK, dtype=np.int16)))
        wait_for_packets(stream, 1)
        assert stream.status().state is StreamState.OK
        time.sleep(0.3)
        status = stream.status()
    assert status.state is StreamState.STOPPED and status.age_s > 0.2
    assert f"udp unicast 127.0.0.1:{stream.port}" in status.message and "voice service" in status.message


def test_a_stream_that_never_starts_is_reported_stopped() -> None:
    with G1AudioStream(unicast(timeout_s=0.1)) as stream:
        time.sleep(0.15)
        status = stream.status()
    assert status.state is StreamState.STOPPED and "since it opened" in status.message


def test_an_odd_length_packet_is_counted_and_skipped() -> None:
    good = np.arange(-50, 50, dtype=np.int16)
    with G1AudioStream(unicast()) as stream:
        send(stream, [good[:50].tobytes(), b"\x01\x02\x03", good[50:].tobytes()])
        got = collect(stream, len(good))
        status = stream.status()
    np.testing.assert_array_equal(got[0], good / 32768.0)
    assert status.packets == 3 and status.malformed == 1
    assert "odd byte count" in status.message and status.state is StreamState.OK


def test_the_buffer_is_bounded_and_drops_the_oldest_samples() -> None:
    config = unicast(buffer_s=0.25)
    pcm = np.arange(5 * CHUNK, dtype=np.int16)
    with G1AudioStream(config) as stream:
        send(stream, chunks(pcm))
        wait_for_packets(stream, 5)
        got = collect(stream, len(pcm), deadline_s=0.2)
        status = stream.status()
    assert got.shape[1] == config.capacity == 4000
    np.testing.assert_array_equal(got[0], pcm[-4000:] / 32768.0)
    assert status.dropped_samples == len(pcm) - 4000 and "dropped" in status.message


def test_streamed_samples_tokenize_as_the_whole_signal() -> None:
    codebook = AudioCodebook.load(SHIPPED_CODEBOOK)
    pcm = np.round(synthetic_audio(3, 2.0) * 32767).astype(np.int16)
    tokenizer = StreamingTokenizer(codebook)
    streamed = []
    with G1AudioStream(unicast(buffer_s=4.0)) as stream:
        send(stream, chunks(pcm))
        got = 0
        end = time.monotonic() + 10.0
        while got < len(pcm) and time.monotonic() < end:
            block = stream.read(1234)
            got += block.shape[1]
            streamed.append(tokenizer.push(block[0]))
    assert got == len(pcm)
    whole = codebook.encode_audio((pcm / 32768.0).astype(np.float32))
    assert len(whole) > 10
    np.testing.assert_array_equal(np.concatenate(streamed), whole)


def test_multicast_on_loopback() -> None:
    group = "239.168.123.161"
    try:
        stream = G1AudioStream(G1AudioStreamConfig(group=group, port=0, interface_ip="127.0.0.1"))
    except OSError as e:
        pytest.skip(f"the kernel refused to join {group} on loopback: {e}")
    pcm = np.arange(-1000, 1000, dtype=np.int16)
    with stream, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        sender.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
        sender.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 0)
        sender.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
        try:
            sender.sendto(pcm.tobytes(), (group, stream.port))
        except OSError as e:
            pytest.skip(f"the kernel refused to send multicast to {group} on loopback: {e}")
        got = collect(stream, len(pcm))
        assert "multicast" in stream.endpoint
    np.testing.assert_array_equal(got[0], pcm / 32768.0)
