"""Vector types of the e6data result wire and their mapping to and from Arrow types."""
from __future__ import annotations

import enum
import re
import zoneinfo

import pyarrow as pa

from e6magic.wire.errors import ChunkDecodeError


class VectorType(enum.IntEnum):
    """`e6x_vector.thrift` VectorType (wire §1.6); travels as an i32."""

    BINARY = 0
    BOOLEAN = 1
    DOUBLE = 2
    FLOAT = 3
    INT96 = 4
    INTEGER = 5
    LONG = 6
    STRING = 7
    DATE = 8
    DATETIME = 9
    TIMESTAMP = 10
    STRUCT = 11
    MAP = 12
    ARRAY = 13
    NULL = 14
    TIMESTAMP_TZ = 15
    DECIMAL128 = 16
    INTERVAL_DAY_SECOND = 17


TEXT_TYPES = frozenset(
    {VectorType.STRING, VectorType.BINARY, VectorType.ARRAY, VectorType.MAP, VectorType.STRUCT}
)
# INT96 and TIMESTAMP crash or are rejected by the official connector (wire §3.3): never emitted.
UNSUPPORTED_TYPES = frozenset({VectorType.INT96, VectorType.TIMESTAMP})

DECIMAL_PRECISION = 38

_FIXED_ARROW_TYPES: dict[VectorType, pa.DataType] = {
    VectorType.LONG: pa.int64(),
    VectorType.INTEGER: pa.int32(),
    VectorType.DOUBLE: pa.float64(),
    VectorType.FLOAT: pa.float32(),
    VectorType.BOOLEAN: pa.bool_(),
    VectorType.DATE: pa.date32(),
    VectorType.DATETIME: pa.timestamp("us"),
    VectorType.NULL: pa.null(),
    VectorType.INTERVAL_DAY_SECOND: pa.duration("us"),
}

# Metadata type names the engine or older tools may send (wire §3.1), beyond the VectorType names.
_TYPE_NAME_ALIASES: dict[str, VectorType] = {
    "INT": VectorType.INTEGER,
    "SHORT": VectorType.INTEGER,
    "BYTE": VectorType.INTEGER,
    "CHAR": VectorType.STRING,
    "VARCHAR": VectorType.STRING,
    "DECIMAL": VectorType.DECIMAL128,
    "DECIMAL_TYPE": VectorType.DECIMAL128,
    "TIMESTAMP": VectorType.DATETIME,
    "UNION_TYPE": VectorType.STRING,
    # SQL's own words (`cursor.description` type codes are these), so a PEP 249 type object compares equal to them
    "BIGINT": VectorType.LONG,
    "SMALLINT": VectorType.INTEGER,
    "TINYINT": VectorType.INTEGER,
    "REAL": VectorType.FLOAT,
    "BLOB": VectorType.BINARY,
    "INTERVAL": VectorType.INTERVAL_DAY_SECOND,
    "TIMESTAMP WITH TIME ZONE": VectorType.TIMESTAMP_TZ,
}
# Names that declare a narrower type than their vector carries: a SMALLINT travels in an INTEGER vector.
_NARROW_INTEGERS: dict[str, pa.DataType] = {
    "SHORT": pa.int16(), "SMALLINT": pa.int16(), "BYTE": pa.int8(), "TINYINT": pa.int8(),
}
_DECIMAL_PARAMS = re.compile(r"^\s*(\d+)\s*,\s*(-?\d+)\s*$")


# View layouts arrived in pyarrow 16; the project supports 15.
_is_string_view = getattr(pa.types, "is_string_view", lambda t: False)
_is_binary_view = getattr(pa.types, "is_binary_view", lambda t: False)


def is_arrow_text(t: pa.DataType) -> bool:
    """Whether an Arrow type holds UTF-8 text (string, large_string, string_view)."""
    return pa.types.is_string(t) or pa.types.is_large_string(t) or _is_string_view(t)


def is_arrow_bytes(t: pa.DataType) -> bool:
    """Whether an Arrow type holds raw bytes (binary, large, view or fixed-size)."""
    return (pa.types.is_binary(t) or pa.types.is_large_binary(t) or _is_binary_view(t)
            or pa.types.is_fixed_size_binary(t))


def arrow_type(vector_type: VectorType, *, scale: int = 0, zone: str = "UTC") -> pa.DataType:
    """The Arrow type `decode_chunk` produces for a vector of this type."""
    if vector_type in TEXT_TYPES:
        return pa.string()
    if vector_type == VectorType.DECIMAL128:
        return pa.decimal128(DECIMAL_PRECISION, scale)
    if vector_type == VectorType.TIMESTAMP_TZ:
        return pa.timestamp("us", tz=arrow_zone(zone))
    try:
        return _FIXED_ARROW_TYPES[vector_type]
    except KeyError:
        raise TypeError(f"vector type {vector_type.name} has no Arrow type") from None


def vector_type_for(arrow_type: pa.DataType) -> VectorType:
    """The vector type `encode_chunk` sends for a column of this Arrow type; TypeError if none."""
    t = arrow_type
    if pa.types.is_dictionary(t):
        return vector_type_for(t.value_type)
    if pa.types.is_int64(t) or pa.types.is_uint32(t):
        return VectorType.LONG
    if pa.types.is_int8(t) or pa.types.is_int16(t) or pa.types.is_int32(t):
        return VectorType.INTEGER
    if pa.types.is_uint8(t) or pa.types.is_uint16(t):
        return VectorType.INTEGER
    if pa.types.is_float64(t):
        return VectorType.DOUBLE
    if pa.types.is_float32(t) or pa.types.is_float16(t):
        return VectorType.FLOAT
    if pa.types.is_boolean(t):
        return VectorType.BOOLEAN
    if is_arrow_text(t):
        return VectorType.STRING
    if is_arrow_bytes(t):
        return VectorType.BINARY
    if pa.types.is_date32(t):
        return VectorType.DATE
    if pa.types.is_timestamp(t):
        return VectorType.TIMESTAMP_TZ if t.tz else VectorType.DATETIME
    if pa.types.is_decimal(t) and t.precision <= DECIMAL_PRECISION:
        return VectorType.DECIMAL128
    if pa.types.is_null(t):
        return VectorType.NULL
    if pa.types.is_duration(t):
        return VectorType.INTERVAL_DAY_SECOND
    raise TypeError(f"Arrow type {t} has no e6data vector type; cast it or render it as text first")


def type_name(vector_type: VectorType) -> str:
    """The metadata type name for a vector type (wire §3.1: the VectorType name is the safe choice)."""
    return VectorType(vector_type).name


def vector_type_from_name(name: str) -> VectorType | None:
    """The vector type a metadata type name stands for, or None when the name is unknown."""
    base = " ".join(name.upper().split("(", 1)[0].split("<", 1)[0].split())
    if base.endswith("[]"):
        return VectorType.ARRAY
    if base in VectorType.__members__:
        return VectorType[base]
    return _TYPE_NAME_ALIASES.get(base)


def declared_type(name: str, decoded: pa.DataType) -> pa.DataType:
    """The Arrow type a column's metadata name declares, where it is narrower than the vector's `decoded` type:
    `SHORT` (the engine's word for SMALLINT, carried in an INTEGER vector) is int16, `BYTE` int8, and
    `DECIMAL128(18,2)` is decimal128(18, 2) where the vector carries (38, 2). Otherwise `decoded` itself."""
    narrow = _NARROW_INTEGERS.get(name.strip().upper())
    if narrow is not None and pa.types.is_integer(decoded):
        return narrow
    if pa.types.is_decimal(decoded):
        params = decimal_params(name)
        if params is not None and params[1] == decoded.scale and decoded.scale <= params[0] < decoded.precision:
            return pa.decimal128(params[0], decoded.scale)
    return decoded


def narrow_type_name(arrow_type: pa.DataType) -> str | None:
    """The metadata name of an integer narrower than its INTEGER vector (`SHORT`, `BYTE`); None for the others."""
    return "SHORT" if pa.types.is_int16(arrow_type) else "BYTE" if pa.types.is_int8(arrow_type) else None


def scale_from_name(name: str) -> int:
    """The scale in a parameterised decimal type name like `DECIMAL128(38,2)`; 0 without one."""
    params = decimal_params(name)
    return checked_scale(params[1]) if params else 0


def decimal_params(name: str) -> tuple[int, int] | None:
    """(precision, scale) from a parameterised decimal type name like `DECIMAL128(5,2)`; None without them."""
    if "(" not in name or not name.rstrip().endswith(")"):
        return None
    params = _DECIMAL_PARAMS.match(name[name.index("(") + 1 : name.rindex(")")])
    return (int(params.group(1)), int(params.group(2))) if params else None


def decimal_type_name(arrow_type: pa.DataType) -> str:
    """`DECIMAL128(p,s)`: the metadata name of a decimal column, the one place its declared precision travels
    (a chunk's Decimal128Data carries the scale only)."""
    precision = min(arrow_type.precision, DECIMAL_PRECISION)
    return f"{VectorType.DECIMAL128.name}({precision},{arrow_type.scale})"


def checked_scale(scale: int) -> int:
    """A decimal scale the wire can carry (0..38), else ChunkDecodeError: pyarrow would take 6,619,140."""
    if not 0 <= scale <= DECIMAL_PRECISION:
        raise ChunkDecodeError(f"impossible decimal scale {scale} (0 to {DECIMAL_PRECISION})")
    return scale


def arrow_zone(zone: str | None) -> str:
    """An Arrow time zone for a wire zone string (`±HH:MM`, `Z` or IANA); UTC when unusable."""
    if not zone or zone in ("Z", "UTC", "+00:00", "-00:00"):
        return "UTC"
    if len(zone) == 6 and zone[0] in "+-" and zone[3] == ":":
        if zone[1:3].isdigit() and zone[4:6].isdigit() and int(zone[1:3]) <= 18 and int(zone[4:6]) < 60:
            return zone
        return "UTC"
    try:
        zoneinfo.ZoneInfo(zone)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError, OSError):
        return "UTC"
    return zone


def wire_zone(arrow_tz: str) -> str:
    """The zone string sent on the wire for an Arrow time zone (`Z` for UTC, else unchanged)."""
    return "Z" if arrow_tz in ("UTC", "Z", "Etc/UTC", "+00:00") else arrow_tz
