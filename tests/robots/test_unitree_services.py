"""Unitree's RPC services answered as a G1 answers them, to an independent client over real CycloneDDS:
the bridge's `motion_switcher` (a mode active until released, as Unitree's low-level example needs)."""

import json
import math
import signal
import subprocess
import sys
import time

import pytest
from cyclonedds.domain import Domain, DomainParticipant

from robots.dds_transport import cyclonedds_xml
from tests.robots.unitree_api_reference import ApiClient

pytestmark = pytest.mark.timeout(120)
CHECK, SELECT, RELEASE, SET_SILENT, GET_SILENT = 1001, 1002, 1003, 1004, 1005


@pytest.fixture
def bridge(dds_domain, tmp_path):
    summary = tmp_path / "bridge.json"
    proc = subprocess.Popen([sys.executable, "-m", "bessemer", "bridge", "--domain", str(dds_domain), "--summary-json",
                             str(summary)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    domain = Domain(dds_domain, cyclonedds_xml("lo"))
    client = ApiClient(DomainParticipant(dds_domain), "motion_switcher")
    try:
        assert client.wait_for_server(), "the bridge serves motion_switcher"
        yield client, proc, summary
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=20)
        del domain


def bridge_summary(proc, summary) -> dict:
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=20)
    return json.loads(summary.read_text())


def test_a_mode_is_active_until_released_as_the_low_level_example_expects(bridge):
    client, proc, summary = bridge
    assert client.call(1) == (0, "1.0.0.1"), "api 1 is the service's version"
    code, data = client.call(CHECK)
    assert code == 0 and json.loads(data) == {"form": "0", "name": "ai"}
    for _ in range(3):
        code, data = client.call(CHECK)
        if not json.loads(data)["name"]:
            break
        assert client.call(RELEASE)[0] == 0
    assert json.loads(client.call(CHECK)[1])["name"] == "", "released"
    assert client.call(SELECT, {"name": "ai"})[0] == 0
    assert json.loads(client.call(CHECK)[1])["name"] == "ai"
    assert client.call(SET_SILENT, {"silent": True})[0] == 0
    assert json.loads(client.call(GET_SILENT)[1]) == {"silent": True}
    counters = bridge_summary(proc, summary)["motion_switcher"]
    assert counters["mode"] == "ai" and counters["answered"] >= 9


def test_bad_requests_get_unitrees_codes_and_a_flood_of_300_per_second_is_answered_while_the_robot_runs(bridge):
    client, proc, summary = bridge
    assert client.call(1099)[0] == 3203, "an api the service does not have: not implemented"
    assert client.call(SELECT, "{not json")[0] == 3204
    assert client.call(SELECT, {"name": 7})[0] == 3204
    assert client.call(SET_SILENT, "[1, 2]")[0] == 3204
    client.send(CHECK, noreply=True)
    ids: set[int] = set()
    for _ in range(100):
        ids |= {client.send(CHECK) for _ in range(3)}
        time.sleep(0.01)
    answered: set[int] = set()
    deadline = time.monotonic() + 20
    while answered != ids and time.monotonic() < deadline:
        answered |= {r.header.identity.id for r in client.reader.take(N=64)}
        time.sleep(0.01)
    assert answered == ids, f"{len(ids - answered)} of 300 requests went unanswered"
    result = bridge_summary(proc, summary)
    assert result["motion_switcher"]["not_implemented"] == 1 and result["motion_switcher"]["bad_parameter"] == 3
    assert result["motion_switcher"]["answered"] == 4 + 1 + 300, "the noreply request was handled, not answered"
    assert result["loop"]["ticks"] > 0 and result["base_height_m"] > 0.7, "the robot kept running"


def test_unitrees_low_level_flow_release_zero_posture_and_ankle_swing(bridge, dds_domain):
    """Unitree's G1 low-level example, reproduced by an independent client: release the motion mode,
    move every joint to zero in 3 s, then swing the ankles, echoing the robot's mode_machine."""
    from cyclonedds.pub import DataWriter
    from cyclonedds.sub import DataReader
    from cyclonedds.topic import Topic

    from tests.helpers.unitree_crc import sign_low_cmd
    from tests.robots import unitree_hg_reference as ref

    client, proc, summary = bridge
    while json.loads(client.call(CHECK)[1])["name"]:
        assert client.call(RELEASE)[0] == 0
    participant = client.writer.participant
    states = DataReader(participant, Topic(participant, "rt/lowstate", ref.LowState_))
    commands = DataWriter(participant, Topic(participant, "rt/lowcmd", ref.LowCmd_))

    def newest(seconds=10.0) -> ref.LowState_:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            samples = [s for s in states.take(N=64) if isinstance(s, ref.LowState_)]
            if samples:
                return samples[-1]
            time.sleep(0.002)
        raise AssertionError("no LowState_")

    start = newest()
    first_q = [m.q for m in start.motor_state[:29]]

    def send(ratio: float, ankle: float = 0.0) -> ref.LowState_:
        command = ref.LowCmd_(mode_pr=0, mode_machine=start.mode_machine)
        for j in range(29):
            command.motor_cmd[j] = ref.MotorCmd_(mode=1, q=(1.0 - ratio) * first_q[j], kp=60.0, kd=1.0)
        command.motor_cmd[4].q = command.motor_cmd[10].q = ankle
        commands.write(sign_low_cmd(command))
        time.sleep(0.002)
        return newest()

    t0 = time.monotonic()
    while (t := time.monotonic() - t0) < 3.0:
        send(t / 3.0)
    legs_zeroed, deadline = False, time.monotonic() + 30.0
    while not legs_zeroed and time.monotonic() < deadline:
        legs_zeroed = max(abs(m.q) for m in send(1.0).motor_state[:15]) < 0.2
    assert legs_zeroed, "legs and waist went to the zero posture"
    swing, t0 = [], time.monotonic()
    while (t := time.monotonic() - t0) < 3.0:
        swing.append(send(1.0, 0.25 * math.sin(2 * math.pi * t)).motor_state[4].q)
    assert max(swing) > 0.15 and min(swing) < -0.15, "the left ankle swung both ways"
    counters = bridge_summary(proc, summary)["counters"]
    assert counters["commands"] > 500 and counters["bad_crc"] == 0 and counters["commands_while_mode_active"] == 0
