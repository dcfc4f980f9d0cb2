"""Unitree's arm service and rt/arm_sdk against `bessemer deploy` while the walking policy drives the
simulated G1: gestures by either SDK's parameter form, Unitree's codes, and an rt/arm_sdk arm
motion that the arm follows while the legs keep walking, with no fall."""

import json
import signal
import subprocess
import sys
import time

import pytest
from cyclonedds.domain import Domain, DomainParticipant
from cyclonedds.pub import DataWriter
from cyclonedds.sub import DataReader
from cyclonedds.topic import Topic

from robots.dds_transport import cyclonedds_xml
from tests.helpers.unitree_crc import sign_low_cmd
from tests.robots import unitree_hg_reference as ref
from tests.robots.unitree_api_reference import ApiClient

pytestmark = [pytest.mark.timeout(240), pytest.mark.acceptance("unitree arm")]
EXECUTE, LIST = 7106, 7107
SET_FSM_ID, SET_VELOCITY, SET_TASK_ID = 7101, 7105, 7106
RIGHT_SHOULDER_PITCH, LEFT_SHOULDER_ROLL = 22, 16


def bessemer(*args, summary):
    return subprocess.Popen([sys.executable, "-m", "bessemer", *args, "--summary-json", str(summary)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    proc.wait(timeout=30)


class Joints:
    """The bridge's rt/lowstate, read by a plain CycloneDDS client."""

    def __init__(self, participant):
        self.reader = DataReader(participant, Topic(participant, "rt/lowstate", ref.LowState_))
        self.q = [0.0] * 35

    def read(self) -> list[float]:
        for state in self.reader.take(N=64):
            if isinstance(state, ref.LowState_):
                self.q = [m.q for m in state.motor_state]
        return self.q

    def reaches(self, joint, test, seconds) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if test(self.read()[joint]):
                return True
            time.sleep(0.02)
        return False


def test_gestures_and_arm_sdk_move_the_arms_while_the_legs_walk(dds_domain, tmp_path):
    bridge = bessemer("bridge", "--domain", str(dds_domain), "--released", summary=tmp_path / "bridge.json")
    time.sleep(1.0)
    deploy = bessemer("deploy", "--sim", "--domain", str(dds_domain), "--sequence", "1", "--duration", "120", "--max-state-age", "1000",
                      summary=tmp_path / "deploy.json")
    domain = Domain(dds_domain, cyclonedds_xml("lo"))
    participant = DomainParticipant(dds_domain)
    try:
        sport, arm = ApiClient(participant, "sport", timeout=10.0), ApiClient(participant, "arm", timeout=10.0)
        joints = Joints(participant)
        assert arm.wait_for_server(30) and sport.wait_for_server(30)
        assert arm.call(1) == (0, "1.0.0.14")
        assert arm.call(EXECUTE, {"data": 18})[0] == 7404, "gestures play only while the policy walks"
        assert arm.call(EXECUTE, {"data": 12})[0] == 7402, "an id Bessemer does not play"
        assert {"id": 18, "name": "high five"} in json.loads(arm.call(LIST)[1])
        assert sport.call(SET_TASK_ID, {"data": 0})[0] == 7404, "LocoClient's WaveHand: the arm service's code"
        assert sport.call(SET_TASK_ID, {"data": 7})[0] == 3204, "no such arm task"
        assert sport.call(SET_FSM_ID, {"data": 4})[0] == 0
        time.sleep(4.0)
        assert sport.call(SET_FSM_ID, {"data": 500})[0] == 0
        assert sport.call(SET_VELOCITY, {"velocity": [0.2, 0, 0], "duration": 60})[0] == 0
        time.sleep(1.0)

        assert arm.call(EXECUTE, {"data": 18})[0] == 0, "Python's form"
        assert joints.reaches(RIGHT_SHOULDER_PITCH, lambda q: q < -1.5, 30.0), "the right arm rose for the high five"
        assert joints.reaches(RIGHT_SHOULDER_PITCH, lambda q: q > 0.0, 30.0), "and came back"
        assert arm.call(EXECUTE, {"action_id": 15})[0] == 0, "C++'s form: hands up, held"
        assert arm.call(EXECUTE, {"data": 17})[0] == 7401, "a held gesture must be released first"
        assert arm.call(EXECUTE, {"data": 99})[0] == 0
        assert joints.reaches(RIGHT_SHOULDER_PITCH, lambda q: q > 0.0, 30.0), "released"
        assert sport.call(SET_TASK_ID, {"data": 2})[0] == 0, "LocoClient's ShakeHand, first stage"
        assert joints.reaches(RIGHT_SHOULDER_PITCH, lambda q: q < -0.7, 30.0), "the right hand held out"
        assert sport.call(SET_TASK_ID, {"data": 3})[0] == 0, "and its second stage"
        assert joints.reaches(RIGHT_SHOULDER_PITCH, lambda q: q > 0.0, 30.0), "released by the sport service"

        writer = DataWriter(participant, Topic(participant, "rt/arm_sdk", ref.LowCmd_))
        command = ref.LowCmd_()
        for slot in range(12, 29):
            command.motor_cmd[slot].kp, command.motor_cmd[slot].kd = 60.0, 1.5
            command.motor_cmd[slot].q = joints.read()[slot]
        command.motor_cmd[LEFT_SHOULDER_ROLL].q = 1.2
        command.motor_cmd[29].q = 1.0
        deadline = time.monotonic() + 30.0
        while time.monotonic() < deadline:
            writer.write(sign_low_cmd(command))
            time.sleep(0.02)
            if joints.read()[LEFT_SHOULDER_ROLL] > 1.0:
                break
        assert joints.read()[LEFT_SHOULDER_ROLL] > 1.0, "the left arm follows rt/arm_sdk"
        writer.write(sign_low_cmd(command))
        assert arm.call(EXECUTE, {"data": 18})[0] == 7400, "rt/arm_sdk holds the arms"
        assert joints.reaches(LEFT_SHOULDER_ROLL, lambda q: q < 0.5, 30.0), "silence hands the arm back to the policy"
        assert json.loads(sport.call(7001)[1])["data"] == 500, "still walking"
    finally:
        stop(deploy)
        stop(bridge)
        del domain
    deployed = json.loads((tmp_path / "deploy.json").read_text())
    assert deployed["fsm"]["faults"] == 0, deployed["fsm"]["last_fault"]
    assert deployed["unitree_services"]["arm_sdk"]["received"] > 10
    assert json.loads((tmp_path / "bridge.json").read_text())["base_xy_m"][0] > 1.0, "the legs kept walking"
