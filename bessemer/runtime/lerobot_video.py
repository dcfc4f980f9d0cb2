"""Recorded camera frames as a LeRobotDataset's video feature.

One MP4 per camera (`videos/observation.images.NAME/chunk-000/file-000.mp4`), encoded as LeRobot encodes
with `vcodec="h264"`: libx264, yuv420p, a keyframe every second frame (so a frame decodes after at most
one other), episodes one after the other, each located by its from/to timestamps. A dataset frame shows
the camera's latest frame at or before its time. Statistics are LeRobot's image statistics: per channel,
pixels scaled to [0, 1], over up to 100 frames of each episode at a quarter of their size.
"""

from __future__ import annotations

from pathlib import Path

import imageio_ffmpeg
import numpy as np

from bessemer.runtime.camera_frames import Frames

CODEC = "h264"
STATS_FRAMES = 100
STATS_STRIDE = 4


def video_key(camera: str) -> str:
    return f"observation.images.{camera}"


def video_feature(height: int, width: int, fps: int) -> dict:
    return {"dtype": "video", "shape": [height, width, 3], "names": ["height", "width", "channels"],
            "info": {"video.height": height, "video.width": width, "video.codec": CODEC, "video.pix_fmt": "yuv420p",
                     "video.is_depth_map": False, "video.fps": fps, "video.channels": 3, "has_audio": False}}


class CameraVideo:
    """Episodes of one camera, appended to one MP4 file."""

    def __init__(self, path: Path, height: int, width: int, fps: int) -> None:
        path.parent.mkdir(parents=True)
        self.fps, self.frames = fps, 0
        self._writer = imageio_ffmpeg.write_frames(str(path), (width, height), fps=fps, codec="libx264",
                                                   pix_fmt_out="yuv420p", quality=None, macro_block_size=1,
                                                   output_params=["-g", "2", "-crf", "30"],
                                                   ffmpeg_log_level="error")
        self._writer.send(None)
        self.samples: list[np.ndarray] = []
        """Frames kept for the dataset's statistics."""

    def add_episode(self, frames: Frames, held: np.ndarray) -> tuple[dict, dict]:
        """Write the frames `held` (indices into `frames`, one per dataset frame); return the episode's
        video location and its statistics."""
        start = self.frames / self.fps
        decoded: tuple[int, np.ndarray] | None = None
        for index in held:
            if decoded is None or decoded[0] != index:
                decoded = (int(index), frames.image(int(index)))
            self._writer.send(np.ascontiguousarray(decoded[1]))
        self.frames += len(held)
        picks = np.unique(np.linspace(0, len(held) - 1, min(STATS_FRAMES, len(held))).astype(int))
        samples = [frames.image(int(held[i]))[::STATS_STRIDE, ::STATS_STRIDE] for i in picks]
        self.samples += samples
        return {"from_timestamp": start, "to_timestamp": self.frames / self.fps}, samples

    def close(self) -> None:
        self._writer.close()


def image_pixels(samples: list[np.ndarray]) -> np.ndarray:
    """Every sampled pixel as a row of three channels in [0, 1]."""
    return np.concatenate([s.reshape(-1, 3) for s in samples]).astype(np.float64) / 255.0


def as_image_stats(stats: dict[str, list], frames: int) -> dict[str, list]:
    """Per-channel statistics in LeRobot's image shape (3, 1, 1); `count` is the frames sampled."""
    return {k: ([frames] if k == "count" else [[[v]] for v in values]) for k, values in stats.items()}
