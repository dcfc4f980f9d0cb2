"""The perception node over real ZMQ: percepts from Unitree's camera stream and from the simulated
head, and a camera that stops or sends the wrong size flagged in words, never a crash."""

import math
import os
import socket
import time

import numpy as np
import pytest
import zmq

from bessemer import wire
from bessemer.endpoints import Endpoints
from bessemer.tasks.follow_sound_scene import FollowSoundScene
from bessemer.nodes.perception import PerceptionNode
from bessemer.nodes.subscriber import DrainToNewest
from perception.camera_server import CameraServer
from perception.camera_stream import CameraStreamConfig
from perception.g1_audio_stream import G1AudioStreamConfig
from perception.synthetic_audio import synthetic_audio
from robots.g1.poses import get_pose
from sim.ball_frames import BallScene
from sim.robot import SimRobot
from sim.world import WorldConfig

pytestmark = pytest.mark.timeout(120)


@pytest.fixture()
def endpoints(base_port):
    return Endpoints(stack=f"perc{os.getpid()}", base_port=base_port)


def percepts(endpoints: Endpoints, ctx: zmq.Context) -> DrainToNewest:
    return DrainToNewest(endpoints.connect(ctx, zmq.SUB, "percept"), wire.stack_id(endpoints.stack))


def tick_until(node: PerceptionNode, inbox: DrainToNewest, accept, seconds: float = 30.0) -> wire.Percept:
    deadline, k = time.monotonic() + seconds, 0
    while time.monotonic() < deadline:
        node.tick(k)
        k += 1
        time.sleep(0.02)
        got = inbox.drain().get(wire.MsgType.PERCEPT)
        if got is not None and accept(percept := wire.parse_percept(got[1])):
            return percept
    pytest.fail(f"no accepted percept in {seconds} s; last {percept if got else None}")


def next_percept(inbox: DrainToNewest, seconds: float = 30.0) -> tuple[wire.Header, list[bytes]]:
    deadline = time.monotonic() + seconds
    while (got := inbox.drain().get(wire.MsgType.PERCEPT)) is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert got is not None, f"no percept in {seconds} s"
    return got


def test_frames_from_the_robots_camera_server_become_detections_and_a_stopped_stream_is_flagged(endpoints):
    scene = BallScene()
    scene.pose_robot(0.0, 0.0, 0.0)
    scene.place_ball(scene.floor_point_at_pixel(80.0, 150.0))
    present, bearing, distance, _ = scene.label()
    frame = scene.render()
    scene.close()
    assert present and bearing > 5

    ctx = zmq.Context()
    port = endpoints.base_port + 9
    server = CameraServer(f"tcp://127.0.0.1:{port}", header=True, context=ctx)
    node = PerceptionNode(endpoints, ctx=ctx, camera=CameraStreamConfig(f"tcp://127.0.0.1:{port}", 224, 224,
                                                                        timeout_s=0.3))
    inbox = percepts(endpoints, ctx)
    try:
        def seen(p: wire.Percept) -> bool:
            server.send(frame)
            return p.target_probability > 0.5 and not p.vision_degraded

        percept = tick_until(node, inbox, seen)
        assert abs(percept.target_bearing_deg - bearing) < 4.0 and abs(percept.target_distance_m / distance - 1) < 0.1
        assert math.isnan(percept.sound_bearing_deg) and not percept.audio_degraded, "no microphones configured"
        percept = tick_until(node, inbox, lambda p: p.vision_degraded)
        assert "stopped" in percept.reasons and f"tcp://127.0.0.1:{port}" in percept.reasons

        def wrong_size(p: wire.Percept) -> bool:
            server.send(np.zeros((240, 320, 3), np.uint8))
            return p.vision_degraded and "320x240" in p.reasons

        assert "224x224" in tick_until(node, inbox, wrong_size).reasons
    finally:
        node.close()
        server.close()
        inbox.sock.close(0)
        ctx.term()


def test_in_simulation_it_hears_the_scene_s_ball_where_it_lies_and_sends_audio_tokens(endpoints):
    scene = FollowSoundScene.from_seed(1)
    ctx = zmq.Context()
    node = PerceptionNode(endpoints, ctx=ctx, sound=scene.sound())
    inbox = percepts(endpoints, ctx)
    pose = ctx.socket(zmq.PUB)
    pose.bind(endpoints.address("pose", bind=True))
    robot = SimRobot(WorldConfig())
    robot.reset(get_pose("stand"))
    truth = math.degrees(math.atan2(scene.ball_xy[1] - robot.data.qpos[1], scene.ball_xy[0] - robot.data.qpos[0]))
    tokens = 0
    try:
        def heard(p: wire.Percept) -> bool:
            nonlocal tokens
            pose.send(wire.pose_message(wire.stack_id(endpoints.stack), 1, robot.data.qpos))
            tokens += len(p.tokens)
            return not math.isnan(p.sound_bearing_deg) and tokens > 50

        percept = tick_until(node, inbox, heard, seconds=60.0)
        assert abs(percept.sound_bearing_deg - truth) < 10.0, (percept.sound_bearing_deg, truth)
        assert not percept.degraded and percept.tokens.max() < 1024
    finally:
        node.close()
        pose.close(0)
        inbox.sock.close(0)
        ctx.term()


def test_the_robots_mono_microphone_stream_gives_tokens_and_its_silence_is_flagged(endpoints):
    ctx = zmq.Context()
    node = PerceptionNode(endpoints, ctx=ctx, microphone=G1AudioStreamConfig(group="127.0.0.1", port=0,
                                                                             multicast=False))
    inbox = percepts(endpoints, ctx)
    sound = np.round(synthetic_audio(7, 4.0) * 32767).astype(np.int16)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent, tokens = 0, 0
    try:
        def tokens_arrive(p: wire.Percept) -> bool:
            nonlocal sent, tokens
            if sent < len(sound):
                sender.sendto(sound[sent:sent + 2560].tobytes(), ("127.0.0.1", node.microphone.port))
                sent += 2560
            tokens += len(p.tokens)
            return tokens >= 40

        percept = tick_until(node, inbox, tokens_arrive)
        assert not percept.audio_degraded and math.isnan(percept.sound_bearing_deg), "mono: tokens, no bearing"

        def silent(p: wire.Percept) -> bool:
            sender.sendto(np.zeros(2560, np.int16).tobytes(), ("127.0.0.1", node.microphone.port))
            return p.audio_degraded

        assert "silent" in tick_until(node, inbox, silent).reasons
        stopped = tick_until(node, inbox, lambda p: p.audio_degraded and "no audio packet" in p.reasons)
        assert "127.0.0.1" in stopped.reasons and not stopped.tokens.size
    finally:
        sender.close()
        node.close()
        inbox.sock.close(0)
        ctx.term()


def test_what_the_robots_microphone_hears_is_named_in_the_percept_once_a_second_of_it_arrived(endpoints):
    from perception.training.sound_classifier import HELD_OUT_SEED, room_responses, scene_audio

    ctx = zmq.Context()
    node = PerceptionNode(endpoints, ctx=ctx, microphone=G1AudioStreamConfig(group="127.0.0.1", port=0,
                                                                             multicast=False))
    inbox = percepts(endpoints, ctx)
    room = room_responses(1, HELD_OUT_SEED + 9_000)[0]
    sound = np.round(scene_audio("alarm", HELD_OUT_SEED + 9_001, 3.0, room) * 32767).astype(np.int16)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent, classes = 0, []
    try:
        def named(p: wire.Percept) -> bool:
            nonlocal sent
            if sent < len(sound):
                sender.sendto(sound[sent:sent + 1600].tobytes(), ("127.0.0.1", node.microphone.port))
                sent += 1600
            classes.append((sent, p.sound_class))
            return p.sound_class == "alarm" and sent >= len(sound)

        tick_until(node, inbox, named)
        assert all(heard == "" for at, heard in classes if at < 16_000 - 1600), "nothing is named from under a second"
    finally:
        sender.close()
        node.close()
        inbox.sock.close(0)
        ctx.term()


def test_a_simulated_percept_is_stamped_with_the_pose_it_was_rendered_from_not_when_it_was_sent(endpoints):
    """The policy node places a detection with the pose at the percept's stamp: a frame rendered late, or
    from a pose that has not been renewed, must say when what it shows was true."""
    ctx = zmq.Context()
    node = PerceptionNode(endpoints, ctx=ctx, sound=FollowSoundScene.from_seed(1).sound())
    inbox = percepts(endpoints, ctx)
    pose = ctx.socket(zmq.PUB)
    pose.bind(endpoints.address("pose", bind=True))
    robot = SimRobot(WorldConfig())
    robot.reset(get_pose("stand"))
    sid = wire.stack_id(endpoints.stack)
    try:
        def posed(p: wire.Percept) -> bool:
            pose.send(wire.pose_message(sid, 1, robot.data.qpos))
            return "no simulator pose" not in p.reasons

        started = time.monotonic()
        tick_until(node, inbox, posed)
        pose.send(wire.pose_message(sid, 2, robot.data.qpos))
        last_pose_sent = time.monotonic()
        time.sleep(0.3)
        inbox.drain()
        node.tick(1)
        header, _ = next_percept(inbox)
        assert started <= header.stamp <= last_pose_sent, "stamped when its pose was sent, not 0.3 s later"
    finally:
        node.close()
        pose.close(0)
        inbox.sock.close(0)
        ctx.term()
