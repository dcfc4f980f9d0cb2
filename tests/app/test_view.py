"""`bessemer view`: a recording becomes a Rerun recording that Rerun itself reads back with the robot posed as
recorded, every tick's joints, the FSM's states and the events; without a display it says to use --save."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from rerun.chunk import RrdReader

from bessemer.cli import main
from bessemer.runtime.recording import read_recording
from tests.helpers.recordings import SHARED, camera_run, walk  # noqa: F401 (fixtures)

pytestmark = SHARED


def columns(path, entity: str, component: str) -> tuple[np.ndarray, list]:
    """(time, values) of one entity's component over all its chunks, in time order."""
    times, values = [], []
    for chunk in RrdReader(path).stream().to_chunks():
        if chunk.entity_path == entity and not chunk.is_static:
            batch = chunk.to_record_batch()
            if component in batch.schema.names:
                times += list(batch.column("time").cast(pa.int64()).to_numpy() / 1e9)
                values += batch.column(component).to_pylist()
    order = np.argsort(times, kind="stable")
    return np.array(times)[order], [values[i] for i in order]


def test_a_recording_is_saved_for_rerun_and_reads_back(walk, tmp_path, capsys):
    out = tmp_path / "walk.rrd"
    assert main(["view", str(walk), "--save", str(out), "--fps", "50"]) == 0
    assert "open it with `rerun" in capsys.readouterr().out
    recording = read_recording(walk)
    state, pelvis = recording.channels["/robot/state"], recording.channels["/sim/pelvis"]
    t0 = state["time"][0]

    times, knee = columns(out, "/joints/left_knee/measured", "Scalars:scalars")
    assert len(knee) == len(state) and np.allclose(times, state["time"] - t0)
    assert np.array_equal(np.ravel(knee), state["q"][:, 3])

    times, poses = columns(out, "/world/robot/pelvis", "Transform3D:translation")
    assert len(poses) == len(state[::10]), "50 poses a second of 500 Hz ticks"
    ticks = np.rint((times + t0 - pelvis["time"][0]) / 0.002).astype(int)
    assert np.allclose(np.array(poses).reshape(-1, 3), pelvis["pos"][ticks], atol=1e-6)
    _, knee_poses = columns(out, "/world/robot/left_knee_link", "Transform3D:translation")
    assert len(knee_poses) == len(poses)
    geoms = {c.entity_path for c in RrdReader(out).stream().to_chunks() if c.is_static}
    assert any(p.startswith("/world/robot/left_ankle_roll_link/geom_") for p in geoms), "the foot is drawn"

    _, states = columns(out, "/fsm/state", "StateChange:state")
    assert [s[0] for s in states] == ["1 damp", "4 stand_up", "200 start"]
    _, texts = columns(out, "/events", "TextLog:text")
    assert "[state] 4 -> 200" in [t[0] for t in texts]
    _, actions = columns(out, "/policy/action/left_knee", "Scalars:scalars")
    assert np.array_equal(np.ravel(actions), recording.channels["/policy/action"]["action"][:, 3])


def test_without_a_display_the_viewer_refusal_says_to_save(walk, capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["view", str(walk)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--save OUT.rrd" in err[0]
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("content,message", [(b"no mcap at all", "is not an MCAP file")])
def test_a_file_that_is_no_recording_is_refused_and_nothing_is_saved(content, message, tmp_path, capsys):
    bad, out = tmp_path / "bad.mcap", tmp_path / "bad.rrd"
    bad.write_bytes(content)
    assert main(["view", str(bad), "--save", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.mcap"]


def test_camera_frames_show_as_images(camera_run, tmp_path):
    out = tmp_path / "camera.rrd"
    assert main(["view", str(camera_run.path), "--save", str(out)]) == 0
    times, blobs = columns(out, "/camera/head", "EncodedImage:blob")
    frames = read_recording(camera_run.path).cameras["head"]
    assert len(blobs) == len(camera_run.rendered)
    assert bytes(blobs[-1][0]) == frames.jpeg[-1]
    _, media = columns(out, "/camera/head", "EncodedImage:media_type")
    assert media[0] == ["image/jpeg"]


def test_a_running_stack_streams_to_rerun_as_it_runs(tmp_path):
    """`--rerun`'s streamer, pointed at a file instead of a viewer: the robot's poses, joints, FSM states and
    events arrive from the sending process while the loop runs, and Rerun reads them back."""
    from bessemer.runtime.low_level import LowLevelConfig, SimLowLevel
    from bessemer.runtime.rerun_live import LiveConfig, LiveRerun
    from bessemer.runtime.session import SessionConfig, SimSession
    from control.loop import LoopConfig

    low = SimLowLevel(LowLevelConfig(loop=LoopConfig(realtime=False)))
    session = SimSession(low, SessionConfig(duration=0.2, hold=0.2))
    out = tmp_path / "live.rrd"
    live = LiveRerun(session, out, LiveConfig(rate_hz=50.0))
    heights: list[float] = []
    session.every(10, lambda run: heights.append(float(run.low.robot.data.qpos[2])))
    low.loop.run(session.tick)
    sent = live.close()
    assert sent["sender_exit"] == 0 and sent["dropped"] == 0 and sent["sent"] == len(heights) > 40
    times, poses = columns(out, "/world/robot/pelvis", "Transform3D:translation")
    assert len(poses) == len(heights) and np.all(np.diff(times) > 0)
    assert np.allclose(np.array(poses).reshape(-1, 3)[:, 2], heights, atol=1e-6), "posed as the robot stood"
    _, knee = columns(out, "/joints/left_knee/commanded", "Scalars:scalars")
    assert len(knee) == len(heights)
    _, states = columns(out, "/fsm/state", "StateChange:state")
    assert [s[0] for s in states] == ["1 damp", "4 stand_up"]
    _, texts = columns(out, "/events", "TextLog:text")
    assert any(t[0].endswith("standing") for t in texts)


def test_rerun_without_a_display_is_refused_before_the_run(capsys, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert main(["sim", "--rerun", "--lockstep", "--duration", "0.1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bessemer view FILE.mcap --save" in err[0]
