"""Corrupted chunks fail with ChunkDecodeError (a ValueError), never another exception or a hang."""
from __future__ import annotations

import datetime as dt
import decimal

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from e6magic.wire import ChunkDecodeError, decode_chunk, encode_chunk

SAMPLE = encode_chunk(pa.record_batch({
    "long": pa.array([1, None, 3]),
    "text": pa.array(["a", "", None]),
    "dec": pa.array([decimal.Decimal("1.5"), None, decimal.Decimal("-2.25")], pa.decimal128(10, 2)),
    "ts": pa.array([dt.datetime(2020, 1, 1), None, dt.datetime(1900, 5, 5)], pa.timestamp("us", "+03:00")),
    "bool": pa.array([True, False, None]),
    "date": pa.array([dt.date(2001, 1, 1), None, dt.date(1, 1, 1)]),
    "null": pa.nulls(3),
}))


def decode_or_reject(payload: bytes) -> None:
    try:
        batch = decode_chunk(payload)
    except ChunkDecodeError as exc:
        assert "\n" not in str(exc)
        return
    batch.validate(full=True)


@settings(max_examples=300, deadline=None)
@given(position=st.integers(0, len(SAMPLE) - 1), value=st.integers(0, 255))
def test_any_single_byte_change(position, value):
    decode_or_reject(SAMPLE[:position] + bytes([value]) + SAMPLE[position + 1 :])


@settings(max_examples=100, deadline=None)
@given(cut=st.integers(1, len(SAMPLE) - 1))
def test_any_truncation(cut):
    decode_or_reject(SAMPLE[:cut])


@settings(max_examples=100, deadline=None)
@given(payload=st.binary(min_size=1, max_size=200))
def test_random_bytes(payload):
    decode_or_reject(payload)


def test_sample_decodes():
    assert decode_chunk(SAMPLE).num_rows == 3
