"""The deploy path end to end: real bridge processes, real CycloneDDS on loopback, the real loop."""

import json
import math
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from control.fsm import FsmId
from control.loop import LoopConfig
from control.safety import SafetyConfig
from robots import unitree_hg as hg
from robots.dds import DdsConfig, DdsRobot, DdsStartupError
from robots.dds_transport import DdsLink, write_bytes
from bessemer.runtime.session import ScriptedRun, SessionConfig
from bessemer.runtime.low_level import LowLevel, LowLevelConfig
from tests.helpers.unitree_crc import low_state_crc_ok, sign_low_cmd
from tests.robots import unitree_hg_reference as ref

pytestmark = pytest.mark.timeout(120)
MAX_STATE_AGE = 1.0
"""Long enough that a loaded machine stalling the bridge process does not fault the robot."""


def start_bridge(domain, tmp_path, *extra):
    summary = tmp_path / f"bridge{domain}.json"
    proc = subprocess.Popen([sys.executable, "-m", "bessemer", "bridge", "--domain", str(domain), "--summary-json",
                             str(summary), *extra], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return proc, summary


def stop_bridge(proc, summary):
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    return json.loads(summary.read_text()) if summary.exists() else None


def deploy_stack(domain):
    robot = DdsRobot(DdsConfig(domain=domain, first_state_timeout=20.0))
    config = LowLevelConfig(loop=LoopConfig(realtime=True), safety=SafetyConfig(max_state_age=MAX_STATE_AGE))
    return LowLevel(robot, config)


def test_deploy_stands_the_g1_up_through_the_bridge(dds_domain, tmp_path):
    proc, path = start_bridge(dds_domain, tmp_path)
    try:
        low = deploy_stack(dds_domain)
        run = ScriptedRun(low, SessionConfig(sequence=(FsmId.STAND_UP,), duration=3.0, hold=0.5))
        low.loop.run(run.tick)
        run.finish()
        summary = run.summary()
        low.robot.close()
    finally:
        bridge = stop_bridge(proc, path)
    assert summary["standing"] and summary["fsm"]["faults"] == 0, summary["events"]
    assert low.robot.counters.bad_crc == 0 and low.robot.counters.states > 500
    assert bridge["counters"]["commands"] > 500 and bridge["counters"]["bad_crc"] == 0
    assert not bridge["band_engaged"], "the band let go once the robot carried itself"
    assert abs(bridge["base_height_m"] - 0.784) < 0.02


@pytest.mark.parametrize("sig", [signal.SIGSTOP, signal.SIGKILL])
def test_a_silent_bridge_damps_the_loop_on_stale_state(dds_domain, tmp_path, sig):
    proc, path = start_bridge(dds_domain, tmp_path)
    marks = set()
    try:
        low = deploy_stack(dds_domain)
        run = ScriptedRun(low, SessionConfig(sequence=(FsmId.STAND_UP,), duration=3.0, hold=0.0))

        def watch(r):
            if r.stood_up_at is not None and "signal" not in marks and r.elapsed > r.stood_up_at + 1.5:
                os.kill(proc.pid, sig)
                marks.add("signal")
            if "signal" in marks and r.low.fsm.state == FsmId.DAMP:
                marks.add("damp")
                r.low.loop.stop()

        run.every(1, watch)
        low.loop.run(run.tick, max_ticks=10_000)
        low.robot.close()
    finally:
        if sig == signal.SIGSTOP:
            os.kill(proc.pid, signal.SIGCONT)
        stop_bridge(proc, path) if proc.poll() is None else None
        proc.kill()
    assert marks == {"signal", "damp"}, run.events
    assert "stale state: last valid state" in low.fsm.last_fault and low.fsm.faults == 1, (
        "damped once, after the signal, because the states stopped coming")


def test_a_plain_cyclonedds_client_drives_the_bridge_and_bad_crcs_move_nothing(dds_domain, tmp_path):
    from cyclonedds.domain import Domain, DomainParticipant
    from cyclonedds.pub import DataWriter
    from cyclonedds.sub import DataReader
    from cyclonedds.topic import Topic

    proc, path = start_bridge(dds_domain, tmp_path)
    try:
        config = Domain(dds_domain, '<CycloneDDS><Domain id="any"><General><Interfaces><NetworkInterface name="lo" '
                       'multicast="false"/></Interfaces><AllowMulticast>false</AllowMulticast></General><Discovery>'
                       '<ParticipantIndex>auto</ParticipantIndex><Peers><Peer address="127.0.0.1"/></Peers>'
                       '</Discovery></Domain></CycloneDDS>')
        dp = DomainParticipant(dds_domain)
        assert config is not None
        reader = DataReader(dp, Topic(dp, "rt/lowstate", ref.LowState_))
        writer = DataWriter(dp, Topic(dp, "rt/lowcmd", ref.LowCmd_))

        def latest_state(timeout=20.0):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                samples = reader.take(N=64)
                if samples:
                    return samples[-1]
                time.sleep(0.005)
            raise AssertionError("no LowState_ from the bridge")

        first = latest_state()
        assert low_state_crc_ok(first) and first.mode_machine == 5 and first.tick > 0

        def command(joint, target, corrupt, mode_pr=0, until=lambda state: True):
            """Write the command 100 times at 100 Hz, then on until the state satisfies `until` (20 s at most)."""
            cmd = ref.LowCmd_(mode_pr=mode_pr, mode_machine=first.mode_machine)
            cmd.motor_cmd[joint] = ref.MotorCmd_(mode=1, q=target, kp=40.0, kd=1.0)
            sign_low_cmd(cmd)
            if corrupt:
                cmd.crc ^= 1
            for _ in range(100):
                writer.write(cmd)
                time.sleep(0.01)
            deadline = time.monotonic() + 20
            while not until(state := latest_state()) and time.monotonic() < deadline:
                writer.write(cmd)
                time.sleep(0.01)
            return state

        bad = command(16, 1.0, corrupt=True)
        assert low_state_crc_ok(bad) and abs(bad.motor_state[16].q) < 0.1, "a bad-CRC command moved the shoulder"
        good = command(16, 1.0, corrupt=False, until=lambda state: state.motor_state[16].q > 0.8)
        assert low_state_crc_ok(good) and good.motor_state[16].q > 0.8, "a signed command moves the shoulder"
        assert good.mode_pr == 0
        ab = command(16, 0.5, corrupt=False, mode_pr=1)
        assert ab.mode_pr == 1, "the state echoes the command's mode_pr"
        held = ab.motor_state[16].q
        for target in (math.nan, math.inf, -math.inf):
            after = command(16, target, corrupt=False)
            assert low_state_crc_ok(after) and abs(after.motor_state[16].q - held) < 0.1, (
                f"a signed command with q={target} moved the shoulder")
    finally:
        bridge = stop_bridge(proc, path)
    assert bridge["counters"]["bad_crc"] >= 90 and bridge["counters"]["commands"] >= 90
    assert 90 <= bridge["counters"]["ab_mode_commands"] <= 100
    assert bridge["counters"]["non_finite_commands"] >= 300, "NaN and Inf commands are counted, never applied"


def test_a_second_commander_is_refused(dds_domain, tmp_path):
    proc, path = start_bridge(dds_domain, tmp_path)
    try:
        first = DdsRobot(DdsConfig(domain=dds_domain, first_state_timeout=20.0))
        with pytest.raises(DdsStartupError, match="another program already publishes rt/lowcmd"):
            DdsRobot(DdsConfig(domain=dds_domain))
        first.close()
    finally:
        stop_bridge(proc, path)


def test_a_robot_of_another_variant_is_refused(dds_domain, tmp_path):
    proc, path = start_bridge(dds_domain, tmp_path, "--mode-machine", "4")
    try:
        with pytest.raises(DdsStartupError, match="reports mode_machine 4.*pass --variant 23dof"):
            DdsRobot(DdsConfig(domain=dds_domain, first_state_timeout=20.0))
    finally:
        stop_bridge(proc, path)


def test_no_state_names_the_likely_causes(dds_domain):
    expected = rf"no valid LowState_ .* for 0.3 s \(domain {dds_domain}, interface lo\).*multicast"
    with pytest.raises(DdsStartupError, match=expected):
        DdsRobot(DdsConfig(domain=dds_domain, first_state_timeout=0.3))


def test_unknown_interface_is_refused():
    with pytest.raises(ValueError, match="network interface 'eth9' does not exist.*available: lo"):
        DdsRobot(DdsConfig(interface="eth9"))


def test_corrupt_states_are_dropped_and_counted_and_wrong_sizes_never_travel(dds_domain):
    link = DdsLink(dds_domain, "lo")
    writer = link.writer(link.state_topic)
    codec = hg.LowStateCodec()
    codec.message["mode_machine"] = 5
    codec.message["motor_state"]["q"][0] = 0.5
    good = codec.encode()
    publishing = threading.Event()
    publishing.set()

    def publish():
        while publishing.is_set():
            write_bytes(writer, good)
            time.sleep(0.005)

    thread = threading.Thread(target=publish)
    thread.start()
    try:
        robot = DdsRobot(DdsConfig(domain=dds_domain, discovery_time=0.0))
    finally:
        publishing.clear()
        thread.join()
    assert robot.read().q[0] == pytest.approx(0.5)
    codec.message["motor_state"]["q"][0] = 9.0
    corrupt = bytearray(codec.encode())
    corrupt[-1] ^= 0xFF
    write_bytes(writer, bytes(corrupt))
    with pytest.raises(RuntimeError, match="DDS write failed"):
        write_bytes(writer, good[:500])
    deadline = time.monotonic() + 20
    while robot.counters.bad_crc == 0 and time.monotonic() < deadline:
        robot.read()
        time.sleep(0.01)
    assert robot.counters.bad_crc == 1
    state = robot.read()
    assert state.q[0] == pytest.approx(0.5) and state.age[0] > 0.0
    assert np.isfinite(state.values).all()
    robot.close()
