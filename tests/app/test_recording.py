"""`--record FILE.mcap`: every tick kept bit for bit, readable by third-party MCAP readers, and readable up
to the cut when the process is killed."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from mcap.reader import make_reader
from mcap_ros1.decoder import DecoderFactory

from bessemer.cli import main
from bessemer.runtime.low_level import LowLevelConfig, SimLowLevel
from bessemer.runtime.recorder import Recorder, RecorderConfig
from bessemer.runtime.recording import read_recording
from bessemer.runtime.session import SessionConfig, SimSession
from control.fsm import FsmId
from control.loop import LoopConfig
from policies.inference import SHIPPED_WALK_POLICY, LearnedPolicy
from policies.observation import ActionMapper
from tests.helpers.recordings import SHARED, camera_run  # noqa: F401 (a fixture)

ROOT = Path(__file__).resolve().parents[2]
TOPICS = {"/robot/state", "/robot/command", "/fsm/state", "/fsm/events", "/policy/targets", "/sim/pelvis"}


def test_lockstep_sim_records_every_tick(tmp_path):
    path, summary_path = tmp_path / "run.mcap", tmp_path / "summary.json"
    assert main(["sim", "--lockstep", "--duration", "2", "--record", str(path), "--summary-json", str(summary_path)]) == 0
    summary = json.loads(summary_path.read_text())
    ticks = summary["loop"]["ticks"]
    assert summary["recording"] == {"path": str(path), "ticks": ticks, "written": ticks, "dropped": 0,
                                    "events": summary["recording"]["events"], "policy_targets": 0,
                                    "policy_targets_dropped": 0,
                                    "bytes": path.stat().st_size}
    recording = read_recording(path)
    assert recording.complete
    for topic in ("/robot/state", "/robot/command", "/fsm/state"):
        assert np.array_equal(recording.channels[topic]["tick"], np.arange(ticks)), topic
    state = recording.channels["/robot/state"]
    assert np.allclose(np.diff(state["time"]), 0.002)
    assert state["time"][-1] == pytest.approx(summary["sim_time_s"], abs=1e-9)
    fsm = recording.channels["/fsm/state"]
    assert fsm["state"][0] == FsmId.DAMP and fsm["state"][-1] == FsmId.STAND_UP and not fsm["faulted"].any()
    kinds = [(e["kind"], e["text"]) for e in recording.events]
    assert ("state", "1 -> 4") in kinds and any(text.endswith("standing") for kind, text in kinds if kind == "run")


def test_recorded_arrays_are_bit_equal_to_the_loops(tmp_path):
    low = SimLowLevel(LowLevelConfig(loop=LoopConfig(realtime=False)))
    session = SimSession(low, SessionConfig(duration=0.3))
    recorder = Recorder(tmp_path / "run.mcap", low.robot.num_motors, RecorderConfig(wait_when_full=True, capacity=64))
    recorder.attach(session)
    seen: dict[str, list] = {"state": [], "command": [], "robot_tick": []}

    def capture(run: SimSession) -> None:
        seen["state"].append(run.low.controller.state.values.copy())
        seen["command"].append(run.low.controller.command.values.copy())
        seen["robot_tick"].append(run.low.controller.state.tick)

    session.every(1, capture)
    low.loop.run(session.tick)
    assert recorder.close()["dropped"] == 0
    recording = read_recording(tmp_path / "run.mcap")
    state, command = recording.channels["/robot/state"], recording.channels["/robot/command"]
    n = low.robot.num_motors
    loop_state, loop_command = np.array(seen["state"]), np.array(seen["command"])
    assert len(state) == len(loop_state) == low.loop.timing.ticks
    fields = ("q", "dq", "tau_est", "temperature")
    for i, name in enumerate(fields):
        assert np.array_equal(state[name], loop_state[:, i * n:(i + 1) * n]), name
    assert np.array_equal(state["quat"], loop_state[:, 4 * n:4 * n + 4])
    assert np.array_equal(state["gyro"], loop_state[:, 4 * n + 4:4 * n + 7])
    assert np.array_equal(state["accel"], loop_state[:, 4 * n + 7:4 * n + 10])
    assert np.array_equal(state["robot_tick"], seen["robot_tick"])
    for i, row in enumerate(("q", "dq", "tau", "kp", "kd", "enable")):
        assert np.array_equal(command[row], loop_command[:, i]), row


def test_a_policy_run_records_its_targets(tmp_path):
    path = tmp_path / "walk.mcap"
    assert main(["sim", "--lockstep", "--sequence", "4,200", "--duration", "0.5", "--record", str(path)]) == 0
    recording = read_recording(path)
    targets = recording.channels["/policy/targets"]
    assert len(targets) > 10 and np.all(np.diff(targets["seq"]) > 0)
    assert (recording.channels["/fsm/state"]["state"] == FsmId.START).any()
    assert ("state", "4 -> 200") in [(e["kind"], e["text"]) for e in recording.events]
    observation, action = recording.channels["/policy/observation"], recording.channels["/policy/action"]
    contract = LearnedPolicy(SHIPPED_WALK_POLICY).contract
    assert observation["observation"].shape == (len(targets), contract.obs_size)
    assert action["action"].shape == (len(targets), contract.action_size)
    assert np.array_equal(observation["seq"], targets["seq"]) and np.array_equal(action["seq"], targets["seq"])
    sin, cos = observation["observation"][:, -2], observation["observation"][:, -1]
    policy_time = np.mod(np.arctan2(sin, cos), 2 * np.pi) / (2 * np.pi) * contract.gait_period
    mapped = ActionMapper(contract).targets(action["action"], policy_time)
    assert np.allclose(mapped, targets["q"], atol=1e-5), "each target row comes from the action beside it"
    meta = recording.metadata["bessemer"]
    assert meta["variant"] == "29dof" and meta["contract_hash"] == contract.hash() and meta["mode"] == "lockstep"
    assert recording.metadata["bessemer.summary"]["written"] == json.dumps(len(recording.channels["/robot/state"]))


def test_a_third_party_reader_lists_and_decodes_the_channels(tmp_path):
    path = tmp_path / "run.mcap"
    assert main(["sim", "--lockstep", "--duration", "0.2", "--record", str(path)]) == 0
    ours = read_recording(path)
    with path.open("rb") as f:
        reader = make_reader(f, decoder_factories=[DecoderFactory()])
        summary = reader.get_summary()
        channels = {c.topic: (summary.schemas[c.schema_id].name, summary.schemas[c.schema_id].encoding,
                              c.message_encoding) for c in summary.channels.values()}
        assert set(channels) == TOPICS
        assert all((schema, message) == ("ros1msg", "ros1") for _, schema, message in channels.values())
        assert channels["/robot/state"][0] == "bessemer/RobotState"
        counts = summary.statistics.channel_message_counts
        state_id = next(c.id for c in summary.channels.values() if c.topic == "/robot/state")
        assert counts[state_id] == len(ours.channels["/robot/state"])
        decoded = [(m.log_time, d) for _, _, m, d in reader.iter_decoded_messages(topics=["/robot/state"])]
    last_time, last = decoded[-1]
    mine = ours.channels["/robot/state"][-1]
    assert last.tick == mine["tick"] and last_time == round(mine["time"] * 1e9)
    assert np.array_equal(np.array(last.q), mine["q"]) and np.array_equal(np.array(last.quat), mine["quat"])


def _recording_subprocess(path: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bessemer", "sim", "--duration", "30", "--record", str(path)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_for_bytes(proc: subprocess.Popen, path: Path, size: int) -> None:
    deadline = time.monotonic() + 120
    while not (path.exists() and path.stat().st_size > size):
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "the recording did not grow"
        time.sleep(0.1)


def _assert_contiguous_from_start(recording) -> None:
    ticks = recording.channels["/robot/state"]["tick"]
    assert len(ticks) > 100 and np.array_equal(ticks, np.arange(len(ticks)))


def test_sigkill_leaves_a_recording_readable_up_to_the_cut(tmp_path):
    path = tmp_path / "killed.mcap"
    proc = _recording_subprocess(path)
    _wait_for_bytes(proc, path, 200_000)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    recording = read_recording(path)
    assert not recording.complete
    _assert_contiguous_from_start(recording)
    assert ("state", "1 -> 4") in [(e["kind"], e["text"]) for e in recording.events]


def test_ctrl_c_finishes_the_recording(tmp_path):
    path = tmp_path / "interrupted.mcap"
    proc = _recording_subprocess(path)
    _wait_for_bytes(proc, path, 100_000)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 0
    recording = read_recording(path)
    assert recording.complete
    _assert_contiguous_from_start(recording)


def test_an_existing_recording_is_kept_unless_forced(tmp_path, capsys):
    path = tmp_path / "run.mcap"
    path.write_bytes(b"last week's run")
    assert main(["sim", "--lockstep", "--duration", "0.1", "--record", str(path)]) == 2
    assert "--record" in capsys.readouterr().err and path.read_bytes() == b"last week's run"
    assert main(["sim", "--lockstep", "--duration", "0.1", "--record", str(path), "--force"]) == 0
    assert read_recording(path).complete


@pytest.mark.timeout(120)
def test_deploy_and_the_bridge_record_the_robot_each_from_its_side(dds_domain, tmp_path):
    """The bridge's log (the simulated robot's states, the commands it applied, the pelvis) replays to numerical
    noise: each tick's state and command are paired as a controller sees them."""
    from robots.dds import DdsConfig, DdsRobot
    from tests.app.test_dds_deploy import start_bridge, stop_bridge

    path, summary_path, bridge_path = tmp_path / "deploy.mcap", tmp_path / "deploy.json", tmp_path / "bridge.mcap"
    proc, bridge_summary = start_bridge(dds_domain, tmp_path, "--record", str(bridge_path))
    try:
        DdsRobot(DdsConfig(domain=dds_domain, first_state_timeout=60.0)).close()  # the bridge serves states
        code = main(["deploy", "--sim", "--domain", str(dds_domain), "--duration", "1", "--no-unitree-services",
                     "--max-state-age", "1000", "--record", str(path), "--summary-json", str(summary_path)])
    finally:
        bridged = stop_bridge(proc, bridge_summary)
    summary = json.loads(summary_path.read_text())
    assert bridged["recording"]["written"] == bridged["recording"]["ticks"] == bridged["loop"]["ticks"]
    served = read_recording(bridge_path)
    assert served.complete and set(served.channels) == {"/robot/state", "/robot/command", "/sim/pelvis"}
    for topic, channel in served.channels.items():
        assert np.array_equal(channel["tick"], np.arange(bridged["loop"]["ticks"])), topic
    assert served.metadata["bessemer"]["backend"] == "bridge"
    assert served.channels["/robot/command"]["kp"].max() > 0, "the deploy's stand-up gains, as applied"
    out = tmp_path / "replay.json"
    assert main(["replay", str(bridge_path), "--json", str(out)]) == 0
    replayed = json.loads(out.read_text())
    assert replayed["start"] == "exact" and replayed["stopped_at_tick"] is None
    assert max(j["q_rad"]["max"] for j in replayed["joints"].values()) < 1e-9
    assert replayed["pelvis"]["position_m"]["max"] < 1e-9
    assert main(["view", str(bridge_path), "--save", str(tmp_path / "bridge.rrd"), "--fps", "25"]) == 0
    assert main(["dataset", str(bridge_path), "--out", str(tmp_path / "bridge_dataset"), "--fps", "25"]) == 0
    assert code == 0, summary["events"]
    recording = read_recording(path)
    state = recording.channels["/robot/state"]
    assert recording.complete and len(state) == summary["recording"]["written"] > 500
    assert summary["recording"]["written"] + summary["recording"]["dropped"] == summary["loop"]["ticks"]
    assert np.all(np.diff(state["robot_tick"].astype(np.int64)) >= 0), "the robot's own ticks, in order"
    assert recording.channels["/fsm/state"]["state"][-1] == FsmId.STAND_UP


def test_bessemer_run_records_every_tick_of_its_low_level_node(base_port, tmp_path):
    """Targets stay valid for a second: on a loaded 2-core machine the policy node can stall past 50 ms."""
    path, summary_path = tmp_path / "run.mcap", tmp_path / "run.json"
    assert main(["run", "--sim", "--stack", "recorded", "--base-port", str(base_port), "--no-perception",
                 "--hold", "0.5", "--duration", "0.5", "--target-deadline", "1000", "--record", str(path),
                 "--summary-json", str(summary_path)]) == 0
    recording = read_recording(path)
    assert recording.complete
    ticks = len(recording.channels["/robot/state"])
    assert recording.metadata["bessemer.summary"]["dropped"] == "0"
    for topic in ("/robot/state", "/robot/command", "/fsm/state", "/sim/pelvis"):
        assert np.array_equal(recording.channels[topic]["tick"], np.arange(ticks)), topic
    fsm = recording.channels["/fsm/state"]["state"]
    assert FsmId.START in fsm and fsm[-1] == FsmId.DAMP, "stood, drove, and damped at shutdown"
    assert {("state", "1 -> 4"), ("state", "4 -> 200")} <= {(e["kind"], e["text"]) for e in recording.events}
    targets = recording.channels["/policy/targets"]
    assert len(targets) > 10 and np.all(np.diff(targets["seq"]) > 0), "the policy node's targets, as they came"
    assert recording.metadata["bessemer"]["mode"] == "realtime"


@pytest.mark.slow
def test_bessemer_run_records_the_perception_nodes_percepts(base_port, tmp_path):
    """Slow: the perception node takes seconds to load its models before its first percept."""
    path = tmp_path / "run.mcap"
    assert main(["run", "--sim", "--stack", "percepts", "--base-port", str(base_port), "--sequence", "4",
                 "--hold", "0.5", "--duration", "8", "--record", str(path)]) == 0
    recording = read_recording(path)
    percepts = recording.channels["/perception/percept"]
    assert len(percepts) >= 10 and np.all(np.diff(percepts["tick"]) > 0), "the perception node's, as they came"
    assert np.all((percepts["target_probability"] >= 0) & (percepts["target_probability"] <= 1))
    assert len(recording.tokens) == len(percepts)


def test_a_disk_that_fills_under_bessemer_run_ends_it_with_the_nodes_one_line(base_port, tmp_path):
    """The low-level node that records is another process: its one line reaches the user, and the run still
    damped the robot first."""
    path = tmp_path / "full.mcap"
    proc = subprocess.run([sys.executable, "-m", "bessemer", "run", "--sim", "--stack", "full", "--base-port",
                           str(base_port), "--no-perception", "--sequence", "4", "--hold", "0.5", "--duration", "0.5",
                           "--record", str(path)], cwd=ROOT, capture_output=True, text=True, timeout=240,
                          preexec_fn=_small_disk(300_000))
    assert proc.returncode == 2, proc.stderr[-2000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("bessemer: error: --record") and "File too large" in last and "reads up to the cut" in last
    assert "robot damped" in proc.stderr
    recording = read_recording(path)
    assert not recording.complete
    _assert_contiguous_from_start(recording)


@SHARED
def test_camera_frames_are_recorded_as_compressed_images_at_their_own_rate(camera_run):
    """Every frame of a camera rendered at 10 Hz beside the 500 Hz loop lands as a JPEG
    `sensor_msgs/CompressedImage` that a third-party decoder reads, close to what was rendered."""
    from PIL import Image

    rendered = camera_run.rendered
    recording = read_recording(camera_run.path)
    frames = recording.cameras["head"]
    assert camera_run.summary["camera_head"] == {"frames": len(rendered), "dropped": 0} and len(rendered) > 5
    assert np.array_equal(frames.tick, np.arange(len(rendered)) * 50)
    state = recording.channels["/robot/state"]
    assert np.allclose(frames.time, state["time"][frames.tick], atol=1e-6)
    for i, truth in enumerate(rendered):
        image = frames.image(i)
        assert image.shape == truth.shape and np.abs(image.astype(int) - truth).mean() < 4.0, "JPEG of that frame"
    with camera_run.path.open("rb") as f:
        decoded = [d for _, _, _, d in make_reader(f, decoder_factories=[DecoderFactory()])
                   .iter_decoded_messages(topics=["/camera/head"])]
    assert [d.format for d in decoded] == ["jpeg"] * len(rendered)
    height, width, _ = rendered[-1].shape
    assert Image.open(io.BytesIO(bytes(decoded[-1].data))).size == (width, height)


def _small_disk(limit: int):
    """A file-size limit makes the recording's writes fail past `limit` bytes, as a full disk does."""
    def apply() -> None:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_a_disk_that_fills_ends_the_run_with_one_line_and_a_readable_file(tmp_path):
    """The loop runs on unrecorded (lock-step waits for no writer that has failed); the command ends with one
    line naming the file and how much it holds, and the file reads up to the cut."""
    path = tmp_path / "full.mcap"
    proc = subprocess.run([sys.executable, "-m", "bessemer", "sim", "--lockstep", "--duration", "2", "--record",
                           str(path)], cwd=ROOT, capture_output=True, text=True, timeout=240,
                          preexec_fn=_small_disk(300_000))
    assert proc.returncode == 2, proc.stderr[-2000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("bessemer: error: --record") and "File too large" in last and "reads up to the cut" in last
    assert "sequence done" in proc.stderr, "the run went on to its end"
    recording = read_recording(path)
    assert not recording.complete
    _assert_contiguous_from_start(recording)


@SHARED
def test_percepts_are_recorded_as_the_task_received_them_and_shown(tmp_path):
    """Standing up in the follow-sound scene: each 10 Hz percept (the sound's and the target's bearings, what
    is sounding) is on `/perception/percept` at the tick it came, and `bessemer view` plots it."""
    from bessemer.tasks.follow_sound import FollowSound
    from bessemer.tasks.follow_sound_scene import FollowSoundScene, FollowSoundTask
    from perception.sound_classes import SOUND_CLASSES
    from policies.inference import SHIPPED_WALK_POLICY, LearnedPolicy
    from sim.world import WorldConfig

    low = SimLowLevel(LowLevelConfig(world=WorldConfig(target_ball=True), loop=LoopConfig(realtime=False)))
    session = SimSession(low, SessionConfig(duration=0.1, hold=0.3))
    task = FollowSoundTask(session, FollowSound(LearnedPolicy(SHIPPED_WALK_POLICY)), FollowSoundScene.from_seed(3))
    received: list[tuple[int, object]] = []
    session.every(1, lambda run: received.append((low.loop.timing.ticks, task.last_percept))
                  if task.last_percept is not None and (not received or received[-1][1] is not task.last_percept)
                  else None)
    path = tmp_path / "percepts.mcap"
    recorder = Recorder(path, low.robot.num_motors, RecorderConfig(wait_when_full=True))
    recorder.attach(session, percepts=task)
    try:
        low.loop.run(session.tick)
    finally:
        task.close()
    summary = recorder.close()
    recording = read_recording(path)
    percepts = recording.channels["/perception/percept"]
    assert summary["percepts"] == {"written": task.percepts, "dropped": 0} and len(percepts) == task.percepts >= 5
    state = recording.channels["/robot/state"]
    assert np.array_equal(state["time"][percepts["tick"]], percepts["time"])
    assert np.all(np.diff(percepts["tick"]) == round(task.period / low.config.loop.period)), "at the task's rate"
    sent = [p for _, p in received]
    for name in ("sound_bearing_deg", "target_probability", "target_bearing_deg", "target_distance_m"):
        assert np.array_equal(percepts[name], [getattr(p, name) for p in sent], equal_nan=True), name
    assert np.isfinite(percepts["sound_bearing_deg"][-1]), "the sound was heard"
    assert json.loads(recording.metadata["perception"]["sound_classes"]) == list(SOUND_CLASSES)
    assert [SOUND_CLASSES[c - 1] if c else "" for c in percepts["sound_class"]] == [p.sound_class for p in sent]
    assert [t for t, _, _ in recording.tokens] == list(percepts["tick"])
    assert all(np.array_equal(ids, p.tokens) for (_, _, ids), p in zip(recording.tokens, sent))
    assert sum(len(p.tokens) for p in sent) > 0, "the microphones' sound became codebook tokens"
    with path.open("rb") as f:
        decoded = [list(m.tokens) for _, _, _, m in make_reader(f, decoder_factories=[DecoderFactory()])
                   .iter_decoded_messages(topics=["/perception/tokens"])]
    assert decoded == [list(p.tokens) for p in sent], "a third-party ROS1 decoder reads the tokens"

    from tests.app.test_view import columns

    out = tmp_path / "percepts.rrd"
    assert main(["view", str(path), "--save", str(out), "--fps", "10"]) == 0
    times, plotted = columns(out, "/perception/sound_bearing_deg", "Scalars:scalars")
    assert np.allclose(times, percepts["time"] - state["time"][0])
    assert np.array_equal(np.ravel(plotted), percepts["sound_bearing_deg"], equal_nan=True)
    _, sounding = columns(out, "/sound/class", "StateChange:state")
    assert len(sounding) >= 1
