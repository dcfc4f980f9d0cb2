"""The ZMQ wire decoder: valid messages round-trip, anything else is a WireError (fuzzed)."""

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bessemer import wire

SID = wire.stack_id("fuzz")


def test_state_and_targets_round_trip():
    values = np.arange(wire.STATE_VALUES, dtype=float)
    h, body = wire.decode_single(wire.state_message(SID, 7, 200, True, 12345, values), SID, wire.MsgType.STATE)
    fsm_id, fault, tick, got = wire.parse_state(body)
    assert (h.seq, fsm_id, fault, tick) == (7, 200, True, 12345) and np.array_equal(got, values)
    targets = np.random.default_rng(0).normal(size=(6, 29))
    deadline = time.monotonic() + 0.05
    frames = wire.targets_frames(SID, 9, deadline, targets)
    h = wire.decode(frames, SID, wire.MsgType.TARGETS)
    assert h.deadline == deadline and np.array_equal(wire.array(frames[1], (6, 29)), targets)


@settings(max_examples=500, deadline=None)
@given(frames=st.lists(st.binary(max_size=2000), min_size=0, max_size=4))
def test_random_frames_are_rejected_cleanly(frames):
    try:
        wire.decode(frames, SID)
    except wire.WireError:
        pass


@settings(max_examples=500, deadline=None)
@given(data=st.data())
def test_mutated_valid_messages_are_rejected_or_decode_consistently(data):
    frames = wire.targets_frames(SID, 3, 1.0, np.zeros((6, 29)))
    index = data.draw(st.integers(0, len(frames) - 1))
    frame = bytearray(frames[index])
    cut = data.draw(st.integers(0, len(frame)))
    extra = data.draw(st.binary(max_size=16))
    frames[index] = bytes(frame[:cut]) + extra
    try:
        h = wire.decode(frames, SID)
    except wire.WireError:
        return
    assert len(frames[1]) == 6 * 29 * 8 and h.stack == SID


@settings(max_examples=300, deadline=None)
@given(frame=st.binary(max_size=2000), kind=st.sampled_from([wire.MsgType.STATE, wire.MsgType.SIM_POSE]))
def test_random_single_frames_are_rejected_cleanly(frame, kind):
    try:
        wire.decode_single(frame, SID, kind)
    except wire.WireError:
        pass


def test_wrong_version_type_and_stack_name_the_reason():
    good = wire.targets_frames(SID, 1, 1.0, np.zeros((6, 29)))
    with pytest.raises(wire.WireError, match="wire version 2"):
        wire.decode([good[0][:2] + b"\x02" + good[0][3:], good[1]], SID)
    with pytest.raises(wire.WireError, match="unknown message type 99"):
        wire.decode([good[0][:3] + b"\x63" + good[0][4:], good[1]], SID)
    with pytest.raises(wire.WireError, match="stack id"):
        wire.decode(good, wire.stack_id("another"))
    with pytest.raises(wire.WireError, match="TARGETS: frames of"):
        wire.decode([good[0], good[1] + b"x"], SID)


def test_a_percept_round_trips_with_unknowns_and_degraded_inputs():
    sent = wire.Percept(sound_bearing_deg=-42.5, target_probability=0.9, target_bearing_deg=12.0,
                        vision_degraded=True, tokens=np.array([0, 17, 1023], np.uint16),
                        reasons="camera: no frame for 2.0 s")
    frames = wire.percept_frames(SID, 4, sent)
    assert wire.decode(frames, SID, wire.MsgType.PERCEPT).seq == 4
    got = wire.parse_percept(frames)
    assert (got.sound_bearing_deg, got.target_probability, got.target_bearing_deg) == (-42.5, pytest.approx(0.9), 12.0)
    assert np.isnan(got.target_distance_m) and got.degraded and got.vision_degraded and not got.audio_degraded
    assert got.tokens.tolist() == [0, 17, 1023] and got.reasons == "camera: no frame for 2.0 s"


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_mutated_percepts_are_rejected_or_parse(data):
    frames = wire.percept_frames(SID, 3, wire.Percept(tokens=np.arange(8, dtype=np.uint16), reasons="ok"))
    index = data.draw(st.integers(0, len(frames) - 1))
    frames[index] = frames[index][:data.draw(st.integers(0, len(frames[index])))] + data.draw(st.binary(max_size=9))
    try:
        wire.decode(frames, SID, wire.MsgType.PERCEPT)
        wire.parse_percept(frames)
    except wire.WireError:
        return
