"""`bessemer bench --bearing --rooms N` must only add rooms: every row's first 10 rooms are the default
run's, so figures with more rooms can be read beside the published 10-room table."""

from __future__ import annotations

from bessemer.bench.audio_bearing import _room_seed
from perception.training.bearing_scenes import JUDGING_SEED

ROWS = 12


def seeds(rooms: int) -> list[list[int]]:
    return [[_room_seed(JUDGING_SEED, row, room, ROWS) for room in range(rooms)] for row in range(ROWS)]


def test_the_default_run_keeps_its_rooms():
    assert seeds(10) == [[JUDGING_SEED + 10 * row + room for room in range(10)] for row in range(ROWS)]


def test_more_rooms_only_add_rooms_and_never_repeat_one():
    ten, thirty = seeds(10), seeds(30)
    assert [row[:10] for row in thirty] == ten
    assert len({seed for row in thirty for seed in row}) == 30 * ROWS
