"""Load a dataset folder with LeRobot's own `LeRobotDataset`, as a training script would: run by the tests
in a virtualenv of `lerobot-dataset` (LeRobot's dataset package on its own) with nothing of the project
but its torch.

Usage: lerobot_load.py ROOT INDEX [FRAMES_DIR]. Prints one JSON line: the dataset's fps, frames, episodes
and features, the item at INDEX as lists, and the action a delta-timestamps query returns for it. For a
dataset with videos, each video's frame for INDEX is found as LeRobot finds it (the episode's
`from_timestamp` plus the item's timestamp, within LeRobot's tolerance) and saved to FRAMES_DIR/KEY.npy;
it is decoded with PyAV, as LeRobot's torchvision path cannot run here (torchvision 0.28
without its C++ ops has no VideoReader and torchcodec has no build for this torch).
"""

import json
import sys
from pathlib import Path

import av
import numpy as np
import torch

# torchvision's PyPI wheel is a CUDA build whose C++ ops cannot load beside the project's CPU torch; torchvision
# supports running without them, except that it registers fake kernels for these two ops unguarded
# (pytorch/vision#9337). Declared here without kernels, any call to them still fails loudly; LeRobot's
# dataset class only imports torchvision.
for op in ("nms", "qnms"):
    torch.library.define(f"torchvision::{op}", "(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")

from ledataset.datasets.lerobot_dataset import LeRobotDataset  # noqa: E402 (after the declarations above)

root, index = sys.argv[1], int(sys.argv[2])
dataset = LeRobotDataset("local/bessemer", root=root)
videos = dataset.meta.video_keys
if videos:
    item = dataset.hf_dataset[index]
    item["task"] = dataset.meta.tasks.iloc[int(item["task_index"])].name  # as `__getitem__` adds it
else:
    item = dataset[index]
fps = dataset.fps
located = {}
for key in videos:
    episode = dataset.meta.episodes[int(item["episode_index"])]
    wanted = episode[f"videos/{key}/from_timestamp"] + float(item["timestamp"])
    with av.open(str(Path(root) / dataset.meta.get_video_file_path(int(item["episode_index"]), key))) as container:
        frames = [(float(f.pts * f.time_base), f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]
    at, frame = min(frames, key=lambda f: abs(f[0] - wanted))
    assert abs(at - wanted) <= dataset.tolerance_s, (at, wanted)
    np.save(Path(sys.argv[3]) / f"{key}.npy", frame)
    located[key] = {"timestamp": at, "frames_in_file": len(frames)}
window = None
if not videos:
    windowed = LeRobotDataset("local/bessemer", root=root, delta_timestamps={"action": [0.0, 1 / fps, 2 / fps]})
    window = windowed[index]["action"].tolist()
print(json.dumps({
    "fps": fps, "frames": dataset.num_frames, "episodes": dataset.num_episodes,
    "features": {k: {"shape": list(v["shape"]), "names": v["names"]} for k, v in dataset.features.items()},
    "item": {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in item.items()},
    "action_window": window,
    "videos": located,
    "stats": {k: sorted(v) for k, v in dataset.meta.stats.items()},
}))
