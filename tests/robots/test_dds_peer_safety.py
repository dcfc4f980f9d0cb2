"""A CycloneDDS 0.10 participant (Unitree's SDK, the G1's own services) must survive Bessemer.

0.10 knows XTypes 1.2's TK_BYTE for a byte and crashes on 1.3's TK_UINT8 when it meets the type
objects of an 11.x participant. These tests run a real 0.10.2 process beside real Bessemer processes.
"""

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from robots import unitree_go as go
from robots import unitree_hg as hg
from robots.dds_transport import cyclonedds_xml, idl_type
from robots.motion_switcher import Request_, Response_

pytestmark = [pytest.mark.timeout(240), pytest.mark.xdist_group("cyclonedds010")]
PEER_SCRIPT = Path(__file__).parents[1] / "peers" / "cyclonedds010_peer.py"


SDK_XML = ('<CycloneDDS><Domain id="any"><General><Interfaces><NetworkInterface name="{}" priority="default" '
           'multicast="default"/></Interfaces></General></Domain></CycloneDDS>')
"""What Unitree's SDK builds for `ChannelFactoryInitialize(domain, interface)`: the interface,
multicast by default, no peers (and `CYCLONEDDS_URI` is not read)."""

NETWORKS = {
    "lo without MULTICAST (Linux's default)": ("lo", 1, "ip link set lo multicast off"),
    "lo with MULTICAST": ("lo", 1, "ip link set lo multicast on"),
    "a robot's wired interface, domain 0": ("g1eth", 0, "ip link add g1eth type veth peer name g1peer && ip link set g1peer up "
                                            "&& ip addr add 192.168.123.99/24 dev g1eth && ip link set g1eth up"),
}


PEER_MAX_S = 60
"""Only a bound: the peer ends once it has exchanged enough messages with Bessemer."""


def peer(python, mode, *args):
    """The 0.10.2 process, started first: Bessemer is the one that joins."""
    return subprocess.Popen([python, str(PEER_SCRIPT), mode, *map(str, args), cyclonedds_xml("lo")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc):
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, f"the 0.10.2 peer died with {proc.returncode}: {err[-2000:]}"
    return json.loads(out.strip().splitlines()[-1])


def test_the_type_objects_equal_those_of_unitrees_definitions_under_0_10(cyclonedds010_python):
    out = subprocess.run([cyclonedds010_python, str(PEER_SCRIPT), "typeinfo"], capture_output=True, text=True,
                         check=True).stdout
    theirs = json.loads(out)
    for ours in (idl_type(hg.LOW_CMD), idl_type(hg.LOW_STATE), Request_, Response_, idl_type(go.SPORT_MODE_STATE)):
        ours.__idl__.fill_type_data()
        info, mapping = ours.__idl__._xt_bytedata
        assert (info + mapping).hex() == theirs[ours.__idl_typename__], ours.__idl_typename__


def test_a_0_10_client_lives_beside_the_bridge_both_ways(cyclonedds010_python, dds_domain, tmp_path):
    client = peer(cyclonedds010_python, "client", dds_domain, PEER_MAX_S)
    summary = tmp_path / "bridge.json"
    bridge = subprocess.Popen([sys.executable, "-m", "bessemer", "bridge", "--domain", str(dds_domain),
                               "--summary-json", str(summary)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        counts = finish(client)
        bridge.send_signal(signal.SIGINT)
        bridge.wait(timeout=120)
    finally:
        bridge.kill()
        client.kill()
    assert bridge.returncode == 0, bridge.stderr.read()[-2000:]
    served = json.loads(summary.read_text())["counters"]
    assert counts["states"] > 100 and counts["states_crc_ok"] == counts["states"], counts
    assert served["commands"] > 100 and served["bad_crc"] == 0 and served["wrong_mode_machine"] == 0, served
    sport = counts["last_sport_state"]
    assert counts["sport_states"] > 100, counts
    assert 0.6 < sport["body_height"] < 0.85 and sport["position"][2] == sport["body_height"], sport
    assert abs(sum(v * v for v in sport["quaternion"]) - 1.0) < 1e-4 and sport["stamp"] > 1.0, sport


def test_deploy_lives_beside_a_0_10_robot_both_ways(cyclonedds010_python, dds_domain, tmp_path):
    robot = peer(cyclonedds010_python, "robot", dds_domain, PEER_MAX_S)
    summary = tmp_path / "deploy.json"
    deploy = subprocess.run([sys.executable, "-m", "bessemer", "deploy", "--iface", "lo", "--domain", str(dds_domain), "--max-state-age", "1000",
                             "--sequence", "1", "--duration", "2", "--summary-json", str(summary)],
                            capture_output=True, text=True, timeout=120)
    counts = finish(robot)
    assert deploy.returncode == 0, deploy.stderr[-2000:]
    dds = json.loads(summary.read_text())["dds"]
    assert counts["requests"] >= 1, "deploy asked the robot's motion_switcher before taking over"
    assert dds["states"] > 100 and dds["bad_crc"] == 0, dds
    assert counts["commands"] > 100 and counts["commands_crc_ok"] == counts["commands"], counts


@pytest.mark.parametrize("network", NETWORKS)
def test_a_peer_with_the_sdks_own_configuration_meets_the_bridge(cyclonedds010_python, tmp_path, network):
    """In a network namespace of its own, so the interface's flags are the test's to set."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare to make a private network namespace")
    interface, domain, setup = NETWORKS[network]
    summary, counts = tmp_path / "bridge.json", tmp_path / "peer.json"
    peer_cmd = [cyclonedds010_python, str(PEER_SCRIPT), "client", str(domain), str(PEER_MAX_S), SDK_XML.format(interface)]
    bridge_cmd = [sys.executable, "-m", "bessemer", "bridge", "--domain", str(domain), "--iface", interface,
                  "--summary-json", str(summary)]
    script = (f"set -m\nip link set lo up && {setup} || exit 97\n{shlex.join(peer_cmd)} > {counts} & peer=$!\n"
              f"{shlex.join(bridge_cmd)} > /dev/null & bridge=$!\n"
              "wait $peer; ran=$?; kill -INT $bridge; wait $bridge || exit $?; exit $ran")
    done = subprocess.run(["unshare", "--net", "bash", "-c", script], capture_output=True, text=True, timeout=180)
    if done.returncode == 97 or "unshare failed" in done.stderr:
        pytest.skip(f"no private network namespace here: {done.stderr.strip()[-200:]}")
    assert done.returncode == 0, done.stderr[-2000:]
    got, served = json.loads(counts.read_text()), json.loads(summary.read_text())["counters"]
    assert got["states"] > 100 and got["states_crc_ok"] == got["states"], got
    assert served["commands"] > 100 and served["bad_crc"] == 0, served
