"""`bessemer dataset`: recordings become a LeRobotDataset that LeRobot's own dataset class loads with the
contract's names, the chosen rate and the recorded values; logs that cannot share a dataset are refused."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bessemer.cli import main
from bessemer.runtime.recording import read_recording
from control.fsm import FsmId
from policies.contract import PolicyContract
from tests.helpers.lerobot_venv import lerobot_python  # noqa: F401 (a fixture)
from tests.helpers.recordings import SHARED, camera_run, rewrite, walk  # noqa: F401 (fixtures)

pytestmark = SHARED
LOADER = Path(__file__).parents[1] / "peers" / "lerobot_load.py"


def load(python: str, root: Path, index: int, tmp_path: Path, frames_dir: Path | None = None) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    extra = [str(frames_dir)] if frames_dir else []
    out = subprocess.run([python, str(LOADER), str(root), str(index), *extra], capture_output=True, text=True,
                         env=env, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.timeout(900)
def test_a_dataset_from_two_logs_loads_in_lerobots_class(walk, lerobot_python, tmp_path):
    second = shutil.copy(walk, tmp_path / "again.mcap")
    out = tmp_path / "g1_walk"
    assert main(["dataset", str(walk), str(second), "--out", str(out), "--fps", "25", "--task", "walk forward"]) == 0
    recording = read_recording(walk)
    state, fsm = recording.channels["/robot/state"], recording.channels["/fsm/state"]
    start = fsm["time"][fsm["state"] == FsmId.START][0]
    per_episode = int(np.floor((fsm["time"][fsm["state"] == FsmId.START][-1] - start) * 25 + 1e-6)) + 1

    frame = 7
    loaded = load(lerobot_python, out, per_episode + frame, tmp_path)
    assert loaded["fps"] == 25 and loaded["episodes"] == 2 and loaded["frames"] == 2 * per_episode
    contract = PolicyContract().with_choices_of(recording.contract)
    features = loaded["features"]
    assert features["observation.state"] == {"shape": [29], "names": list(contract.joint_names)}
    assert features["action"]["names"] == list(contract.joint_names)
    assert features["action.policy"]["names"] == [contract.joint_names[i] for i in contract.actuated]
    assert features["observation.policy"]["shape"] == [contract.obs_size]
    names, current = features["observation.policy"]["names"], contract.obs_size - contract.frame_size
    assert names[current:current + 3] == ["gyro.x", "gyro.y", "gyro.z"], "the current frame ends the row"
    assert names[current + 9] == "joint_pos.left_hip_pitch_joint"
    assert names[0] == ("gyro.x" if contract.obs_history == 1 else f"gyro.x@t-{contract.obs_history - 1}")

    item = loaded["item"]
    assert item["episode_index"] == 1 and item["frame_index"] == frame and item["task"] == "walk forward"
    assert item["timestamp"] == pytest.approx(frame / 25)
    tick = np.searchsorted(state["time"], start + frame / 25 + 1e-9, side="right") - 1
    assert np.array_equal(np.float32(item["observation.state"]), state["q"][tick].astype(np.float32))
    command = recording.channels["/robot/command"]
    assert np.array_equal(np.float32(item["action"]), command["q"][tick].astype(np.float32))
    assert np.array(loaded["action_window"]).shape == (3, 29)
    assert loaded["stats"]["action"] == ["count", "max", "mean", "min", "q01", "q10", "q50", "q90", "q99", "std"]
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")], "no partial folder left"


def test_logs_that_cannot_share_a_dataset_are_refused_and_nothing_is_written(walk, tmp_path, capsys):
    stand = tmp_path / "stand.mcap"
    assert main(["sim", "--lockstep", "--duration", "0.1", "--record", str(stand)]) == 0
    meta = read_recording(walk).metadata["bessemer"]
    other = rewrite(walk, tmp_path / "23dof.mcap", {"bessemer": {**meta, "variant": "23dof"}})
    capsys.readouterr()
    out = tmp_path / "dataset"
    for files, message in (([walk, stand], "a policy drove in"), ([walk, other], "make one dataset per robot variant")):
        assert main(["dataset", *map(str, files), "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err
        assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_an_existing_dataset_is_kept_unless_forced(walk, tmp_path, capsys):
    out = tmp_path / "dataset"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(["dataset", str(walk), "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err and (out / "notes.txt").exists()
    assert main(["dataset", str(walk), "--out", str(out), "--force", "--fps", "10"]) == 0
    info = json.loads((out / "meta" / "info.json").read_text())
    assert info["fps"] == 10 and info["codebase_version"] == "v3.0" and not (out / "notes.txt").exists()


@pytest.mark.timeout(900)
def test_camera_frames_become_lerobots_video_feature(camera_run, lerobot_python, tmp_path):
    out = tmp_path / "camera_dataset"
    assert main(["dataset", str(camera_run.path), "--out", str(out), "--fps", "20"]) == 0
    recording = read_recording(camera_run.path)
    frames, state = recording.cameras["head"], recording.channels["/robot/state"]
    index = 8
    loaded = load(lerobot_python, out, index, tmp_path, frames_dir=tmp_path)
    height, width, _ = camera_run.rendered[0].shape
    assert loaded["features"]["observation.images.head"] == {"shape": [height, width, 3],
                                                             "names": ["height", "width", "channels"]}
    count = int(np.floor((state["time"][-1] - state["time"][0]) * 20 + 1e-6)) + 1
    assert loaded["frames"] == count and loaded["videos"]["observation.images.head"]["frames_in_file"] == count
    shown = np.load(tmp_path / "observation.images.head.npy")
    held = np.searchsorted(frames.time, state["time"][0] + index / 20 + 1e-9, side="right") - 1
    error = np.abs(shown.astype(int) - camera_run.rendered[held]).mean()
    others = [np.abs(shown.astype(int) - f).mean() for i, f in enumerate(camera_run.rendered) if i != held]
    assert error < 6.0 and error < min(others), "the video shows the camera's frame held at that time"
    assert "observation.images.head" in loaded["stats"]


def test_a_disk_that_fills_leaves_no_half_dataset(walk, tmp_path):
    """A file-size limit makes the writes fail as a full disk does."""

    def small_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    out = tmp_path / "dataset"
    proc = subprocess.run([sys.executable, "-m", "bessemer", "dataset", str(walk), "--out", str(out)],
                          cwd=Path(__file__).parents[2], capture_output=True, text=True, timeout=240,
                          preexec_fn=small_disk)
    assert proc.returncode == 2, proc.stderr[-2000:]
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and "could not write --out" in err[0] and "File too large" in err[0], err
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "no dataset and no partial folder"
