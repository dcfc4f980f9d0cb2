"""Headless recording of a simulated run to MP4 (MuJoCo's offscreen renderer, ffmpeg from imageio-ffmpeg)."""

from __future__ import annotations

from pathlib import Path

import mujoco
import numpy as np

from bessemer.commands import check_writable


class VideoRecorder:
    def __init__(self, path: Path, model: mujoco.MjModel, fps: int = 30, camera: str = "follow",
                 width: int = 640, height: int = 480) -> None:
        import imageio_ffmpeg

        if path.suffix.lower() != ".mp4":
            raise ValueError(f"video path {path} must end in .mp4")
        check_writable(path, "video")
        self.path = path
        self.fps = fps
        self.camera = camera
        self.renderer = mujoco.Renderer(model, height, width)
        self.frames = 0
        self._writer = imageio_ffmpeg.write_frames(str(path), (width, height), fps=fps, codec="libx264",
                                                   quality=6, macro_block_size=16, ffmpeg_log_level="error")
        self._writer.send(None)

    def capture(self, data: mujoco.MjData) -> None:
        self.renderer.update_scene(data, camera=self.camera)
        frame = self.renderer.render()
        self._writer.send(np.ascontiguousarray(frame))
        self.frames += 1

    def close(self) -> None:
        self._writer.close()
        self.renderer.close()
