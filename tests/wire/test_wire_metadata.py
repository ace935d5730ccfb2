"""The result-metadata stream (wire §3.1) and the Arrow schema it implies."""
from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from e6magic.wire import (
    ChunkDecodeError, Column, ResultMetadata, VectorType, arrow_schema, decode_metadata, encode_metadata,
    metadata_for,
)

# wire §3.1: rowCount=1, one column `a` of type LONG, empty zone and format.
WORKED_EXAMPLE = bytes.fromhex("0000000000000001 00000001 000161 00044c4f4e47 0000 0000")
WORKED_META = ResultMetadata(1, (Column("a", "LONG"),))

NAMES = st.text(alphabet=st.characters(codec="utf-8"), max_size=20)
COLUMNS = st.builds(Column, NAMES, NAMES, NAMES, NAMES)


def test_worked_example_decodes():
    assert decode_metadata(WORKED_EXAMPLE) == WORKED_META


def test_worked_example_encodes_byte_for_byte():
    assert encode_metadata(WORKED_META) == WORKED_EXAMPLE


@settings(max_examples=100, deadline=None)
@given(row_count=st.integers(-(2**63), 2**63 - 1), columns=st.lists(COLUMNS, max_size=8))
def test_round_trip_keeps_nul_and_supplementary_characters(row_count, columns):
    meta = ResultMetadata(row_count, tuple(columns))
    assert decode_metadata(encode_metadata(meta)) == meta


def test_plain_utf8_not_java_modified_utf8():
    payload = encode_metadata(ResultMetadata(0, (Column("a\x00🎉", "STRING"),)))
    assert b"\xc0\x80" not in payload and "a\x00🎉".encode() in payload


def test_trailing_bytes_are_ignored_like_the_connector():
    assert decode_metadata(WORKED_EXAMPLE + b"\x01\x02") == WORKED_META


@pytest.mark.parametrize("cut", [0, 5, 11, 13, 15, len(WORKED_EXAMPLE) - 1])
def test_truncated_metadata(cut):
    with pytest.raises(ChunkDecodeError, match="result metadata"):
        decode_metadata(WORKED_EXAMPLE[:cut])


def test_negative_column_count():
    with pytest.raises(ChunkDecodeError, match="negative column count"):
        decode_metadata(bytes(8) + b"\xff\xff\xff\xff")


def test_invalid_utf8_name():
    with pytest.raises(ChunkDecodeError, match="column 0 is not valid UTF-8"):
        decode_metadata(bytes(8) + b"\x00\x00\x00\x01" + b"\x00\x01\xff" + b"\x00\x00" * 3)


def test_strings_over_65535_bytes_are_refused():
    with pytest.raises(ValueError, match="65535"):
        encode_metadata(ResultMetadata(0, (Column("x" * 70_000, "STRING"),)))


def test_schema_for_every_vector_type_name():
    names = ["LONG", "INTEGER", "DOUBLE", "FLOAT", "BOOLEAN", "STRING", "BINARY", "ARRAY", "MAP", "STRUCT",
             "DATE", "DATETIME", "TIMESTAMP_TZ", "DECIMAL128", "NULL", "INTERVAL_DAY_SECOND"]
    meta = ResultMetadata(0, tuple(Column(n.lower(), n, zone="+02:00" if n == "TIMESTAMP_TZ" else "") for n in names))
    assert arrow_schema(meta).types == [
        pa.int64(), pa.int32(), pa.float64(), pa.float32(), pa.bool_(), pa.string(), pa.string(), pa.string(),
        pa.string(), pa.string(), pa.date32(), pa.timestamp("us"), pa.timestamp("us", "+02:00"),
        pa.decimal128(38, 0), pa.null(), pa.duration("us"),
    ]


@pytest.mark.parametrize(("name", "atype"), [
    ("INT", pa.int32()), ("decimal(10,3)", pa.decimal128(10, 3)), ("DECIMAL128(38, 2)", pa.decimal128(38, 2)),
    ("SHORT", pa.int16()), ("BYTE", pa.int8()), ("DECIMAL128(18,2)", pa.decimal128(18, 2)),
    ("varchar(16)", pa.string()), ("SOMETHING_NEW", pa.string()),
])
def test_schema_for_aliases_and_parameters(name, atype):
    assert arrow_schema(ResultMetadata(0, (Column("c", name),))).types == [atype]


def test_metadata_for_an_arrow_schema():
    schema = pa.schema([("id", pa.int64()), ("at", pa.timestamp("ns", "Asia/Kolkata")), ("tags", pa.string())])
    meta = metadata_for(schema, 42, [VectorType.LONG, VectorType.TIMESTAMP_TZ, VectorType.ARRAY])
    assert meta == ResultMetadata(42, (
        Column("id", "LONG"), Column("at", "TIMESTAMP_TZ", zone="Asia/Kolkata"), Column("tags", "ARRAY"),
    ))
    assert arrow_schema(meta).types == [pa.int64(), pa.timestamp("us", "Asia/Kolkata"), pa.string()]


def test_a_name_declaring_a_narrower_type_narrows_the_vector_and_refuses_what_does_not_fit():
    from e6magic.wire import decode_chunk, encode_chunk

    batch = pa.record_batch({"s": pa.array([-32768, None, 32767], pa.int16()),
                             "b": pa.array([-128, 127, None], pa.int8())})
    meta = metadata_for(batch.schema, 3)
    assert [c.type_name for c in meta.columns] == ["SHORT", "BYTE"]  # in INTEGER vectors: the connector's ints
    assert decode_chunk(encode_chunk(batch), meta).equals(batch)
    wide = pa.record_batch({"s": pa.array([40000], pa.int32()), "b": pa.array([1], pa.int32())})
    with pytest.raises(ChunkDecodeError, match="does not fit SHORT"):
        decode_chunk(encode_chunk(wide), ResultMetadata(1, meta.columns))
