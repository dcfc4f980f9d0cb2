"""A recorded walking run shared by the replay, view and dataset tests, and a way to alter a recording's metadata."""

from __future__ import annotations

from pathlib import Path

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
