"""CURVE on the stack's sockets: the right client key gets in, any other does not."""

import shutil
import threading

import pytest
import zmq.auth

from bessemer.control_client import StackUnreachable, request_status
from bessemer.endpoints import Endpoints, create_keys
from bessemer.nodes.heartbeat import Heartbeats
from bessemer.nodes.lowlevel import LowLevelNode
from bessemer.runtime.low_level import SimLowLevel, LowLevelConfig
from control.loop import LoopConfig

pytestmark = pytest.mark.timeout(60)


def test_curve_lets_the_keyed_client_in_and_keeps_others_out(tmp_path, base_port):
    keys = tmp_path / "keys"
    create_keys(keys)
    endpoints = Endpoints(stack="curve", base_port=base_port, keys=keys, curve=True)
    heartbeats = Heartbeats()
    stack = SimLowLevel(LowLevelConfig(loop=LoopConfig(realtime=False)), policy_alive=lambda: heartbeats.alive("policy"))
    stack.spawn(band=True)
    node = LowLevelNode(stack, endpoints, heartbeats, ctx=zmq.Context())
    running = threading.Event()
    running.set()

    def serve():
        k = 0
        while running.is_set():
            node.tick(k)
            k += 1

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        assert request_status(endpoints, timeout=5)["stack"] == "curve"
        stranger = tmp_path / "stranger"
        stranger.mkdir()
        zmq.auth.create_certificates(stranger, "client")
        shutil.copy(keys / "server.key", stranger / "server.key")
        with pytest.raises(StackUnreachable):
            request_status(Endpoints(stack="curve", base_port=endpoints.base_port, keys=stranger, curve=True), timeout=1)
    finally:
        running.clear()
        thread.join()
        node.close()
