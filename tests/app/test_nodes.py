"""The stack as processes: real nodes, real ZMQ sockets on loopback, real faults.

One stack serves the module, so tests run in file order: those that only look or send bad
messages first, then losing perception, then killing the policy.
"""

import os
import signal
import socket
import time

import numpy as np
import pytest
import zmq

from bessemer import wire
from bessemer.control_client import request_fsm, request_status
from bessemer.endpoints import EndpointError, Endpoints, create_keys
from bessemer.launch import LaunchConfig, Launcher, check_ports_free
from bessemer.nodes.policy import PolicyNode
from bessemer.nodes.subscriber import NewestOnly
from control.fsm import FsmId
from policies.arm_wave import ArmWavePolicy

pytestmark = pytest.mark.timeout(180)
_ports = iter(range(20000 + os.getpid() % 100 * 100, 32000, 10))


def quiet(_):
    pass


@pytest.fixture(scope="module")
def stack():
    """A running stack in simulation, standing, with the policy driving (state 200)."""
    endpoints = Endpoints(stack=f"test{os.getpid()}", base_port=next(_ports))
    launcher = Launcher(LaunchConfig(endpoints, ["--variant", "29dof"], hold=0.5), say=quiet, show=quiet)
    try:
        launcher.start()
        launcher.run_sequence()
        yield launcher
    finally:
        launcher.shutdown()


def wait_for(endpoints, predicate, timeout=5.0, interval=0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = request_status(endpoints)
        if predicate(status):
            return status
        time.sleep(interval)
    return status


def test_bad_messages_are_rejected_and_counted_while_the_loop_keeps_its_rate(stack):
    e = stack.config.endpoints
    ctx = zmq.Context.instance()
    pub = e.connect(ctx, zmq.PUB, "targets")
    time.sleep(0.3)
    sid = wire.stack_id(e.stack)
    good = wire.targets_frames(sid, 10**9, time.monotonic() + 0.05, np.zeros((6, 29)))
    bad = [
        [b"junk"],
        good[:1],
        [good[0], good[1][:100]],
        [good[0], good[1] + b"\0" * 8],
        [good[0][:2] + bytes([9]) + good[0][3:], good[1]],
        [wire.header(wire.MsgType.TARGETS, wire.stack_id("another stack"), 1, time.monotonic() + 1), good[1]],
        wire.targets_frames(sid, 10**9 + 1, time.monotonic() - 1.0, np.full((6, 29), 99.0)),
    ]
    for _ in range(50):
        for frames in bad:
            pub.send_multipart(frames)
        time.sleep(0.01)
    status = request_status(e)
    pub.close(0)
    rejected = status["rejected"]
    assert sum(rejected.values()) >= 250, rejected
    assert any("wire version 9" in k for k in rejected) and any("stack id" in k for k in rejected)
    assert status["targets"]["expired"] >= 45, "targets past their deadline are never applied"
    assert status["fsm"]["state"] == 200 and status["fsm"]["faults"] == 0, status["fsm"]["last_fault"]
    assert status["loop"]["rate_hz"] > 490


def test_a_slow_subscriber_sees_only_fresh_state(stack):
    e = stack.config.endpoints
    sub = NewestOnly(e.connect(zmq.Context.instance(), zmq.SUB, "state", latest_only=True), wire.stack_id(e.stack),
                     wire.MsgType.STATE)
    time.sleep(0.3)
    first = sub.take()
    time.sleep(1.0)
    h, body = sub.take()
    assert time.monotonic() - h.stamp < 0.02, "after a 1 s stall the one message waiting is the newest"
    assert h.seq - first[0].seq > 400 and sub.take() is None, "and nothing older is queued behind it"
    sub.sock.close(0)


def test_unknown_fsm_id_is_refused_by_the_running_stack(stack):
    accepted, state, message = request_fsm(stack.config.endpoints, 7)
    assert not accepted and state == 200 and "unknown FSM state id 7" in message


def test_a_second_stack_on_the_same_machine_does_not_cross_talk(stack):
    other = Endpoints(stack="other", base_port=next(_ports))
    launcher = Launcher(LaunchConfig(other, ["--variant", "29dof"], sequence=(FsmId.STAND_UP,), perception=False,
                                     hold=0.2), say=quiet, show=quiet)
    try:
        launcher.start()
        launcher.run_sequence()
        before = request_status(stack.config.endpoints)
        time.sleep(1.0)
        first, second = request_status(stack.config.endpoints), request_status(other)
        assert first["stack"] != second["stack"]
        assert first["fsm"]["state"] == 200 and second["fsm"]["state"] == 4
        assert first["rejected"] == before["rejected"] and not second["rejected"], "no message crossed over"
        assert set(second["nodes"]) == {"policy"} and first["nodes"]["policy"]["rate_hz"] > 45
    finally:
        launcher.shutdown()


def test_losing_perception_leaves_a_policy_that_does_not_use_it_driving(stack):
    e = stack.config.endpoints
    assert not request_status(e)["nodes"]["policy"]["degraded"]
    stack.procs["perception"].send_signal(signal.SIGKILL)
    status = wait_for(e, lambda s: s["nodes"]["perception"]["age_s"] > 1.5, timeout=10)
    assert status["nodes"]["perception"]["age_s"] > 1.5, "the perception node is gone"
    assert not status["nodes"]["policy"]["degraded"], "the wave policy never uses percepts"
    assert status["fsm"]["state"] == 200 and status["fsm"]["faults"] == 0


class _Steering:
    """A policy that steers by percepts (what `PerceivingPolicy` recognises)."""

    name, rate_hz = "steering", 50.0

    def act(self, state, t, targets):
        targets[:] = 0.0

    def perceive(self, percept):
        self.last = percept


def test_a_policy_that_steers_by_percepts_is_degraded_without_them_and_one_that_does_not_is_not():
    e = Endpoints(stack=f"degraded{os.getpid()}", base_port=next(_ports))
    ctx = zmq.Context()
    steering, waving = PolicyNode(_Steering(), e, ctx), PolicyNode(ArmWavePolicy(), e, ctx)
    try:
        assert steering.degraded and "perception node" in steering.degraded_reason
        assert not waving.degraded and waving.degraded_reason == ""
    finally:
        steering.close()
        waving.close()
        ctx.term()


def test_killing_the_policy_damps_within_100ms_and_a_restarted_policy_rejoins(stack):
    e = stack.config.endpoints
    before = request_status(e)
    assert before["fsm"]["state"] == 200 and before["targets"]["fresh"]
    killed_at = time.monotonic()
    stack.procs["policy"].send_signal(signal.SIGKILL)
    status = wait_for(e, lambda s: s["fsm"]["state"] == 1)
    assert status["fsm"]["state"] == 1
    assert status["fsm"]["since"] - killed_at < 0.100
    assert "policy targets stale" in status["fsm"]["last_fault"]

    ticks_before = status["loop"]["ticks"]
    stack._start("policy", "--rate", "50", "--target-deadline", "50")
    status = wait_for(e, lambda s: s["fsm"]["policy_allowed"] and s["targets"]["fresh"], timeout=20)
    assert status["fsm"]["policy_allowed"] and status["targets"]["fresh"], "the restarted policy rejoined"
    assert status["loop"]["ticks"] > ticks_before, "the same loop ran on through the restart"


def test_a_port_in_use_is_a_clear_error():
    e = Endpoints(base_port=next(_ports))
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", e.base_port + 2))
        with pytest.raises(EndpointError, match=rf"port {e.base_port + 2} \(control\) on 127.0.0.1 is in use"):
            check_ports_free(e)


def test_binding_beyond_loopback_needs_keys(tmp_path):
    with pytest.raises(EndpointError, match="beyond loopback.*bessemer keys"):
        Endpoints(host="0.0.0.0").check()
    with pytest.raises(EndpointError, match="server.key_secret is missing"):
        Endpoints(host="0.0.0.0", keys=tmp_path).check()
    create_keys(tmp_path)
    Endpoints(host="0.0.0.0", keys=tmp_path).check()


def test_fsm_and_status_commands_without_a_stack_say_so(capsys):
    from bessemer.cli import main

    assert main(["status", "--base-port", str(next(_ports))]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "answers on tcp://127.0.0.1" in err[0] and "bessemer run" in err[0]


def test_the_launcher_damps_the_robot_when_any_node_dies():
    from bessemer.launch import NodeDied

    said = []
    launcher = Launcher(LaunchConfig(Endpoints(stack="death", base_port=next(_ports)), ["--variant", "29dof"],
                                     sequence=(FsmId.STAND_UP,), perception=False, hold=0.2, duration=30),
                        say=said.append, show=quiet)
    try:
        launcher.start()
        launcher.run_sequence()
        launcher.procs["policy"].send_signal(signal.SIGKILL)
        with pytest.raises(NodeDied, match="policy node exited"):
            launcher.hold()
    finally:
        final = launcher.shutdown()
    assert final["fsm"]["state"] == 1 and "robot damped" in said
