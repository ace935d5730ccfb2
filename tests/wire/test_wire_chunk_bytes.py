"""Chunks built byte by byte: the worked example, constant vectors, unknown fields, bad input."""
from __future__ import annotations

import datetime as dt
import decimal
import struct

import pyarrow as pa
import pytest

from e6magic.wire import (
    ChunkDecodeError, Column, ResultMetadata, VectorType, decode_chunk, encode_chunk,
)
import wire_thrift_build as tb

# wire §3.2: a 2-row chunk with one LONG column holding [7, NULL].
WORKED_EXAMPLE = bytes.fromhex(
    "08 0001 00000002"
    "0f 0002 0c 00000001"
    "08 0001 00000002"
    "08 0002 00000006"
    "0f 0003 02 00000002 00 01"
    "0c 0004"
    "0c 0003"
    "0f 0001 0a 00000002 0000000000000007 0000000000000000"
    "00"
    "00"
    "02 0005 00"
    "00"
    "00"
)
ONE_LONG = ResultMetadata(1, (Column("a", "LONG"),))


def decode_one(vector: bytes, size: int, column_type: str = "?") -> pa.Array:
    batch = decode_chunk(tb.chunk(size, [vector]), ResultMetadata(size, (Column("v", column_type),)))
    return batch.column(0)


def be16(unscaled: int) -> bytes:
    return unscaled.to_bytes(16, "big", signed=True)


class TestWorkedExample:
    def test_decodes_to_seven_and_null(self):
        batch = decode_chunk(WORKED_EXAMPLE, ONE_LONG)
        assert batch.schema == pa.schema([("a", pa.int64())])
        assert batch.column(0).to_pylist() == [7, None]

    def test_encodes_byte_for_byte(self):
        batch = pa.record_batch({"a": pa.array([7, None], pa.int64())})
        assert encode_chunk(batch) == WORKED_EXAMPLE

    def test_builder_agrees_with_the_spec_bytes(self):
        vector = tb.vector(2, 6, [False, True], tb.struct_(3, tb.list_(1, tb.I64, [struct.pack(">q", 7), bytes(8)])))
        assert tb.chunk(2, [vector]) == WORKED_EXAMPLE

    def test_without_metadata_columns_are_numbered(self):
        assert decode_chunk(WORKED_EXAMPLE).schema.names == ["c0"]


def constant(vtype: VectorType, member: bytes, size: int = 3, null: bool = False) -> bytes:
    return tb.vector(size, int(vtype), [null], member, constant=True)


CONSTANTS = [
    (VectorType.LONG, tb.struct_(11, tb.i64(1, -5)), pa.int64(), -5),
    (VectorType.INTEGER, tb.struct_(11, tb.i64(1, 42)), pa.int32(), 42),
    (VectorType.INTERVAL_DAY_SECOND, tb.struct_(11, tb.i64(1, 1_500_000)), pa.duration("us"),
     dt.timedelta(seconds=1.5)),
    (VectorType.DOUBLE, tb.struct_(12, tb.double(1, 2.5)), pa.float64(), 2.5),
    (VectorType.FLOAT, tb.struct_(12, tb.double(1, 0.25)), pa.float32(), 0.25),
    (VectorType.BOOLEAN, tb.struct_(8, tb.boolean(1, True)), pa.bool_(), True),
    (VectorType.STRING, tb.struct_(15, tb.string(1, "héllo")), pa.string(), "héllo"),
    (VectorType.BINARY, tb.struct_(15, tb.string(1, "raw")), pa.string(), "raw"),
    (VectorType.ARRAY, tb.struct_(15, tb.string(1, "[1, 2]")), pa.string(), "[1, 2]"),
    (VectorType.MAP, tb.struct_(15, tb.string(1, "{a=1}")), pa.string(), "{a=1}"),
    (VectorType.STRUCT, tb.struct_(15, tb.string(1, "{x: 1}")), pa.string(), "{x: 1}"),
    (VectorType.DATE, tb.struct_(9, tb.i64(1, -86_400_000_000)), pa.date32(), dt.date(1969, 12, 31)),
    (VectorType.DATETIME, tb.struct_(14, tb.i64(1, -1)), pa.timestamp("us"),
     dt.datetime(1969, 12, 31, 23, 59, 59, 999999)),
    (VectorType.TIMESTAMP_TZ, tb.struct_(14, tb.i64(1, 0), tb.string(2, "-05:00")), pa.timestamp("us", "-05:00"),
     dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)),
    (VectorType.DECIMAL128, tb.struct_(18, tb.string(1, be16(-12345)), tb.i32(2, 2)), pa.decimal128(38, 2),
     decimal.Decimal("-123.45")),
    (VectorType.DECIMAL128, tb.struct_(18, tb.string(1, "98.7600"), tb.i32(2, 2)), pa.decimal128(38, 4),
     decimal.Decimal("98.7600")),
]


class TestConstantVectors:
    @pytest.mark.parametrize(("vtype", "member", "atype", "value"), CONSTANTS,
                             ids=[f"{c[0].name}-{i}" for i, c in enumerate(CONSTANTS)])
    def test_value_repeats_on_every_row(self, vtype, member, atype, value):
        column = decode_one(constant(vtype, member), 3)
        assert column.type == atype
        assert column.to_pylist() == [value] * 3

    @pytest.mark.parametrize(("vtype", "member", "atype", "value"), CONSTANTS,
                             ids=[f"{c[0].name}-{i}" for i, c in enumerate(CONSTANTS)])
    def test_null_flag_nulls_every_row(self, vtype, member, atype, value):
        column = decode_one(constant(vtype, member, size=4, null=True), 4)
        assert column.null_count == 4
        assert len(column) == 4

    def test_null_vector_ignores_its_data(self):
        column = decode_one(constant(VectorType.NULL, tb.struct_(10, tb.byte(1, 0)), size=5), 5)
        assert column.type == pa.null() and len(column) == 5

    def test_null_vector_without_null_set_or_data(self):
        vector = tb.i32(1, 2) + tb.i32(2, int(VectorType.NULL))
        assert decode_one(vector, 2).to_pylist() == [None, None]

    def test_timestamp_tz_constant_without_zone_is_utc(self):
        column = decode_one(constant(VectorType.TIMESTAMP_TZ, tb.struct_(14, tb.i64(1, 0)), size=1), 1)
        assert column.type == pa.timestamp("us", "UTC")

    def test_encoder_sends_null_columns_as_constant_vectors(self):
        payload = encode_chunk(pa.record_batch({"n": pa.nulls(3)}))
        expected_vector = tb.vector(3, int(VectorType.NULL), [True], tb.struct_(10, tb.byte(1, 0)), constant=True)
        assert payload == tb.chunk(3, [expected_vector])


def unknown_fields() -> bytes:
    """One unknown field of every TType, with nesting, as a newer engine might add."""
    return b"".join([
        tb.boolean(90, True), tb.byte(91, -1), tb.double(92, 1.0), tb.field(tb.I16, 93, b"\x00\x07"),
        tb.i32(94, 7), tb.i64(95, 7), tb.string(96, "new"),
        tb.struct_(97, tb.i32(1, 1), tb.list_(2, tb.STRING, [tb.elem_string("a"), tb.elem_string("")])),
        tb.field(tb.MAP, 98, struct.pack(">bbi", tb.STRING, tb.I32, 2) + tb.elem_string("k") + b"\0\0\0\1"
                 + tb.elem_string("kk") + b"\0\0\0\2"),
        tb.field(tb.SET, 99, struct.pack(">bi", tb.I64, 2) + bytes(16)),
        tb.list_(100, tb.STRUCT, [tb.elem_struct(tb.i32(1, 1)), tb.elem_struct()]),
        tb.list_(101, tb.LIST, [struct.pack(">bi", tb.DOUBLE, 1) + bytes(8)]),
    ])


class TestUnknownFieldsAreSkipped:
    def test_in_chunk_vector_data_and_member(self):
        extra = unknown_fields()
        member = tb.struct_(3, extra, tb.list_(1, tb.I64, [struct.pack(">q", 7), bytes(8)]), extra)
        data = tb.struct_(4, extra, member, tb.struct_(77, extra), extra)
        vector = tb.i32(1, 2) + extra + tb.i32(2, 6) + tb.list_(3, tb.BOOL, [b"\0", b"\1"]) + data \
            + tb.boolean(5, False) + tb.string(6, "zone") + tb.string(7, "fmt") + extra
        payload = tb.i32(1, 2) + extra + tb.list_(2, tb.STRUCT, [tb.elem_struct(vector)]) + extra + b"\x00"
        assert decode_chunk(payload, ONE_LONG).column(0).to_pylist() == [7, None]

    def test_known_id_with_another_type_is_skipped(self):
        vector = tb.string(1, "not a size") + tb.vector(1, 6, [False], tb.struct_(3, tb.list_(1, tb.I64, [bytes(8)])))
        assert decode_one(vector, 1).to_pylist() == [0]


class TestStrictness:
    def test_vector_count_must_match_metadata(self):
        two_columns = ResultMetadata(2, (Column("a", "LONG"), Column("b", "LONG")))
        with pytest.raises(ChunkDecodeError, match="^chunk has 1 vectors but the metadata has 2 columns$"):
            decode_chunk(WORKED_EXAMPLE, two_columns)

    def test_vector_size_must_match_chunk_size(self):
        vector = tb.vector(1, 6, [False], tb.struct_(3, tb.list_(1, tb.I64, [bytes(8)])))
        with pytest.raises(ChunkDecodeError, match="vector 0 has size 1 but the chunk has 2 rows"):
            decode_chunk(tb.chunk(2, [vector]))

    def test_short_data_list(self):
        vector = tb.vector(2, 6, [False, False], tb.struct_(3, tb.list_(1, tb.I64, [bytes(8)])))
        with pytest.raises(ChunkDecodeError, match=r"vector 0 \(LONG\): int64Data has 1 values for 2 rows"):
            decode_one(vector, 2)

    def test_missing_null_set(self):
        vector = tb.vector(1, 6, None, tb.struct_(3, tb.list_(1, tb.I64, [bytes(8)])))
        with pytest.raises(ChunkDecodeError, match="has no nullSet"):
            decode_one(vector, 1)

    def test_wrong_member_for_the_type(self):
        vector = tb.vector(1, 6, [False], tb.struct_(2, tb.list_(1, tb.I32, [bytes(4)])))
        with pytest.raises(ChunkDecodeError, match=r"vector 0 \(LONG\): no int64Data"):
            decode_one(vector, 1)

    @pytest.mark.parametrize("vtype", [4, 10, 18, -1])
    def test_unsupported_and_unknown_vector_types(self, vtype):
        vector = tb.vector(1, vtype, [False], tb.struct_(3, tb.list_(1, tb.I64, [bytes(8)])))
        with pytest.raises(ChunkDecodeError, match="vector 0 has (unsupported|unknown) vector type"):
            decode_one(vector, 1)

    @pytest.mark.parametrize("cut", [1, 5, 12, 30, 60, len(WORKED_EXAMPLE) - 1])
    def test_truncated_chunk(self, cut):
        with pytest.raises(ChunkDecodeError):
            decode_chunk(WORKED_EXAMPLE[:cut])

    def test_error_messages_are_one_line_and_value_errors(self):
        with pytest.raises(ValueError) as info:
            decode_chunk(WORKED_EXAMPLE[:40])
        assert "\n" not in str(info.value)

    def test_empty_payload_is_the_end_marker_not_a_chunk(self):
        with pytest.raises(ChunkDecodeError, match="end-of-results"):
            decode_chunk(b"")

    @pytest.mark.parametrize("size", [0])  # a negative size is an error: tests/wire/test_wire_impossible.py
    def test_size_zero_or_negative_is_an_empty_batch(self, size):
        meta = ResultMetadata(0, (Column("a", "LONG"), Column("d", "DECIMAL128(38,2)")))
        batch = decode_chunk(tb.i32(1, size) + b"\x00", meta)
        assert batch.num_rows == 0
        assert batch.schema == pa.schema([("a", pa.int64()), ("d", pa.decimal128(38, 2))])

    def test_list_of_the_wrong_element_type(self):
        vector = tb.vector(1, 6, [False], tb.struct_(3, tb.list_(1, tb.I32, [bytes(4)])))
        with pytest.raises(ChunkDecodeError, match="list of Thrift type 8, expected 10"):
            decode_one(vector, 1)


def decimal_vector(elements: list[bytes], nulls: list[bool], scale: int | None = 2) -> bytes:
    fields = [tb.list_(1, tb.STRING, [tb.elem_string(e) for e in elements])]
    if scale is not None:
        fields.append(tb.i32(2, scale))
    return tb.vector(len(elements), int(VectorType.DECIMAL128), nulls, tb.struct_(17, *fields))


class TestDecimalInputs:
    def test_binary_with_empty_null_placeholders(self):
        column = decode_one(decimal_vector([be16(12345), b"", be16(-1)], [False, True, False]), 3)
        assert column.type == pa.decimal128(38, 2)
        assert column.to_pylist() == [decimal.Decimal("123.45"), None, decimal.Decimal("-0.01")]

    def test_utf8_text_widens_the_scale_to_keep_digits(self):
        column = decode_one(decimal_vector([b"1.5", b"-0.125", be16(100)], [False, False, False]), 3)
        assert column.type == pa.decimal128(38, 3)
        assert column.to_pylist() == [decimal.Decimal("1.5"), decimal.Decimal("-0.125"), decimal.Decimal("1.00")]

    def test_38_nines_are_exact(self):
        nines = 10**38 - 1
        column = decode_one(decimal_vector([be16(nines), be16(-nines)], [False, False], scale=0), 2)
        assert column.to_pylist() == [decimal.Decimal(nines), decimal.Decimal(-nines)]

    def test_missing_scale_means_zero(self):
        assert decode_one(decimal_vector([be16(7)], [False], scale=None), 1).to_pylist() == [decimal.Decimal(7)]

    def test_more_than_38_digits_is_an_error(self):
        with pytest.raises(ChunkDecodeError, match="more than 38 digits"):
            decode_one(decimal_vector([be16(10**38)], [False]), 1)

    def test_bytes_that_are_neither_binary_nor_text(self):
        with pytest.raises(ChunkDecodeError, match="row 0: 3-byte value is neither 16-byte binary nor decimal text"):
            decode_one(decimal_vector([b"\xff\x00\x01"], [False]), 1)

    def test_encoder_writes_16_zero_bytes_for_nulls(self):
        batch = pa.record_batch({"d": pa.array([decimal.Decimal("1.00"), None], pa.decimal128(5, 2))})
        expected = decimal_vector([be16(100), bytes(16)], [False, True])
        assert encode_chunk(batch) == tb.chunk(2, [expected])


class TestTimeZones:
    def time_vector(self, micros: list[int], zones: list[str], nulls: list[bool]) -> bytes:
        member = tb.struct_(16, tb.list_(1, tb.I64, [struct.pack(">q", m) for m in micros]),
                            tb.list_(2, tb.STRING, [tb.elem_string(z) for z in zones]))
        return tb.vector(len(micros), int(VectorType.TIMESTAMP_TZ), nulls, member)

    @pytest.mark.parametrize(("zone", "arrow_tz"), [("Z", "UTC"), ("+05:30", "+05:30"),
                                                    ("America/New_York", "America/New_York"), ("", "UTC")])
    def test_one_zone_per_column(self, zone, arrow_tz):
        column = decode_one(self.time_vector([0, 1], [zone, zone], [False, False]), 2)
        assert column.type == pa.timestamp("us", arrow_tz)
        assert column.cast(pa.int64()).to_pylist() == [0, 1]

    def test_mixed_zones_give_utc_and_keep_the_instants(self):
        column = decode_one(self.time_vector([0, 1], ["+01:00", "Asia/Tokyo"], [False, False]), 2)
        assert column.type == pa.timestamp("us", "UTC")
        assert column.cast(pa.int64()).to_pylist() == [0, 1]

    def test_null_rows_zone_placeholders_do_not_mix(self):
        column = decode_one(self.time_vector([0, 1], ["+01:00", ""], [False, True]), 2)
        assert column.type == pa.timestamp("us", "+01:00")


class TestEncoderInputs:
    def test_invalid_utf8_binary_renders_duckdb_escapes(self):
        batch = pa.record_batch({"b": pa.array([b"ok\xff\xfe", b"\xc3\xa9", None])})
        assert decode_chunk(encode_chunk(batch)).column(0).to_pylist() == ["ok\\xFF\\xFE", "é", None]

    @pytest.mark.parametrize("atype", [pa.binary(), pa.large_binary(), pa.binary_view(), pa.binary(3)])
    def test_every_binary_layout_travels_as_text(self, atype):
        batch = pa.record_batch({"b": pa.array([b"ok\xff", None, b"abc"], atype)})
        assert decode_chunk(encode_chunk(batch)).column(0).to_pylist() == ["ok\\xFF", None, "abc"]

    @pytest.mark.parametrize("atype", [pa.list_(pa.int32()), pa.struct([("a", pa.int32())]), pa.uint64(),
                                       pa.time64("us"), pa.decimal256(40, 2)])
    def test_types_without_a_vector_type(self, atype):
        batch = pa.record_batch({"x": pa.nulls(1, atype)})
        with pytest.raises(TypeError, match=r"^column .x. \(.*\): Arrow type .* has no e6data vector type"):
            encode_chunk(batch)

    def test_override_needs_text_for_text_types(self):
        batch = pa.record_batch({"x": pa.array([[1]], pa.list_(pa.int32()))})
        with pytest.raises(TypeError, match=r"column 'x' .*render it as text first"):
            encode_chunk(batch, [VectorType.ARRAY])

    def test_override_count_must_match(self):
        with pytest.raises(ValueError, match="2 vector types given for 1 columns"):
            encode_chunk(pa.record_batch({"x": [1]}), [VectorType.LONG, VectorType.LONG])

    def test_null_vector_type_refuses_values(self):
        with pytest.raises(ValueError, match="1 non-null values cannot travel as a NULL vector"):
            encode_chunk(pa.record_batch({"x": pa.array([1, None])}), [VectorType.NULL])

    def test_dictionary_columns_travel_as_their_values(self):
        batch = pa.record_batch({"e": pa.array(["a", None, "b", "a"]).dictionary_encode()})
        assert decode_chunk(encode_chunk(batch)).column(0).to_pylist() == ["a", None, "b", "a"]

    def test_null_string_slots_that_own_bytes_do_not_leak(self):
        values = pa.array(["keep", "secret", "x"])
        masked = pa.Array.from_buffers(pa.string(), 3, [pa.py_buffer(bytes([0b101])), *values.buffers()[1:]], 1)
        payload = encode_chunk(pa.record_batch({"s": masked}))
        assert b"secret" not in payload
        assert decode_chunk(payload).column(0).to_pylist() == ["keep", None, "x"]

    def test_timestamp_seconds_overflowing_micros(self):
        batch = pa.record_batch({"t": pa.array([2**62], pa.timestamp("s"))})
        with pytest.raises(ValueError, match="outside the int64 microsecond range"):
            encode_chunk(batch)


class TestTextFromTheEngine:
    def text_vector(self, vtype: VectorType, values: list[bytes], nulls: list[bool]) -> bytes:
        member = tb.struct_(7, tb.list_(1, tb.STRING, [tb.elem_string(v) for v in values]))
        return tb.vector(len(values), int(vtype), nulls, member)

    @pytest.mark.parametrize("vtype", [VectorType.STRING, VectorType.BINARY])
    def test_invalid_utf8_is_escaped_not_lost(self, vtype):
        vector = self.text_vector(vtype, [b"ok", b"\xff\xfeA", b"\xc3\xa9"], [False, False, False])
        assert decode_one(vector, 3).to_pylist() == ["ok", "\\xFF\\xFEA", "é"]

    def test_null_rows_may_carry_any_placeholder(self):
        vector = self.text_vector(VectorType.STRING, [b"a", b"ignored", b""], [False, True, False])
        assert decode_one(vector, 3).to_pylist() == ["a", None, ""]

    def test_equal_length_values_take_the_grid_path(self):
        vector = self.text_vector(VectorType.STRING, [b"abc", b"def", b"ghi"], [False, True, False])
        assert decode_one(vector, 3).to_pylist() == ["abc", None, "ghi"]
