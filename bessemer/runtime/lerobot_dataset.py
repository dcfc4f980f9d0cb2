"""Recordings as a LeRobotDataset (format v3.0), the layout LeRobot's own `LeRobotDataset` loads.

Each recording becomes one episode, sampled at a chosen rate from the 500 Hz log by zero-order hold (a
frame holds the latest tick at or before its time, as the robot had it). Frames go to parquet files
(`data/chunk-000/file-NNN.parquet`), episodes and their statistics to `meta/episodes/`, tasks to
`meta/tasks.parquet`, features and rates to `meta/info.json`, statistics over all frames to
`meta/stats.json`. Feature names come from the policy contract the run was recorded under: every
motor's joint name for positions, velocities and commands, the contract's observation layout and
actuated joints for the policy's own observation and action when a policy drove (a policy that sees
several frames has its older ones named `NAME@t-K`, K policy steps back, oldest first). A run with a policy
is its episode only while the policy drove (state 200), so every frame has both. Camera frames become
video features (`lerobot_video.py`).

The folder is written beside its destination and renamed into place when whole.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from bessemer.runtime.lerobot_video import CameraVideo, as_image_stats, image_pixels, video_feature, video_key
from bessemer.runtime.recording import Recording, RecordingError, check_contract
from control.fsm import FsmId

CODEBASE_VERSION = "v3.0"
CHUNKS_SIZE = 1000
DATA_FILE_MB = 100
VIDEO_FILE_MB = 200
QUANTILES = {"q01": 0.01, "q10": 0.10, "q50": 0.50, "q90": 0.90, "q99": 0.99}
INDEX_FEATURES = ("timestamp", "frame_index", "episode_index", "index", "task_index")
PART_LABELS = {"gyro": ("x", "y", "z"), "projected_gravity": ("x", "y", "z"), "command": ("vx", "vy", "wz"),
               "gait_phase": ("sin", "cos")}
"""Element names of the observation layout's parts; the joint parts take the actuated joints' names."""


@dataclass(frozen=True)
class DatasetConfig:
    fps: int = 50
    task: str = "G1 run recorded by bessemer"
    """The episodes' task (LeRobot's language instruction)."""


def features(contract: dict, policy: bool, cameras: dict[str, tuple[int, int]], fps: int) -> dict[str, dict]:
    """`cameras`: name -> (height, width) of its frames."""
    joints = list(contract["joint_names"])
    feats = {
        "observation.state": _vector(joints),
        "observation.velocity": _vector(joints),
        "observation.imu": _vector([f"quat.{a}" for a in "wxyz"] + [f"gyro.{a}" for a in "xyz"]
                                   + [f"accel.{a}" for a in "xyz"]),
    }
    feats |= {video_key(name): video_feature(height, width, fps) for name, (height, width) in cameras.items()}
    feats["action"] = _vector(joints)
    if policy:
        actuated = [joints[i] for i in contract["actuated"]]
        frame = []
        for part, size in contract["obs_layout"]:
            labels = actuated if size == len(actuated) else PART_LABELS.get(part, [str(i) for i in range(size)])
            frame += [f"{part}.{label}" for label in labels]
        frames = contract.get("obs_history", 1)
        names = [f"{name}@t-{back}" for back in range(frames - 1, 0, -1) for name in frame] + frame
        feats["observation.policy"] = _vector(names)
        feats["action.policy"] = _vector(actuated)
    for name in INDEX_FEATURES:
        feats[name] = {"dtype": "float32" if name == "timestamp" else "int64", "shape": [1], "names": None}
    return feats


def _vector(names: list[str]) -> dict:
    return {"dtype": "float32", "shape": [len(names)], "names": names}


def check_recordings(recordings: dict[Path, Recording]) -> tuple[dict, bool, dict[str, tuple[int, int]]]:
    """The contract, whether policy features are kept and the cameras' frame sizes: every recording alike,
    or a one-line refusal."""
    first_path, first = next(iter(recordings.items()))
    contract = check_contract(first).as_dict()
    variant = first.metadata["bessemer"]["variant"]
    policy = {path: _driven(r) for path, r in recordings.items()}
    for path, recording in recordings.items():
        if recording.metadata["bessemer"]["variant"] != variant:
            raise RecordingError(f"{path} is a log of the G1 {recording.metadata['bessemer']['variant']}, {first_path} "
                                 f"of the {variant}: make one dataset per robot variant")
        check_contract(recording)
        if policy[path] != policy[first_path]:
            driven, other = (path, first_path) if policy[path] else (first_path, path)
            raise RecordingError(f"a policy drove in {driven} but not in {other}: a dataset's episodes share their "
                                 f"features, so make one of each kind")
        if set(recording.cameras) != set(first.cameras):
            raise RecordingError(f"{path} holds cameras ({', '.join(recording.cameras) or 'none'}) other than "
                                 f"{first_path}'s ({', '.join(first.cameras) or 'none'}): a dataset's episodes share "
                                 f"their features")
    cameras = {name: frames.image(0).shape[:2] for name, frames in first.cameras.items()}
    for path, recording in recordings.items():
        for name, frames in recording.cameras.items():
            if frames.image(0).shape[:2] != cameras[name]:
                raise RecordingError(f"{path}'s {name} camera frames are {frames.image(0).shape[:2]}, "
                                     f"{first_path}'s {cameras[name]}: one size per camera in a dataset")
    return contract, policy[first_path], cameras


def _driven(recording: Recording) -> bool:
    """Whether a policy drove (state 200) and its observations and actions were recorded."""
    fsm = recording.channels.get("/fsm/state")
    return (fsm is not None and len(recording.channels.get("/policy/action", ())) > 0
            and bool(np.any(fsm["state"] == FsmId.START)))


def episode_frames(recording: Recording, fps: int,
                   policy: bool) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """One episode's feature columns at `fps`, by zero-order hold of the recorded channels, and for each
    camera the index of the frame each dataset frame shows."""
    state, command = recording.channels["/robot/state"], recording.channels["/robot/command"]
    period = float(recording.metadata["bessemer"]["period_s"])
    if fps > 1.0 / period + 1e-9:
        raise RecordingError(f"--fps {fps:g} is above the recording's {1.0 / period:g} Hz")
    start, end = float(state["time"][0]), float(state["time"][-1])
    action = recording.channels.get("/policy/action")
    if policy:
        fsm = recording.channels["/fsm/state"]
        driving = fsm["time"][fsm["state"] == FsmId.START]
        start, end = float(driving[0]), float(driving[-1])
    count = int(np.floor((end - start) * fps + 1e-6)) + 1
    if count < 2:
        raise RecordingError("the recording is shorter than two frames at this rate")
    times = start + np.arange(count) / fps

    def held(channel) -> np.ndarray:
        return np.clip(np.searchsorted(channel["time"], times + 1e-9, side="right") - 1, 0, len(channel["time"]) - 1)

    s, c = held(state), held(command)
    columns = {
        "observation.state": state["q"][s], "observation.velocity": state["dq"][s],
        "observation.imu": np.concatenate([state["quat"][s], state["gyro"][s], state["accel"][s]], axis=1),
        "action": command["q"][c],
    }
    if policy:
        p = held(action)
        columns["observation.policy"] = recording.channels["/policy/observation"]["observation"][p]
        columns["action.policy"] = action["action"][p]
    columns = {k: v.astype(np.float32) for k, v in columns.items()}
    columns["timestamp"] = (np.arange(count) / fps).astype(np.float32)
    columns["frame_index"] = np.arange(count, dtype=np.int64)
    return columns, {name: held({"time": frames.time}) for name, frames in recording.cameras.items()}


def _stats(values: np.ndarray) -> dict[str, list]:
    v = values.reshape(len(values), -1)
    integer = np.issubdtype(v.dtype, np.integer)
    stats = {"min": v.min(axis=0), "max": v.max(axis=0), "mean": v.mean(axis=0, dtype=np.float64),
             "std": v.std(axis=0, dtype=np.float64), "count": np.array([len(v)])}
    stats |= {name: np.quantile(v.astype(np.float64), q, axis=0) for name, q in QUANTILES.items()}
    return {k: (x.astype(np.int64) if integer and k in ("min", "max") else x).tolist() for k, x in stats.items()}


def _column(values: np.ndarray) -> pa.Array:
    if values.ndim == 1:
        return pa.array(values)
    return pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1)), values.shape[1])


def write_dataset(recordings: dict[Path, Recording], out: Path, config: DatasetConfig) -> dict:
    """Write the dataset folder `out` (replacing one that exists) and return its info."""
    contract, policy, cameras = check_recordings(recordings)
    feats = features(contract, policy, cameras, config.fps)
    episodes = [episode_frames(r, config.fps, policy) for r in recordings.values()]
    partial = out.with_name(f".{out.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        info = _write(partial, list(recordings.values()), episodes, feats, contract, config)
        if out.exists():
            old = out.with_name(f".{out.name}.replaced-{os.getpid()}")
            out.rename(old)
            partial.rename(out)
            shutil.rmtree(old)
        else:
            partial.rename(out)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return info


def _write(root: Path, recordings: list[Recording], episodes: list[tuple[dict[str, np.ndarray], dict]],
           feats: dict, contract: dict, config: DatasetConfig) -> dict:
    columns = [k for k, f in feats.items() if f["dtype"] != "video"]
    frame_bytes = sum(4 * int(np.prod(feats[k]["shape"])) for k in columns)
    per_file = max(1, int(DATA_FILE_MB * 1e6 // frame_bytes))
    videos = {name: CameraVideo(root / "videos" / video_key(name) / "chunk-000" / "file-000.mp4",
                                *feats[video_key(name)]["shape"][:2], config.fps)
              for name in recordings[0].cameras}
    first, file_index, file_frames = 0, 0, 0
    files: list[list[pa.Table]] = [[]]
    rows = []
    try:
        for e, ((frames, held), recording) in enumerate(zip(episodes, recordings)):
            n = len(frames["timestamp"])
            if file_frames and file_frames + n > per_file:
                file_index, file_frames = file_index + 1, 0
                files.append([])
            frames["episode_index"] = np.full(n, e, dtype=np.int64)
            frames["index"] = np.arange(first, first + n, dtype=np.int64)
            frames["task_index"] = np.zeros(n, dtype=np.int64)
            files[-1].append(pa.table({k: _column(frames[k]) for k in columns}))
            row = {"episode_index": e, "tasks": [config.task], "length": n, "data/chunk_index": 0,
                   "data/file_index": file_index, "dataset_from_index": first, "dataset_to_index": first + n}
            for name, video in videos.items():
                where, samples = video.add_episode(recording.cameras[name], held[name])
                key = video_key(name)
                row |= {f"videos/{key}/chunk_index": 0, f"videos/{key}/file_index": 0,
                        **{f"videos/{key}/{k}": v for k, v in where.items()}}
                stats = as_image_stats(_stats(image_pixels(samples)), len(samples))
                row |= {f"stats/{key}/{k}": v for k, v in stats.items()}
            for k in columns:
                row |= {f"stats/{k}/{name}": value for name, value in _stats(frames[k]).items()}
            row |= {"meta/episodes/chunk_index": 0, "meta/episodes/file_index": 0}
            rows.append(row)
            first, file_frames = first + n, file_frames + n
    finally:
        for video in videos.values():
            video.close()
    for i, tables in enumerate(files):
        path = root / "data" / f"chunk-000/file-{i:03d}.parquet"
        path.parent.mkdir(parents=True)
        pq.write_table(pa.concat_tables(tables), path)
    path = root / "meta" / "episodes" / "chunk-000" / "file-000.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows), path)
    pd.DataFrame({"task_index": [0]}, index=[config.task]).to_parquet(root / "meta" / "tasks.parquet")
    stats = {k: _stats(np.concatenate([frames[k] for frames, _ in episodes])) for k in columns}
    stats |= {video_key(name): as_image_stats(_stats(image_pixels(video.samples)), len(video.samples))
              for name, video in videos.items()}
    (root / "meta" / "stats.json").write_text(json.dumps(stats, indent=4))
    info = {
        "codebase_version": CODEBASE_VERSION, "robot_type": contract["robot"],
        "total_episodes": len(episodes), "total_frames": first, "total_tasks": 1,
        "chunks_size": CHUNKS_SIZE, "data_files_size_in_mb": DATA_FILE_MB, "video_files_size_in_mb": VIDEO_FILE_MB,
        "fps": config.fps, "splits": {"train": f"0:{len(episodes)}"},
        "data_path": "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet",
        "video_path": "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4" if videos else None,
        "features": feats,
    }
    (root / "meta" / "info.json").write_text(json.dumps(info, indent=4))
    return info
