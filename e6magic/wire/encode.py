"""Encode an Arrow RecordBatch as one Thrift-binary `Chunk` (wire §3.2-3.3, §3.7), vectorised with numpy."""
from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from e6magic.wire.text import binary_to_string_array
from e6magic.wire.thrift_binary import BOOL, DOUBLE, I32, I64, STRING, STRUCT, ThriftWriter
from e6magic.wire.types import (
    DECIMAL_PRECISION,
    TEXT_TYPES,
    UNSUPPORTED_TYPES,
    VectorType,
    is_arrow_bytes,
    is_arrow_text,
    vector_type_for,
    wire_zone,
)
from e6magic.wire.vector_schema import (
    BOOL_DATA,
    CHUNK_SIZE,
    CHUNK_VECTORS,
    DATE_DATA,
    DECIMAL128_DATA,
    FLOAT32_DATA,
    FLOAT64_DATA,
    INT32_DATA,
    INT64_DATA,
    NULL_CONST,
    TIME_DATA,
    VARCHAR_DATA,
    VECTOR_DATA,
    VECTOR_IS_CONSTANT,
    VECTOR_NULL_SET,
    VECTOR_SIZE,
    VECTOR_TYPE,
    VECTOR_ZONE_OFFSET,
)

_MICROS_PER_DAY = 86_400_000_000
_MICROS_PER_UNIT = {"s": 1_000_000, "ms": 1_000, "us": 1}
_INT64_MAX = np.iinfo(np.int64).max
_DECIMAL_PREFIX = np.frombuffer(struct.pack(">i", 16), np.uint8)
_PREFIX_BYTES = np.arange(4)


def encode_chunk(batch: pa.RecordBatch, vector_types: Sequence[VectorType] | None = None) -> bytes:
    """Serialise `batch` as one Thrift-binary Chunk, one vector per column in order.

    `vector_types` overrides `vector_type_for(column type)` per column; text types (STRING, BINARY,
    ARRAY, MAP, STRUCT) accept string or binary columns already rendered as text. Null rows keep a
    zero placeholder in the data lists (16 zero bytes for decimals, empty strings for text).
    Raises TypeError for a column type with no vector type, ValueError for values that cannot
    travel (a NULL vector with values, timestamps outside the int64 microsecond range).
    """
    if vector_types is not None and len(vector_types) != batch.num_columns:
        raise ValueError(f"{len(vector_types)} vector types given for {batch.num_columns} columns")
    writer = ThriftWriter()
    writer.i32_field(CHUNK_SIZE, batch.num_rows)
    writer.list_field(CHUNK_VECTORS, STRUCT, batch.num_columns, b"")
    for index, (name, array) in enumerate(zip(batch.schema.names, batch.columns, strict=True)):
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        if pa.types.is_dictionary(array.type):
            array = array.dictionary_decode()
        try:
            vtype = VectorType(vector_types[index]) if vector_types is not None else vector_type_for(array.type)
            _write_vector(writer, array, vtype)
        except (TypeError, ValueError, pa.ArrowException) as exc:
            kind = TypeError if isinstance(exc, TypeError) else ValueError
            raise kind(f"column {name!r} ({array.type}): {exc}".split("\n")[0]) from None
    writer.stop()
    return writer.getvalue()


def _write_vector(writer: ThriftWriter, array: pa.Array, vtype: VectorType) -> None:
    size = len(array)
    writer.i32_field(VECTOR_SIZE, size)
    writer.i32_field(VECTOR_TYPE, int(vtype))
    if vtype in UNSUPPORTED_TYPES:
        raise TypeError(f"the official connector cannot read {vtype.name} vectors")
    if vtype == VectorType.NULL:
        if array.null_count != size:
            raise ValueError(f"{size - array.null_count} non-null values cannot travel as a NULL vector")
        # A constant all-null vector: the connector never reads NULL vectors' data (wire §3.3).
        writer.list_field(VECTOR_NULL_SET, BOOL, 1, b"\x01")
        writer.field(STRUCT, VECTOR_DATA)
        writer.field(STRUCT, NULL_CONST)
        writer.byte_field(1, 0)
        writer.stop()
        writer.stop()
        writer.bool_field(VECTOR_IS_CONSTANT, True)
        writer.stop()
        return
    nulls = _null_mask(array)
    writer.list_field(VECTOR_NULL_SET, BOOL, size, _bool_bytes(nulls, size))
    writer.field(STRUCT, VECTOR_DATA)
    _write_data(writer, array, vtype, nulls)
    writer.stop()
    writer.bool_field(VECTOR_IS_CONSTANT, False)
    if vtype == VectorType.TIMESTAMP_TZ:
        # Not read by the official connector; it lets an empty or all-null vector keep its zone.
        writer.binary_field(VECTOR_ZONE_OFFSET, _zone_of(array).encode("utf-8"))
    writer.stop()


def _write_data(writer: ThriftWriter, array: pa.Array, vtype: VectorType, nulls: np.ndarray | None) -> None:
    size = len(array)
    if vtype in TEXT_TYPES:
        writer.field(STRUCT, VARCHAR_DATA)
        writer.list_field(1, STRING, size, _string_list_body(_as_text(array)))
    elif vtype == VectorType.DECIMAL128:
        array = _as_decimal128(array)
        writer.field(STRUCT, DECIMAL128_DATA)
        writer.list_field(1, STRING, size, _decimal_list_body(array, nulls))
        writer.i32_field(2, array.type.scale)
    elif vtype == VectorType.TIMESTAMP_TZ:
        writer.field(STRUCT, TIME_DATA)
        writer.list_field(1, I64, size, _be(_micros(array, "timestamp"), nulls, ">i8"))
        zone = _zone_of(array).encode("utf-8")
        writer.list_field(2, STRING, size, (struct.pack(">i", len(zone)) + zone) * size)
    else:
        member, etype, dtype, values = _fixed_values(array, vtype)
        writer.field(STRUCT, member)
        writer.list_field(1, etype, size, _be(values, nulls, dtype))
    writer.stop()


def _fixed_values(array: pa.Array, vtype: VectorType) -> tuple[int, int, str, np.ndarray]:
    """(member id, element TType, big-endian dtype, native values) of a fixed-width vector."""
    if vtype == VectorType.LONG:
        return INT64_DATA, I64, ">i8", _numbers(array, pa.int64())
    if vtype == VectorType.INTEGER:
        return INT32_DATA, I32, ">i4", _numbers(array, pa.int32())
    if vtype == VectorType.DOUBLE:
        return FLOAT64_DATA, DOUBLE, ">f8", _numbers(array, pa.float64())
    if vtype == VectorType.FLOAT:
        return FLOAT32_DATA, DOUBLE, ">f8", _numbers(array, pa.float64())
    if vtype == VectorType.BOOLEAN:
        return BOOL_DATA, BOOL, "u1", _booleans(array)
    if vtype == VectorType.DATE:
        return DATE_DATA, I64, ">i8", _date_micros(array)
    if vtype == VectorType.DATETIME:
        return TIME_DATA, I64, ">i8", _micros(array, "timestamp")
    if vtype == VectorType.INTERVAL_DAY_SECOND:
        return INT64_DATA, I64, ">i8", _micros(array, "duration")
    raise TypeError(f"no encoding for vector type {vtype.name}")


def _null_mask(array: pa.Array) -> np.ndarray | None:
    """A bool array, True at null rows; None when there are no nulls."""
    if array.null_count == 0:
        return None
    bitmap = array.buffers()[0]
    if bitmap is None:
        return np.ones(len(array), dtype=bool)
    bits = np.unpackbits(np.frombuffer(bitmap, np.uint8), count=array.offset + len(array), bitorder="little")
    nulls: np.ndarray = bits[array.offset :] == 0
    return nulls


def _bool_bytes(mask: np.ndarray | None, size: int) -> bytes | memoryview:
    return bytes(size) if mask is None else mask.view(np.uint8).data


def _be(values: np.ndarray, nulls: np.ndarray | None, dtype: str) -> memoryview:
    """Big-endian bytes of `values` with 0 at null rows (the placeholder of wire §3.7)."""
    if nulls is not None:
        values = np.where(nulls, 0, values)
    return values.astype(dtype, copy=False).data


def _fixed_buffer(array: pa.Array, dtype: type) -> np.ndarray:
    return np.frombuffer(array.buffers()[1], dtype, len(array), array.offset * np.dtype(dtype).itemsize)


def _numbers(array: pa.Array, target: pa.DataType) -> np.ndarray:
    if array.type != target:
        try:
            array = array.cast(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise TypeError(f"cannot cast to {target}: {exc}") from None
    return _fixed_buffer(array, target.to_pandas_dtype())


def _booleans(array: pa.Array) -> np.ndarray:
    if not pa.types.is_boolean(array.type):
        raise TypeError("BOOLEAN vectors need a bool column")
    bits = np.unpackbits(
        np.frombuffer(array.buffers()[1], np.uint8), count=array.offset + len(array), bitorder="little"
    )
    return bits[array.offset :]


def _date_micros(array: pa.Array) -> np.ndarray:
    if not pa.types.is_date32(array.type):
        try:
            array = array.cast(pa.date32())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise TypeError(f"DATE vectors need a date column: {exc}") from None
    days = _fixed_buffer(array, np.int32).astype(np.int64)
    return _scaled(days, _MICROS_PER_DAY, array)


def _micros(array: pa.Array, kind: str) -> np.ndarray:
    """Epoch (or duration) microseconds of a timestamp/duration array of any unit; ns are floored."""
    checker = pa.types.is_timestamp if kind == "timestamp" else pa.types.is_duration
    if not checker(array.type):
        raise TypeError(f"expected a {kind} column")
    values = _fixed_buffer(array, np.int64)
    unit = array.type.unit
    if unit == "ns":
        floored: np.ndarray = np.floor_divide(values, 1000)
        return floored
    return _scaled(values, _MICROS_PER_UNIT[unit], array)


def _scaled(values: np.ndarray, factor: int, array: pa.Array) -> np.ndarray:
    if factor == 1:
        return values
    limit = _INT64_MAX // factor
    outside = (values > limit) | (values < -limit)
    nulls = _null_mask(array)
    if nulls is not None:
        outside &= ~nulls
    if bool(outside.any()):
        row = int(np.flatnonzero(outside)[0])
        raise ValueError(f"row {row} is outside the int64 microsecond range")
    return values * factor


def _zone_of(array: pa.Array) -> str:
    return wire_zone(array.type.tz or "UTC") if pa.types.is_timestamp(array.type) else "Z"


def _as_decimal128(array: pa.Array) -> pa.Array:
    atype = array.type
    if pa.types.is_decimal128(atype):
        return array
    if pa.types.is_decimal(atype):
        target = pa.decimal128(min(atype.precision, DECIMAL_PRECISION), atype.scale)
    elif pa.types.is_integer(atype):
        target = pa.decimal128(DECIMAL_PRECISION, 0)
    else:
        raise TypeError("DECIMAL128 vectors need a decimal column")
    try:
        return array.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ValueError(f"values do not fit {target}: {exc}") from None


def _decimal_list_body(array: pa.Array, nulls: np.ndarray | None) -> memoryview:
    """Each value as `00000010` + 16 bytes big-endian two's complement: a uniform 20-byte stride."""
    size = len(array)
    little = np.frombuffer(array.buffers()[1], np.uint8, 16 * size, 16 * array.offset).reshape(size, 16)
    out = np.empty((size, 20), dtype=np.uint8)
    out[:, :4] = _DECIMAL_PREFIX
    out[:, 4:] = little[:, ::-1]
    if nulls is not None:
        out[nulls, 4:] = 0
    return out.reshape(-1).data


def _as_text(array: pa.Array) -> pa.Array:
    atype = array.type
    if pa.types.is_string(atype) or pa.types.is_large_string(atype):
        return array
    if is_arrow_text(atype):
        return array.cast(pa.large_string())
    if is_arrow_bytes(atype):
        return binary_to_string_array(array)
    try:
        return array.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise TypeError("text vectors need a string or binary column (render it as text first)") from None


def _string_list_body(array: pa.Array) -> memoryview | bytes:
    """Interleave 4-byte big-endian length prefixes with the string bytes, using the Arrow offsets."""
    size = len(array)
    if size == 0:
        return b""
    offset_type = np.int64 if pa.types.is_large_string(array.type) else np.int32
    offsets = np.frombuffer(array.buffers()[1], offset_type, size + 1, array.offset * np.dtype(offset_type).itemsize)
    lengths = np.diff(offsets)
    nulls = _null_mask(array)
    if nulls is not None and bool(lengths[nulls].any()):
        # Null slots that own bytes would leak them: rebuild with empty placeholders.
        return _string_list_body(array.fill_null(""))
    start, end = int(offsets[0]), int(offsets[-1])
    data = np.frombuffer(array.buffers()[2], np.uint8, end - start, start) if end > start else np.empty(0, np.uint8)
    out = np.empty(4 * size + (end - start), dtype=np.uint8)
    prefix_at = (offsets[:-1] - start) + 4 * np.arange(size, dtype=offsets.dtype)
    prefix_index = (prefix_at[:, None] + _PREFIX_BYTES).reshape(-1)
    out[prefix_index] = lengths.astype(">i4").view(np.uint8)
    is_data = np.ones(len(out), dtype=bool)
    is_data[prefix_index] = False
    out[is_data] = data
    return out.data
