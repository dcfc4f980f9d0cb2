"""The unitree_hg codec (and unitree_go's SportModeState_ on it) against CycloneDDS's own serializer,
both ways, the CRC against its definition, and corrupted or foreign bytes refused (fuzzed)."""

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from robots import unitree_go as go
from robots import unitree_hg as hg
from tests.helpers.unitree_crc import crc_mpeg2_bitwise, unitree_crc_reference
from tests.robots import unitree_go_reference as go_ref
from tests.robots import unitree_hg_reference as ref

STRUCTS = {hg.LOW_CMD: ref.LowCmd_, hg.MOTOR_CMD: ref.MotorCmd_, hg.LOW_STATE: ref.LowState_,
           hg.IMU_STATE: ref.IMUState_, hg.MOTOR_STATE: ref.MotorState_, go.SPORT_MODE_STATE: go_ref.SportModeState_,
           go.TIME_SPEC: go_ref.TimeSpec_, go.IMU_STATE: go_ref.IMUState_, go.PATH_POINT: go_ref.PathPoint_}


def fill_random(record, table, rng):
    for name, kind, count in table:
        if isinstance(kind, tuple):
            items = record[name] if count > 1 else [record[name]]
            for item in np.atleast_1d(items):
                fill_random(item, kind, rng)
            continue
        dtype = np.dtype("<" + kind)
        if dtype.kind == "f":
            values = rng.uniform(-1e4, 1e4, count).astype(dtype)
        else:
            info = np.iinfo(dtype)
            values = rng.integers(info.min, info.max, count, endpoint=True, dtype=dtype)
        record[name] = values if count > 1 else values[0]


def to_reference(record, table):
    values = {}
    for name, kind, count in table:
        if isinstance(kind, tuple):
            items = [to_reference(item, kind) for item in np.atleast_1d(record[name])]
            values[name] = items if count > 1 else items[0]
        else:
            v = np.atleast_1d(record[name]).tolist()
            if count > 1 and kind == "u1":
                v = bytes(v)
            values[name] = v if count > 1 else v[0]
    return STRUCTS[table](**values)


def assert_record_equals(record, obj, table):
    for name, kind, count in table:
        mine, theirs = record[name], getattr(obj, name)
        if isinstance(kind, tuple):
            for m, t in zip(np.atleast_1d(mine), theirs if count > 1 else [theirs]):
                assert_record_equals(m, t, kind)
        else:
            theirs = list(theirs) if isinstance(theirs, bytes) else theirs
            np.testing.assert_array_equal(np.atleast_1d(mine), np.atleast_1d(np.array(theirs, dtype="<" + kind)))


def test_crc_definition_matches_the_standard_check_value_and_the_word_form():
    assert crc_mpeg2_bitwise(b"123456789") == 0x0376E6E7
    words = np.random.default_rng(3).integers(0, 2**32, 250, dtype=np.uint32)
    expected = unitree_crc_reference(words.tolist())
    assert hg.crc32_words(words) == expected == crc_mpeg2_bitwise(words.astype(">u4").tobytes())


def test_c_layout_sizes_and_packing_match_the_robot():
    assert hg.LowCmdCodec.layout.dtype.itemsize == struct.calcsize("<2B2x" + "B3x5fI" * 35 + "5I") == 1004
    assert hg.LowStateCodec.layout.dtype.itemsize == struct.calcsize(
        "<2I2B2xI" + "13fh2x" + "B3x4f2hf7I" * 35 + "40B5I") == 2092


@pytest.mark.parametrize("codec_cls,table", [(hg.LowCmdCodec, hg.LOW_CMD), (hg.LowStateCodec, hg.LOW_STATE),
                                             (go.SportModeStateCodec, go.SPORT_MODE_STATE)])
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_bytes_equal_cyclonedds_both_ways(codec_cls, table, seed):
    rng = np.random.default_rng(seed)
    codec = codec_cls()
    fill_random(codec.message, table, rng)
    ours = codec.encode()
    sent = to_reference(codec.message, table)
    assert ours == sent.serialize()
    assert STRUCTS[table].deserialize(ours) == sent

    fill_random(codec.message, table, rng)
    codec.encode()
    incoming = to_reference(codec.message, table)
    reader = codec_cls()
    check = reader.decode(incoming.serialize())
    assert check.ok
    assert_record_equals(reader.message, incoming, table)


def test_a_corrupted_byte_fails_the_crc_and_wrong_sizes_are_refused():
    codec = hg.LowStateCodec()
    fill_random(codec.message, hg.LOW_STATE, np.random.default_rng(1))
    data = bytearray(codec.encode())
    assert hg.LowStateCodec().decode(bytes(data)).ok
    data[100] ^= 0x01
    assert not hg.LowStateCodec().decode(bytes(data)).ok
    with pytest.raises(hg.WireSizeError, match="1004 bytes, expected 2092"):
        hg.LowStateCodec().decode(bytes(1004))
    with pytest.raises(hg.WireSizeError, match="not little-endian plain CDR"):
        hg.LowCmdCodec().decode(b"\x00\x00\x00\x00" + bytes(1000))


CODECS = pytest.mark.parametrize("codec_cls,table", [(hg.LowCmdCodec, hg.LOW_CMD), (hg.LowStateCodec, hg.LOW_STATE)])


@CODECS
@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), data=st.data())
def test_a_message_with_any_byte_corrupted_is_refused_or_decodes_unchanged(codec_cls, table, seed, data):
    """Only the CDR header's option bytes and alignment padding carry nothing; any other byte is covered."""
    sender = codec_cls()
    fill_random(sender.message, table, np.random.default_rng(seed))
    sent = bytearray(sender.encode())
    intact = codec_cls()
    assert intact.decode(bytes(sent)).ok and intact.message.tobytes() == sender.message.tobytes()
    index = data.draw(st.integers(0, len(sent) - 1), label="index")
    sent[index] ^= data.draw(st.integers(1, 255), label="xor")
    reader = codec_cls()
    try:
        check = reader.decode(bytes(sent))
    except hg.WireSizeError:
        assert index < 2, "only the CDR header's encoding bytes are refused as a size or encoding error"
        return
    assert not check.ok or reader.message.tobytes() == sender.message.tobytes(), (
        f"byte {index} corrupted and the CRC passed a different message")


@CODECS
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_foreign_bytes_are_refused_by_size_or_crc(codec_cls, table, data):
    size = codec_cls.layout.cdr_size
    payload = data.draw(st.one_of(st.binary(max_size=2 * size),
                                  st.binary(min_size=size - 4, max_size=size - 4).map(lambda b: hg.CDR_LE_HEADER + b)))
    try:
        check = codec_cls().decode(payload)
    except hg.WireSizeError:
        assert len(payload) != size or payload[:2] != hg.CDR_LE_HEADER[:2]
        return
    assert not check.ok, "foreign bytes passed the CRC"
