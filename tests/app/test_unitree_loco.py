"""Unitree's LocoClient flow against `bessemer deploy` on the simulated G1, with an independent client:
damp, stand up, start, Move 0.3 m/s for 5 s walks at least 1 m, stop, damp; bad requests get Unitree's
codes; a second `sport` server on the domain keeps deploy from serving."""

import json
import signal
import subprocess
import sys
import time

import pytest
from cyclonedds.domain import Domain, DomainParticipant
from cyclonedds.pub import DataWriter
from cyclonedds.topic import Topic

from robots.dds_transport import cyclonedds_xml
from tests.robots.unitree_api_reference import ApiClient, Response_

pytestmark = [pytest.mark.timeout(240), pytest.mark.acceptance("unitree loco")]
GET_FSM_ID, GET_FSM_MODE, SET_FSM_ID, SET_BALANCE_MODE, SET_VELOCITY = 7001, 7002, 7101, 7102, 7105


def bessemer(*args, summary=None):
    extra = ["--summary-json", str(summary)] if summary else []
    return subprocess.Popen([sys.executable, "-m", "bessemer", *args, *extra], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    proc.wait(timeout=30)


def wait_state(client, wanted, seconds=20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        code, data = client.call(GET_FSM_ID)
        if code == 0 and json.loads(data)["data"] == wanted:
            return True
        time.sleep(0.2)
    return False


def test_loco_client_flow_damps_stands_walks_a_metre_and_stops(dds_domain, tmp_path):
    bridge_summary, deploy_summary = tmp_path / "bridge.json", tmp_path / "deploy.json"
    bridge = bessemer("bridge", "--domain", str(dds_domain), "--released", summary=bridge_summary)
    time.sleep(1.0)
    deploy = bessemer("deploy", "--sim", "--domain", str(dds_domain), "--sequence", "1", "--duration", "120", "--max-state-age", "1000",
                      summary=deploy_summary)
    domain = Domain(dds_domain, cyclonedds_xml("lo"))
    try:
        client = ApiClient(DomainParticipant(dds_domain), "sport", timeout=10.0)
        assert client.wait_for_server(30), deploy.stderr.read() if deploy.poll() is not None else "no sport server"
        assert client.call(1) == (0, "1.0.0.0")
        assert client.call(SET_FSM_ID, {"data": 1})[0] == 0
        assert client.call(SET_VELOCITY, {"velocity": [0.3, 0, 0], "duration": 1.0})[0] == 7301, "not walking yet"
        assert client.call(SET_FSM_ID, {"data": 999})[0] == 7302
        assert client.call(SET_FSM_ID, {"data": 200})[0] == 7301, "damp -> start is not a transition"
        assert client.call(SET_FSM_ID, {"data": 4})[0] == 0
        assert wait_state(client, 4)
        time.sleep(3.0)
        assert client.call(SET_FSM_ID, {"data": 500})[0] == 0
        assert json.loads(client.call(GET_FSM_ID)[1])["data"] == 500
        assert client.call(SET_VELOCITY, {"velocity": [3.0, 0, 0], "duration": 1.0})[0] == 3204, "beyond training"
        assert client.call(SET_VELOCITY, {"velocity": [0.3, 0, 0]})[0] == 0
        assert client.call(SET_BALANCE_MODE, {"data": 1})[0] == 0
        time.sleep(1.0)
        assert client.call(SET_VELOCITY, {"velocity": [0.3, 0, 0], "duration": 5.0})[0] == 0
        assert json.loads(client.call(GET_FSM_MODE)[1])["data"] == 1, "moving"
        time.sleep(5.5)
        assert json.loads(client.call(GET_FSM_MODE)[1])["data"] == 0, "the command ends with its duration"
        assert client.call(SET_VELOCITY, {"velocity": [0, 0, 0], "duration": 1.0})[0] == 0
        time.sleep(1.0)
        assert json.loads(client.call(GET_FSM_ID)[1])["data"] == 500, "still walking in place, not fallen"
        assert client.call(SET_FSM_ID, {"data": 1})[0] == 0
        assert wait_state(client, 1)
    finally:
        stop(deploy)
        stop(bridge)
        del domain
    deployed = json.loads(deploy_summary.read_text())
    robot = json.loads(bridge_summary.read_text())
    assert deployed["fsm"]["faults"] == 0, deployed["fsm"]["last_fault"]
    assert robot["base_xy_m"][0] >= 1.0, f"walked {robot['base_xy_m'][0]:.2f} m forward"
    assert deployed["unitree_services"]["sport"]["not_implemented"] == 0


def test_a_second_sport_server_keeps_deploy_from_serving(dds_domain, tmp_path):
    bridge = bessemer("bridge", "--domain", str(dds_domain), "--released")
    domain = Domain(dds_domain, cyclonedds_xml("lo"))
    participant = DomainParticipant(dds_domain)
    other = DataWriter(participant, Topic(participant, "rt/api/sport/response", Response_))
    try:
        time.sleep(1.0)
        deploy = subprocess.run([sys.executable, "-m", "bessemer", "deploy", "--sim", "--domain", str(dds_domain),
                                 "--duration", "1"], capture_output=True, text=True, timeout=120)
        assert deploy.returncode == 2
        assert "another 'sport' server already answers" in deploy.stderr
    finally:
        stop(bridge)
        del other, domain
