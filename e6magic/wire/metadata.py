"""Result metadata: the big-endian `DataOutputStream`-style stream of wire §3.1, both directions."""
from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from e6magic.wire.errors import ChunkDecodeError
from e6magic.wire.types import (
    VectorType,
    arrow_type,
    decimal_type_name,
    declared_type,
    narrow_type_name,
    scale_from_name,
    type_name,
    vector_type_for,
    vector_type_from_name,
)

_HEADER = struct.Struct(">qi")
_UTF_LENGTH = struct.Struct(">H")
_MAX_UTF_BYTES = 0xFFFF


@dataclass(frozen=True)
class Column:
    """One result column as the metadata stream describes it."""

    name: str
    type_name: str
    zone: str = ""
    date_format: str = ""


@dataclass(frozen=True)
class ResultMetadata:
    """The result metadata of one query: the engine's row count and the columns in chunk order."""

    row_count: int
    columns: tuple[Column, ...]


def encode_metadata(meta: ResultMetadata) -> bytes:
    """Serialise metadata as wire §3.1: int64 rowCount, int32 N, then N x 4 length-prefixed UTF-8 strings."""
    parts = [_HEADER.pack(meta.row_count, len(meta.columns))]
    for column in meta.columns:
        for text in (column.name, column.type_name, column.zone, column.date_format):
            raw = text.encode("utf-8")
            if len(raw) > _MAX_UTF_BYTES:
                raise ValueError(
                    f"metadata string of column {column.name[:40]!r} is {len(raw)} bytes; the limit is 65535"
                )
            parts.append(_UTF_LENGTH.pack(len(raw)))
            parts.append(raw)
    return b"".join(parts)


def decode_metadata(data: bytes) -> ResultMetadata:
    """Parse a wire §3.1 metadata stream; ChunkDecodeError when it is truncated or not UTF-8.

    Trailing bytes after the last column are ignored, as the official connector does.
    """
    view = memoryview(data)
    try:
        row_count, field_count = _HEADER.unpack_from(view, 0)
    except struct.error:
        raise ChunkDecodeError(f"result metadata is {len(view)} bytes; at least 12 are needed") from None
    if field_count < 0:
        raise ChunkDecodeError(f"result metadata has a negative column count ({field_count})")
    pos = _HEADER.size
    columns = []
    for index in range(field_count):
        texts = []
        for _ in range(4):
            try:
                (length,) = _UTF_LENGTH.unpack_from(view, pos)
            except struct.error:
                raise ChunkDecodeError(f"result metadata is truncated in column {index}") from None
            end = pos + 2 + length
            if end > len(view):
                raise ChunkDecodeError(f"result metadata is truncated in column {index}")
            try:
                texts.append(str(view[pos + 2 : end], "utf-8"))
            except UnicodeDecodeError:
                raise ChunkDecodeError(f"result metadata column {index} is not valid UTF-8") from None
            pos = end
        columns.append(Column(*texts))
    return ResultMetadata(row_count=row_count, columns=tuple(columns))


def metadata_for(
    schema: pa.Schema, row_count: int, vector_types: Sequence[VectorType] | None = None
) -> ResultMetadata:
    """Metadata for a result with this Arrow schema: VectorType names as type names (`DECIMAL128(p,s)` for a
    decimal, so clients see its declared precision), tz as zone."""
    if vector_types is not None and len(vector_types) != len(schema):
        raise ValueError(f"{len(vector_types)} vector types given for {len(schema)} columns")
    columns = []
    for index, field in enumerate(schema):
        vtype = vector_types[index] if vector_types is not None else vector_type_for(field.type)
        zone = (field.type.tz or "") if pa.types.is_timestamp(field.type) else ""
        columns.append(Column(field.name, _column_type_name(field.type, vtype), zone=zone))
    return ResultMetadata(row_count=row_count, columns=tuple(columns))


def _column_type_name(arrow_type: pa.DataType, vtype: VectorType) -> str:
    """The VectorType name, or a name the official connector shows as it is (`type_code`) and decodes by the
    chunk's vector type anyway: `DECIMAL128(p,s)` for a decimal, `SHORT`/`BYTE` (the engine's own words) for a
    SMALLINT/TINYINT in an INTEGER vector. So the declared type travels, and the connector reads the same rows."""
    if vtype == VectorType.DECIMAL128 and pa.types.is_decimal(arrow_type):
        return decimal_type_name(arrow_type)
    narrow = narrow_type_name(arrow_type) if vtype == VectorType.INTEGER else None
    return narrow or type_name(vtype)


def arrow_schema(meta: ResultMetadata) -> pa.Schema:
    """The Arrow schema `decode_chunk` produces for chunks of a result with this metadata.

    The chunk's vector types drive decoding, so this schema is exact when the engine names each
    column by its vector type (wire §3.1). DECIMAL128 takes its scale from a `DECIMAL128(p,s)` name
    (0 without one); TIMESTAMP_TZ takes its zone from `Column.zone` (UTC without one); unknown
    names give string columns; `SHORT`/`BYTE` and `DECIMAL128(p,s)` give the declared int16/int8 and precision.
    """
    fields = []
    for column in meta.columns:
        vtype = vector_type_from_name(column.type_name)
        if vtype is None or vtype in (VectorType.INT96,):
            fields.append(pa.field(column.name, pa.string()))
            continue
        decoded = arrow_type(vtype, scale=scale_from_name(column.type_name), zone=column.zone)
        fields.append(pa.field(column.name, declared_type(column.type_name, decoded)))
    return pa.schema(fields)
