"""Load a dataset folder with LeRobot's own `LeRobotDataset`, as a training script would: run by the tests
in a virtualenv of `lerobot-dataset` (LeRobot's dataset package on its own) and nothing of the project.

Usage: lerobot_load.py ROOT INDEX. Prints one JSON line: the dataset's fps, frames, episodes and features,
the item at INDEX as lists, and the action a delta-timestamps query returns for it.
"""

import json
import sys

from ledataset.datasets.lerobot_dataset import LeRobotDataset

root, index = sys.argv[1], int(sys.argv[2])
dataset = LeRobotDataset("local/bessemer", root=root)
item = dataset[index]
fps = dataset.fps
windowed = LeRobotDataset("local/bessemer", root=root, delta_timestamps={"action": [0.0, 1 / fps, 2 / fps]})
print(json.dumps({
    "fps": fps, "frames": dataset.num_frames, "episodes": dataset.num_episodes,
    "features": {k: {"shape": list(v["shape"]), "names": v["names"]} for k, v in dataset.features.items()},
    "item": {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in item.items()},
    "action_window": windowed[index]["action"].tolist(),
    "stats": {k: sorted(v) for k, v in dataset.meta.stats.items()},
}))
