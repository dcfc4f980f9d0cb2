"""The stack as processes: real nodes, real ZMQ sockets on loopback, real faults.

One stack serves the module, so tests run in file order: those that only look or send bad
messages first, then losing perception, then killing the policy.
"""

import os
import signal
import socket
import subprocess
import sys
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

pytestmark = [pytest.mark.timeout(180), pytest.mark.xdist_group("stack-processes")]
TARGET_DEADLINE_MS = 1000
"""Long enough that a loaded machine stalling the policy process does not fault the robot."""


def quiet(_):
    pass


@pytest.fixture(scope="module")
def stack(port_blocks):
    """A running stack in simulation, standing, with the policy driving (state 200) and every node heard."""
    endpoints = Endpoints(stack=f"test{os.getpid()}", base_port=port_blocks())
    launcher = Launcher(LaunchConfig(endpoints, ["--variant", "29dof"], hold=0.5,
                                     target_deadline_ms=TARGET_DEADLINE_MS), say=quiet, show=quiet)
    try:
        launcher.start()
        launcher.run_sequence()
        heard = wait_for(endpoints, lambda s: set(s["nodes"]) == {"policy", "perception"}, timeout=60)
        assert set(heard["nodes"]) == {"policy", "perception"}, {
            name: "running" if proc.poll() is None else proc.stderr.read()[-2000:]
            for name, proc in launcher.procs.items()}
        yield launcher
    finally:
        launcher.shutdown()


def wait_for(endpoints, predicate, timeout=20.0, interval=0.01):
    """The first status that satisfies `predicate`, or the last one seen when `timeout` runs out."""
    deadline = time.monotonic() + timeout
    while True:
        status = request_status(endpoints, timeout=10)
        if predicate(status) or time.monotonic() > deadline:
            return status
        time.sleep(interval)


def rejections(status):
    return sum(status["rejected"].values())


def test_bad_messages_are_rejected_and_counted_while_the_loop_keeps_its_rate(stack):
    e = stack.config.endpoints
    ctx = zmq.Context.instance()
    pub = e.connect(ctx, zmq.PUB, "targets")
    initial = request_status(e)

    def joined(status):
        pub.send_multipart([b"junk"])
        return rejections(status) > rejections(initial)

    before = wait_for(e, joined)
    assert rejections(before) > rejections(initial), "the stack never heard the test's publisher"
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
        wire.targets_frames(sid, 10**9 + 2, time.monotonic() + 30.0, np.full((6, 29), np.nan)),
        wire.targets_frames(sid, 10**9 + 3, time.monotonic() + 30.0, np.full((6, 29), np.inf)),
    ]
    for _ in range(50):
        for frames in bad:
            pub.send_multipart(frames)
        time.sleep(0.01)
    status = wait_for(e, lambda s: rejections(s) - rejections(before) >= 300
                      and s["targets"]["expired"] - before["targets"]["expired"] >= 50
                      and s["targets"]["non_finite"] - before["targets"]["non_finite"] >= 100)
    pub.close(0)
    rejected = status["rejected"]
    assert rejections(status) - rejections(before) >= 300, rejected
    assert any("wire version 9" in k for k in rejected) and any("stack id" in k for k in rejected)
    assert status["targets"]["expired"] - before["targets"]["expired"] >= 50, "expired targets are never applied"
    assert status["targets"]["non_finite"] - before["targets"]["non_finite"] >= 100, "NaN and Inf targets are refused"
    assert status["fsm"]["state"] == 200 and status["fsm"]["faults"] == 0, status["fsm"]["last_fault"]
    assert status["loop"]["rate_hz"] > 250, "the loop keeps running at rate"


def test_a_slow_subscriber_sees_only_fresh_state(stack):
    e = stack.config.endpoints
    sub = NewestOnly(e.connect(zmq.Context.instance(), zmq.SUB, "state", latest_only=True), wire.stack_id(e.stack),
                     wire.MsgType.STATE)
    deadline = time.monotonic() + 20
    while (first := sub.take()) is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert first is not None, "no state from the running stack"
    stalled_at = time.monotonic()
    time.sleep(1.0)
    h, _ = sub.take()
    after = sub.take()
    sub.sock.close(0)
    assert h.stamp > stalled_at and h.seq > first[0].seq + 1, "after a 1 s stall the message waiting is from the stall"
    assert after is None or after[0].seq > h.seq, "and nothing older is queued behind it"


def test_unknown_fsm_id_is_refused_by_the_running_stack(stack):
    accepted, state, message = request_fsm(stack.config.endpoints, 7)
    assert not accepted and state == 200 and "unknown FSM state id 7" in message


def test_a_second_stack_on_the_same_machine_does_not_cross_talk(stack, base_port):
    other = Endpoints(stack="other", base_port=base_port)
    launcher = Launcher(LaunchConfig(other, ["--variant", "29dof"], sequence=(FsmId.STAND_UP,), perception=False,
                                     hold=0.2), say=quiet, show=quiet)
    try:
        launcher.start()
        launcher.run_sequence()
        assert "policy" in wait_for(other, lambda s: "policy" in s["nodes"])["nodes"], "the second policy is heard"
        before = request_status(stack.config.endpoints)
        time.sleep(1.0)
        first, second = request_status(stack.config.endpoints), request_status(other)
        assert first["stack"] != second["stack"]
        assert first["fsm"]["state"] == 200 and second["fsm"]["state"] == 4
        assert first["rejected"] == before["rejected"] and not second["rejected"], "no message crossed over"
        assert set(second["nodes"]) == {"policy"} and first["nodes"]["policy"]["rate_hz"] > 25
    finally:
        launcher.shutdown()


def test_losing_perception_leaves_a_policy_that_does_not_use_it_driving(stack):
    e = stack.config.endpoints
    assert not request_status(e)["nodes"]["policy"]["degraded"]
    stack.procs["perception"].send_signal(signal.SIGKILL)
    status = wait_for(e, lambda s: s["nodes"]["perception"]["age_s"] > 1.5)
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


def test_a_policy_that_steers_by_percepts_is_degraded_without_them_and_one_that_does_not_is_not(base_port):
    e = Endpoints(stack=f"degraded{os.getpid()}", base_port=base_port)
    ctx = zmq.Context()
    steering, waving = PolicyNode(_Steering(), e, ctx), PolicyNode(ArmWavePolicy(), e, ctx)
    try:
        assert steering.degraded and "perception node" in steering.degraded_reason
        assert not waving.degraded and waving.degraded_reason == ""
    finally:
        steering.close()
        waving.close()
        ctx.term()


def test_killing_the_policy_damps_the_robot_on_stale_targets_and_a_restarted_policy_rejoins(stack):
    e = stack.config.endpoints
    before = request_status(e)
    assert before["fsm"]["state"] == 200 and before["targets"]["fresh"]
    killed_at = time.monotonic()
    stack.procs["policy"].send_signal(signal.SIGKILL)
    status = wait_for(e, lambda s: s["fsm"]["state"] == 1)
    assert status["fsm"]["state"] == 1 and status["fsm"]["since"] > killed_at, "damped after the kill"
    assert "policy targets stale" in status["fsm"]["last_fault"], "because the targets stopped coming"

    ticks_before = status["loop"]["ticks"]
    stack.procs["policy"] = subprocess.Popen(
        [sys.executable, "-m", "bessemer", "node", "policy", "--stack", e.stack, "--base-port", str(e.base_port),
         "--rate", "50", "--target-deadline", str(TARGET_DEADLINE_MS)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    status = wait_for(e, lambda s: s["fsm"]["policy_allowed"] and s["targets"]["fresh"])
    assert status["fsm"]["policy_allowed"] and status["targets"]["fresh"], "the restarted policy rejoined"
    assert status["loop"]["ticks"] > ticks_before, "the same loop ran on through the restart"


def test_a_port_in_use_is_a_clear_error(base_port):
    e = Endpoints(base_port=base_port)
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


def test_fsm_and_status_commands_without_a_stack_say_so(capsys, base_port):
    from bessemer.cli import main

    assert main(["status", "--base-port", str(base_port)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "answers on tcp://127.0.0.1" in err[0] and "bessemer run" in err[0]


def test_the_launcher_damps_the_robot_when_any_node_dies(base_port):
    from bessemer.launch import NodeDied

    said = []
    launcher = Launcher(LaunchConfig(Endpoints(stack="death", base_port=base_port), ["--variant", "29dof"],
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
