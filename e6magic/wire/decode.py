"""Decode one Thrift-binary `Chunk` (wire §3.2-3.5) straight into an Arrow RecordBatch."""
from __future__ import annotations

import decimal
import struct
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from e6magic.wire.errors import ChunkDecodeError
from e6magic.wire.metadata import Column, ResultMetadata, arrow_schema
from e6magic.wire.text import binary_to_string_array, bytes_to_text
from e6magic.wire.thrift_binary import BOOL, I32, LIST, STOP, STRING, STRUCT, StringList, ThriftReader
from e6magic.wire.types import (
    DECIMAL_PRECISION,
    TEXT_TYPES,
    UNSUPPORTED_TYPES,
    VectorType,
    arrow_type,
    arrow_zone,
    checked_scale,
    declared_type,
)
from e6magic.wire.vector_schema import (
    DECIMAL128_CONST,
    DECIMAL128_DATA,
    MEMBER_FIELDS,
    MEMBER_NAMES,
    MEMBERS,
    TIME_CONST,
    TIME_DATA,
    VARCHAR_DATA,
)

_MICROS_PER_DAY = 86_400_000_000
_DECIMAL_MAX = 10**DECIMAL_PRECISION - 1
# (hi, lo) words of +-(10**38 - 1), to range-check 16-byte decimals without Python ints per row.
_DECIMAL_HI_MAX, _DECIMAL_LO_MAX = _DECIMAL_MAX >> 64, _DECIMAL_MAX & (2**64 - 1)
_DECIMAL_HI_MIN, _DECIMAL_LO_MIN = (-_DECIMAL_MAX) >> 64, (-_DECIMAL_MAX) & (2**64 - 1)
_EXACT = decimal.Context(prec=200, Emin=-999999, Emax=999999, traps=[decimal.InvalidOperation, decimal.Inexact])

_NUMPY_TYPES: dict[VectorType, type[np.generic]] = {
    VectorType.LONG: np.int64, VectorType.INTEGER: np.int32, VectorType.INTERVAL_DAY_SECOND: np.int64,
    VectorType.DOUBLE: np.float64, VectorType.FLOAT: np.float32, VectorType.DATETIME: np.int64,
    VectorType.TIMESTAMP_TZ: np.int64,
}


def _read_struct(reader: ThriftReader, fields: dict[int, tuple[int, Any]]) -> dict[int, Any]:
    """Read a struct's known fields; unknown ids and ids with an unexpected type are skipped."""
    values: dict[int, Any] = {}
    while True:
        ttype, fid = reader.field_header()
        if ttype == STOP:
            return values
        expected = fields.get(fid)
        if expected is None or expected[0] != ttype:
            reader.skip(ttype)
        elif ttype == LIST:
            values[fid] = _read_list(reader, fid, expected[1])
        elif ttype == STRING:
            values[fid] = reader.binary()
        elif ttype == STRUCT:
            values[fid] = expected[1](reader)
        else:
            values[fid] = reader.scalar(ttype)


def _read_list(reader: ThriftReader, fid: int, element: Any) -> Any:
    etype, count = reader.list_header()
    expected = STRUCT if callable(element) else element
    if etype != expected:
        raise ChunkDecodeError(f"field {fid} is a list of Thrift type {etype}, expected {expected}")
    if etype == STRING:
        return reader.string_list(count)
    if etype == STRUCT:
        return [element(reader) for _ in range(count)]
    return reader.fixed_list(etype, count)


def _read_data(reader: ThriftReader) -> dict[int, dict[int, Any]]:
    members: dict[int, dict[int, Any]] = {}
    while True:
        ttype, fid = reader.field_header()
        if ttype == STOP:
            return members
        if ttype == STRUCT and fid in MEMBER_FIELDS:
            members[fid] = _read_struct(reader, MEMBER_FIELDS[fid])
        else:
            reader.skip(ttype)


def _read_vector(reader: ThriftReader) -> dict[int, Any]:
    return _read_struct(reader, _VECTOR_FIELDS)


_VECTOR_FIELDS: dict[int, tuple[int, Any]] = {
    1: (I32, None), 2: (I32, None), 3: (LIST, BOOL), 4: (STRUCT, _read_data), 5: (BOOL, None),
    6: (STRING, None), 7: (STRING, None),
}
_CHUNK_FIELDS: dict[int, tuple[int, Any]] = {1: (I32, None), 2: (LIST, _read_vector)}


def decode_chunk(data: bytes, meta: ResultMetadata | None = None) -> pa.RecordBatch:
    """Decode one Thrift-binary `Chunk` into a RecordBatch (column names from `meta`, else c0, c1, ...).

    Empty bytes are the engine's end-of-results marker, not a chunk: they raise ChunkDecodeError,
    so callers test `if not payload` first. A chunk with `size == 0` decodes to a batch of 0 rows
    (also end of results to callers). Raises ChunkDecodeError (a ValueError) for malformed bytes, a negative
    size, a decimal scale outside 0..38,
    a vector count other than `len(meta.columns)`, a vector size other than the chunk size,
    unsupported vector types, and missing or short data lists.
    """
    if not data:
        raise ChunkDecodeError("empty payload: that is the end-of-results marker, not a chunk")
    # a memoryview over a received message is read in place: copying it is most of a chunk's memory
    buf = data if isinstance(data, (bytes, memoryview)) else bytes(data)
    reader = ThriftReader(buf)
    try:
        chunk = _read_struct(reader, _CHUNK_FIELDS)
    except ChunkDecodeError:
        raise
    except (struct.error, IndexError, ValueError) as exc:
        raise ChunkDecodeError(f"malformed chunk near byte {reader.pos} of {len(buf)}: {exc}") from None
    size = chunk.get(1)
    if size is None:
        raise ChunkDecodeError("chunk has no size field")
    vectors = chunk.get(2, [])
    if size < 0:
        raise ChunkDecodeError(f"chunk has a negative size ({size})")
    if size == 0 and not vectors:
        schema = arrow_schema(meta) if meta is not None else pa.schema([])
        return pa.RecordBatch.from_arrays([pa.array([], f.type) for f in schema], schema=schema)
    if meta is not None and len(vectors) != len(meta.columns):
        raise ChunkDecodeError(
            f"chunk has {len(vectors)} vectors but the metadata has {len(meta.columns)} columns"
        )
    columns = meta.columns if meta is not None else [Column(f"c{i}", "") for i in range(len(vectors))]
    arrays = []
    for index, vector in enumerate(vectors):
        try:
            arrays.append(_as_declared(_column(buf, index, vector, size, columns[index]), index, columns[index]))
        except ChunkDecodeError:
            raise
        except (ValueError, OverflowError, IndexError, pa.ArrowException) as exc:
            raise ChunkDecodeError(f"vector {index}: {type(exc).__name__}: {exc}".split("\n")[0]) from None
    return pa.RecordBatch.from_arrays(arrays, names=[c.name for c in columns])


def _as_declared(array: pa.Array, index: int, column: Column) -> pa.Array:
    """The vector's values in the type its metadata name declares (a SMALLINT in an INTEGER vector is int16, a
    DECIMAL(18,2) keeps precision 18); ChunkDecodeError when a value does not fit that type."""
    target = declared_type(column.type_name, array.type)
    if target == array.type:
        return array
    try:
        return array.cast(target)
    except pa.ArrowInvalid:
        raise ChunkDecodeError(f"vector {index}: a value does not fit {column.type_name} ({target})") from None


def _column(buf: bytes, index: int, vector: dict[int, Any], size: int, column: Column) -> pa.Array:
    vsize = vector.get(1)
    if vsize != size:
        raise ChunkDecodeError(f"vector {index} has size {vsize} but the chunk has {size} rows")
    raw_type: Any = vector.get(2)  # an int, or None when missing (refused below)
    try:
        vtype = VectorType(raw_type)
    except ValueError:
        raise ChunkDecodeError(f"vector {index} has unknown vector type {raw_type}") from None
    if vtype in UNSUPPORTED_TYPES:
        raise ChunkDecodeError(f"vector {index} has unsupported vector type {vtype.name}")
    if vtype == VectorType.NULL:
        return pa.nulls(size)
    vector_zone = str(vector.get(6, b""), "utf-8", "replace")
    column_ctx = _ColumnContext(buf, index, vtype, size, vector.get(4, {}), column, vector_zone)
    null_set = vector.get(3)
    constant = bool(vector.get(5, False))
    needed = min(size, 1) if constant else size
    if null_set is None or len(null_set) < needed:
        got = "no nullSet" if null_set is None else f"a nullSet of {len(null_set)}"
        raise ChunkDecodeError(f"vector {index} ({vtype.name}) has {got} for {size} rows")
    if constant:
        return column_ctx.constant(bool(null_set[0]) if size else True)
    return column_ctx.values(null_set[:size])


class _ColumnContext:
    """Builds one Arrow array from one decoded vector."""

    def __init__(
        self, buf: bytes, index: int, vtype: VectorType, size: int, members: dict[int, Any], column: Column,
        vector_zone: str,
    ) -> None:
        self.buf = buf
        self.index = index
        self.vtype = vtype
        self.size = size
        self.members = members
        self.column = column
        self.vector_zone = vector_zone

    def fail(self, message: str) -> ChunkDecodeError:
        return ChunkDecodeError(f"vector {self.index} ({self.vtype.name}): {message}")

    def member(self, member_id: int, field_id: int = 1, required: bool = True) -> Any:
        fields = self.members.get(member_id)
        if fields is None or field_id not in fields:
            if required:
                raise self.fail(f"no {MEMBER_NAMES.get(member_id, member_id)}")
            return None
        return fields[field_id]

    # -- non-constant vectors -------------------------------------------------------------
    def values(self, null_set: np.ndarray) -> pa.Array:
        nulls = null_set != 0
        null_count = int(np.count_nonzero(nulls))
        validity = None
        if null_count:
            validity = pa.py_buffer(np.packbits(~nulls, bitorder="little"))
        vtype = self.vtype
        if vtype in TEXT_TYPES:
            return _string_array(self.buf, self._list(VARCHAR_DATA), self.size, validity, null_count)
        if vtype == VectorType.DECIMAL128:
            return self._decimals(nulls, null_count)
        raw = self._list(MEMBERS[vtype][0])
        if vtype == VectorType.BOOLEAN:
            bits = pa.py_buffer(np.packbits(raw != 0, bitorder="little"))
            return pa.Array.from_buffers(pa.bool_(), self.size, [validity, bits], null_count)
        if vtype == VectorType.DATE:
            days = np.floor_divide(raw, _MICROS_PER_DAY).astype(np.int32)
            return pa.Array.from_buffers(pa.date32(), self.size, [validity, pa.py_buffer(days)], null_count)
        values = raw.astype(_NUMPY_TYPES[vtype])
        atype = arrow_type(vtype, zone=self._zone(nulls) if vtype == VectorType.TIMESTAMP_TZ else "UTC")
        return pa.Array.from_buffers(atype, self.size, [validity, pa.py_buffer(values)], null_count)

    def _list(self, member_id: int) -> Any:
        values = self.member(member_id)
        if len(values) < self.size:
            raise self.fail(f"{MEMBER_NAMES[member_id]} has {len(values)} values for {self.size} rows")
        return values if isinstance(values, StringList) else values[: self.size]

    def _zone(self, nulls: np.ndarray) -> str:
        zones = self.member(TIME_DATA, 2, required=False)
        if zones is None:
            return self._fallback_zone()
        if len(zones) < self.size:
            raise self.fail(f"timeData.zoneData has {len(zones)} zones for {self.size} rows")
        names = _string_array(self.buf, zones, self.size, None, 0)
        distinct = pc.unique(names.filter(pa.array(~nulls)))
        if len(distinct) == 0:
            # Only null rows: their placeholder zones are the best hint left.
            distinct = pc.unique(names.filter(pc.not_equal(names, "")))
        if len(distinct) == 0:
            return self._fallback_zone()
        return arrow_zone(distinct[0].as_py()) if len(distinct) == 1 else "UTC"

    def _fallback_zone(self) -> str:
        return arrow_zone(self.vector_zone or self.column.zone)

    def _decimals(self, nulls: np.ndarray, null_count: int) -> pa.Array:
        items = self._list(DECIMAL128_DATA)
        scale = checked_scale(self.member(DECIMAL128_DATA, 2, required=False) or 0)
        if items.uniform == 16:
            return self._binary_decimals(items, nulls, null_count, scale)
        return self._mixed_decimals(items, nulls, scale)

    def _binary_decimals(self, items: StringList, nulls: np.ndarray, null_count: int, scale: int) -> pa.Array:
        # Every element is 4-byte prefix + 16 bytes: a (n, 20) grid; flip each value to little-endian.
        grid = np.frombuffer(self.buf, np.uint8, 20 * len(items), items.start).reshape(-1, 20)
        little = np.ascontiguousarray(grid[: self.size, :3:-1])
        if null_count:
            little[nulls] = 0
        words = little.view("<u8").reshape(-1, 2)
        hi = words[:, 1].view(np.int64)
        lo = words[:, 0]
        too_big = (hi > _DECIMAL_HI_MAX) | ((hi == _DECIMAL_HI_MAX) & (lo > _DECIMAL_LO_MAX))
        too_small = (hi < _DECIMAL_HI_MIN) | ((hi == _DECIMAL_HI_MIN) & (lo < _DECIMAL_LO_MIN))
        if bool((too_big | too_small).any()):
            row = int(np.flatnonzero(too_big | too_small)[0])
            raise self.fail(f"row {row} has more than {DECIMAL_PRECISION} digits")
        validity = pa.py_buffer(np.packbits(~nulls, bitorder="little")) if null_count else None
        try:
            atype = pa.decimal128(DECIMAL_PRECISION, scale)
        except (ValueError, pa.ArrowInvalid):
            raise self.fail(f"invalid decimal scale {scale}") from None
        return pa.Array.from_buffers(atype, self.size, [validity, pa.py_buffer(little)], null_count)

    def _mixed_decimals(self, items: StringList, nulls: np.ndarray, scale: int) -> pa.Array:
        # Placeholders of other lengths, or decimal text (wire §3.5): one Decimal per row, rare path.
        starts = items.start + 4 * (np.arange(len(items)) + 1)
        starts[1:] += np.cumsum(items.lengths[:-1])
        values: list[decimal.Decimal | None] = []
        for row in range(self.size):
            start, length = int(starts[row]), int(items.lengths[row])
            if nulls[row] or length == 0:
                values.append(None)
            else:
                values.append(self._decimal_value(self.buf[start : start + length], scale, row))
        return _decimal_array(values, scale, self.fail)

    def _decimal_value(self, raw: bytes, scale: int, row: int) -> decimal.Decimal:
        if len(raw) == 16:
            return decimal.Decimal(int.from_bytes(raw, "big", signed=True)).scaleb(-scale, _EXACT)
        try:
            value = decimal.Decimal(raw.decode("utf-8").strip())
        except (UnicodeDecodeError, decimal.InvalidOperation):
            value = None
        if value is None or not value.is_finite():
            raise self.fail(f"row {row}: {len(raw)}-byte value is neither 16-byte binary nor decimal text")
        return value

    # -- constant vectors ----------------------------------------------------------------
    def constant(self, is_null: bool) -> pa.Array:
        vtype, size = self.vtype, self.size
        const_member = MEMBERS[vtype][1]
        if vtype == VectorType.DECIMAL128:
            scale = checked_scale(self.member(DECIMAL128_CONST, 2, required=False) or 0)
            if is_null:
                return pa.nulls(size, arrow_type(vtype, scale=scale))
            raw = self.member(DECIMAL128_CONST)
            value = self._decimal_value(raw, scale, 0) if raw else None
            return _decimal_array([value] * size, scale, self.fail)
        if vtype == VectorType.TIMESTAMP_TZ:
            zone = self.member(TIME_CONST, 2, required=False)
            zone = arrow_zone(str(zone, "utf-8", "replace")) if zone is not None else self._fallback_zone()
            atype = arrow_type(vtype, zone=zone)
        else:
            atype = arrow_type(vtype)
        if is_null:
            return pa.nulls(size, atype)
        value = self.member(const_member)
        if vtype in TEXT_TYPES:
            return _repeated_string(bytes_to_text(value).encode("utf-8"), size)
        if vtype == VectorType.BOOLEAN:
            return pa.Array.from_buffers(
                atype, size, [None, pa.py_buffer(np.packbits(np.full(size, bool(value)), bitorder="little"))]
            )
        dtype: type[np.generic]
        if vtype == VectorType.DATE:
            value, dtype = value // _MICROS_PER_DAY, np.int32
        else:
            dtype = _NUMPY_TYPES[vtype]
        try:
            values = np.full(size, value, dtype=dtype)
        except OverflowError:
            raise self.fail(f"constant {value} does not fit {atype}") from None
        return pa.Array.from_buffers(atype, size, [None, pa.py_buffer(values)])


def _string_array(
    buf: bytes, items: StringList, size: int, validity: pa.Buffer | None, null_count: int
) -> pa.Array:
    """The list's first `size` strings as an Arrow string array (bytes that are not UTF-8 are escaped)."""
    region = pa.py_buffer(buf)[items.start:items.end]
    if items.uniform is not None:
        grid = np.frombuffer(region, np.uint8).reshape(len(items), 4 + items.uniform)
        data = pa.py_buffer(np.ascontiguousarray(grid[:size, 4:]))
        offsets = np.arange(size + 1, dtype=np.int32) * items.uniform
        raw = pa.Array.from_buffers(pa.binary(), size, [validity, pa.py_buffer(offsets), data], null_count)
    else:
        # Each string with its prefix is one binary value over the received bytes, and Arrow slices the
        # prefixes off in one copy (4x faster than stripping them with a numpy mask).
        kind, offset_type = (pa.binary(), np.int32) if len(region) < 2**31 else (pa.large_binary(), np.int64)
        bounds = np.zeros(size + 1, dtype=offset_type)
        np.cumsum(items.lengths[:size] + 4, out=bounds[1:])
        prefixed = pa.Array.from_buffers(kind, size, [validity, pa.py_buffer(bounds), region], null_count)
        sliced = pc.binary_slice(prefixed, 4, 2**31 - 1)  # an explicit stop: pyarrow 26 fails without one
        # Its buffer is as long as the prefixed text, and it stays with the result: copied to its own length.
        validity, offsets, data = sliced.buffers()
        used = int(np.frombuffer(offsets, offset_type, size + 1)[size])
        data = pa.py_buffer(np.frombuffer(data, np.uint8, used).copy() if used else b"")
        raw = pa.Array.from_buffers(kind, size, [validity, offsets, data], null_count)
    return binary_to_string_array(raw).cast(pa.string())


def _repeated_string(raw: bytes, size: int) -> pa.Array:
    offsets = np.arange(size + 1, dtype=np.int32) * len(raw)
    return pa.Array.from_buffers(pa.string(), size, [None, pa.py_buffer(offsets), pa.py_buffer(raw * size)])


def _decimal_array(
    values: list[decimal.Decimal | None], scale: int, fail: Callable[[str], ChunkDecodeError]
) -> pa.Array:
    # Text decimals carry their own exponent: widen the scale so no digit is lost.
    # every value is finite (_decimal_value refuses the others): its exponent is an int
    target = max([scale] + [-int(v.as_tuple().exponent) for v in values if v is not None])
    target = max(target, 0)
    if target > DECIMAL_PRECISION:
        raise fail(f"scale {target} exceeds {DECIMAL_PRECISION}")
    quantum = decimal.Decimal(1).scaleb(-target)
    exact: list[decimal.Decimal | None] = []
    for row, value in enumerate(values):
        if value is None:
            exact.append(None)
            continue
        try:
            scaled = value.quantize(quantum, context=_EXACT)
        except decimal.DecimalException:
            raise fail(f"row {row} ({value}) does not fit decimal128(38, {target})") from None
        if abs(scaled.scaleb(target)) > _DECIMAL_MAX:
            raise fail(f"row {row} has more than {DECIMAL_PRECISION} digits")
        exact.append(scaled)
    return pa.array(exact, type=pa.decimal128(DECIMAL_PRECISION, target))
