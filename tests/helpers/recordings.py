"""Recorded runs shared by the recording, replay, view and dataset tests, and a way to alter a recording's
metadata."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from mcap.records import Attachment, Channel, Message, Metadata, Schema
from mcap.stream_reader import StreamReader
from mcap.writer import Writer

from bessemer.cli import main

SHARED = pytest.mark.xdist_group("walk_recording")
"""Tests using `walk` run on one worker, so the run is recorded once."""


@pytest.fixture(scope="session")
def walk(tmp_path_factory) -> Path:
    """Stand up in the band, hand over to the walking policy, walk half a second: every part a replay must redo."""
    path = tmp_path_factory.mktemp("recordings") / "walk.mcap"
    assert main(["sim", "--lockstep", "--sequence", "4,200", "--duration", "0.5", "--cmd", "0.3,0,0.2",
                 "--record", str(path)]) == 0
    return path


@dataclass
class CameraRun:
    path: Path
    rendered: list[np.ndarray]
    """The head camera's frames as rendered, in order."""
    summary: dict


@pytest.fixture(scope="session")
def camera_run(tmp_path_factory) -> CameraRun:
    """Standing up for 0.8 s with the head camera rendered at 10 Hz beside the 500 Hz loop, as the follow-sound
    task renders it, and recorded."""
    from bessemer.runtime.low_level import LowLevelConfig, SimLowLevel
    from bessemer.runtime.recorder import Recorder, RecorderConfig
    from bessemer.runtime.session import SessionConfig, SimSession
    from bessemer.tasks.sim_perception import SimPerception
    from control.loop import LoopConfig

    low = SimLowLevel(LowLevelConfig(loop=LoopConfig(realtime=False)))
    session = SimSession(low, SessionConfig(duration=0.1, hold=0.2))
    perception = SimPerception(low.robot.model)
    rendered: list[np.ndarray] = []

    def render(run: SimSession) -> None:
        perception.update(run.low.robot.data, 0.1)
        rendered.append(perception.frame)

    session.every(50, render)
    path = tmp_path_factory.mktemp("recordings") / "camera.mcap"
    recorder = Recorder(path, low.robot.num_motors, RecorderConfig(wait_when_full=True))
    recorder.attach(session, cameras={"head": perception})
    try:
        low.loop.run(session.tick)
    finally:
        perception.close()
    return CameraRun(path, rendered, recorder.close())


def rewrite(src: Path, dst: Path, metadata: dict[str, dict[str, str] | None] | None = None,
            attachments: bool = True) -> Path:
    """A copy of a recording with some metadata replaced (None: left out), or without its attachments."""
    with src.open("rb") as f, dst.open("wb") as out:
        writer = Writer(out)
        writer.start()
        for record in StreamReader(f).records:
            if isinstance(record, Schema):
                writer.register_schema(record.name, record.encoding, record.data)
            elif isinstance(record, Channel):
                writer.register_channel(record.topic, record.message_encoding, record.schema_id)
            elif isinstance(record, Message):
                writer.add_message(record.channel_id, record.log_time, record.data, record.publish_time)
            elif isinstance(record, Metadata):
                data = (metadata or {}).get(record.name, record.metadata)
                if data is not None:
                    writer.add_metadata(record.name, data)
            elif isinstance(record, Attachment) and attachments:
                writer.add_attachment(record.create_time, record.log_time, record.name, record.media_type,
                                      record.data)
        writer.finish()
    return dst
