"""The ZMQ wire decoder: valid messages round-trip, anything else is a WireError (fuzzed)."""

import struct
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bessemer import wire
from perception.sound_classes import SOUND_CLASSES

SID = wire.stack_id("fuzz")


def test_state_and_targets_round_trip():
    values = np.arange(wire.STATE_VALUES, dtype=float)
    h, body = wire.decode_single(wire.state_message(SID, 7, 200, True, 12345, values, stop_requested=True), SID,
                                 wire.MsgType.STATE)
    fsm_id, fault, stop, tick, got = wire.parse_state(body)
    assert (h.seq, fsm_id, fault, stop, tick) == (7, 200, True, True, 12345) and np.array_equal(got, values)


def test_a_state_from_a_sender_before_the_stop_request_reads_as_no_request():
    values = np.zeros(wire.STATE_VALUES)
    old = wire.header(wire.MsgType.STATE, SID, 1) + struct.pack("<HBxI", 200, False, 5) + values.tobytes()
    _, body = wire.decode_single(old, SID, wire.MsgType.STATE)
    assert wire.parse_state(body)[:4] == (200, False, False, 5)
    targets = np.random.default_rng(0).normal(size=(6, 29))
    deadline = time.monotonic() + 0.05
    frames = wire.targets_frames(SID, 9, deadline, targets)
    h = wire.decode(frames, SID, wire.MsgType.TARGETS)
    assert h.deadline == deadline and np.array_equal(wire.array(frames[1], (6, 29)), targets)


@settings(max_examples=300, deadline=None)
@given(seq=st.integers(0, 2**64 - 1), deadline=st.floats(allow_nan=False),
       values=st.lists(st.floats(allow_nan=False), min_size=6 * 29, max_size=6 * 29))
def test_any_targets_round_trip(seq, deadline, values):
    sent = np.array(values).reshape(6, 29)
    frames = wire.targets_frames(SID, seq, deadline, sent)
    h = wire.decode(frames, SID, wire.MsgType.TARGETS)
    assert (h.seq, h.deadline) == (seq, deadline) and np.array_equal(wire.array(frames[1], (6, 29)), sent)


@settings(max_examples=500, deadline=None)
@given(frames=st.lists(st.binary(max_size=2000), min_size=0, max_size=4))
def test_random_frames_are_rejected(frames):
    with pytest.raises(wire.WireError):
        wire.decode(frames, SID)


@settings(max_examples=500, deadline=None)
@given(data=st.data())
def test_a_cut_or_padded_frame_is_rejected_and_a_same_size_one_decodes_unless_its_identity_changed(data):
    """The header's first 8 bytes (magic, version, type, stack id) identify a message; the rest of the
    header and the values are data, and every frame's size is fixed."""
    original = wire.targets_frames(SID, 3, 1.0, np.zeros((6, 29)))
    frames = list(original)
    index = data.draw(st.integers(0, len(frames) - 1))
    frame = frames[index]
    frames[index] = frame[:data.draw(st.integers(0, len(frame)))] + data.draw(st.binary(max_size=16))
    same_size = len(frames[index]) == len(original[index])
    if not same_size or frames[0][:8] != original[0][:8]:
        with pytest.raises(wire.WireError):
            wire.decode(frames, SID, wire.MsgType.TARGETS)
        return
    h = wire.decode(frames, SID, wire.MsgType.TARGETS)
    assert h.stack == SID and h.type == wire.MsgType.TARGETS and len(frames[1]) == 6 * 29 * 8


@settings(max_examples=300, deadline=None)
@given(frame=st.binary(max_size=2000), kind=st.sampled_from([wire.MsgType.STATE, wire.MsgType.SIM_POSE]))
def test_random_single_frames_are_rejected(frame, kind):
    with pytest.raises(wire.WireError):
        wire.decode_single(frame, SID, kind)


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


def utf8(data: bytes) -> bool:
    try:
        data.decode()
    except UnicodeDecodeError:
        return False
    return True


def test_the_sound_class_rides_in_what_was_padding_so_older_peers_still_understand_each_other():
    sent = wire.percept_frames(SID, 6, wire.Percept(sound_bearing_deg=30.0, sound_class="alarm"))
    assert len(sent[1]) == wire.PERCEPT_META.size == 20, "the message keeps the size of the version before the class"
    assert wire.parse_percept(sent).sound_class == "alarm"
    older = sent[1][:1] + b"\x00" + sent[1][2:]
    got = wire.parse_percept([sent[0], older, *sent[2:]])
    assert got.sound_class == "" and got.sound_bearing_deg == 30.0, "an older sender's percept: class unknown"
    newer = sent[1][:1] + bytes([len(SOUND_CLASSES) + 1]) + sent[1][2:]
    assert wire.parse_percept([sent[0], newer, *sent[2:]]).sound_class == "", "a class only a newer build knows"
    with pytest.raises(ValueError, match="unknown sound class 'siren'"):
        wire.percept_frames(SID, 7, wire.Percept(sound_class="siren"))


@settings(max_examples=300, deadline=None)
@given(sound=st.floats(allow_nan=False, width=32), probability=st.floats(0, 1, width=32),
       audio=st.booleans(), vision=st.booleans(), tokens=st.lists(st.integers(0, 1023), max_size=64),
       reasons=st.text(max_size=200), heard=st.sampled_from(("", *SOUND_CLASSES)))
def test_any_percept_round_trips(sound, probability, audio, vision, tokens, reasons, heard):
    sent = wire.Percept(sound_bearing_deg=sound, target_probability=probability, audio_degraded=audio,
                        vision_degraded=vision, tokens=np.array(tokens, np.uint16), reasons=reasons, sound_class=heard)
    frames = wire.percept_frames(SID, 5, sent)
    assert wire.decode(frames, SID, wire.MsgType.PERCEPT).seq == 5
    got = wire.parse_percept(frames)
    assert (got.sound_bearing_deg, got.target_probability, got.audio_degraded, got.vision_degraded, got.reasons,
            got.sound_class) == (sound, probability, audio, vision, reasons, heard)
    assert got.tokens.tolist() == tokens and np.isnan(got.target_distance_m)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_a_mutated_percept_is_rejected_unless_it_is_still_well_formed(data):
    """Well formed: the header's size and identity, the fixed-size figures, whole uint16 tokens, UTF-8 reasons."""
    original = wire.percept_frames(SID, 3, wire.Percept(tokens=np.arange(8, dtype=np.uint16), reasons="ok"))
    frames = list(original)
    index = data.draw(st.integers(0, len(frames) - 1))
    frames[index] = frames[index][:data.draw(st.integers(0, len(frames[index])))] + data.draw(st.binary(max_size=9))
    header, meta, tokens, reasons = frames
    well_formed = (len(header) == wire.HEADER.size and header[:8] == original[0][:8]
                   and len(meta) == wire.PERCEPT_META.size and len(tokens) % 2 == 0 and utf8(reasons))
    if not well_formed:
        with pytest.raises(wire.WireError):
            wire.decode(frames, SID, wire.MsgType.PERCEPT)
            wire.parse_percept(frames)
        return
    wire.decode(frames, SID, wire.MsgType.PERCEPT)
    got = wire.parse_percept(frames)
    assert got.tokens.tobytes() == tokens and got.reasons == reasons.decode()
