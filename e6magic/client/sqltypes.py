"""One vocabulary for column types: the SQL names (`BIGINT`, `DECIMAL(18,2)`, `MAP(VARCHAR, INTEGER)`) for Arrow
types, for the engine's getColumns names (`long`, `decimal(18,2)`, `array<int>`) and for the result metadata's
vector type names (`LONG`, `DECIMAL128(18,2)`, `TIMESTAMP_TZ`), so the grid, the schema browser, the preview,
`_e6` and `cursor.description` speak the same words."""
from __future__ import annotations

import re

import pyarrow as pa

# the engine's getColumns words (and DuckDB's own spellings the local engine passes through)
_ENGINE = {
    "byte": "TINYINT", "tinyint": "TINYINT", "short": "SMALLINT", "smallint": "SMALLINT",
    "int": "INTEGER", "integer": "INTEGER", "long": "BIGINT", "bigint": "BIGINT", "hugeint": "HUGEINT",
    "float": "REAL", "real": "REAL", "double": "DOUBLE", "boolean": "BOOLEAN", "bool": "BOOLEAN",
    "string": "VARCHAR", "varchar": "VARCHAR", "text": "VARCHAR", "char": "VARCHAR",
    "binary": "BLOB", "varbinary": "BLOB", "blob": "BLOB", "date": "DATE", "time": "TIME",
    "timestamp": "TIMESTAMP", "datetime": "TIMESTAMP", "timestamp_tz": "TIMESTAMP WITH TIME ZONE",
    "timestamptz": "TIMESTAMP WITH TIME ZONE", "timestamp with time zone": "TIMESTAMP WITH TIME ZONE",
    "interval": "INTERVAL", "interval_day_second": "INTERVAL", "uuid": "UUID", "null": "NULL",
    "decimal128": "DECIMAL", "decimal_type": "DECIMAL", "union_type": "VARCHAR",
}
_INTS = {8: "TINYINT", 16: "SMALLINT", 32: "INTEGER", 64: "BIGINT"}


def sql_type(dtype: pa.DataType) -> str:
    """The SQL name of an Arrow type: ``int16`` -> ``SMALLINT``, ``list<int32>`` -> ``INTEGER[]``."""
    t = pa.types
    if t.is_boolean(dtype):
        return "BOOLEAN"
    if t.is_integer(dtype):
        name = _INTS[dtype.bit_width]
        return name if t.is_signed_integer(dtype) else f"U{name}"
    if t.is_float16(dtype) or t.is_float32(dtype):
        return "REAL"
    if t.is_float64(dtype):
        return "DOUBLE"
    if t.is_decimal(dtype):
        return f"DECIMAL({dtype.precision},{dtype.scale})"
    if t.is_string(dtype) or t.is_large_string(dtype) or getattr(t, "is_string_view", lambda _: False)(dtype):
        return "VARCHAR"
    if t.is_binary(dtype) or t.is_large_binary(dtype) or t.is_fixed_size_binary(dtype):
        return "BLOB"
    if t.is_date(dtype):
        return "DATE"
    if t.is_time(dtype):
        return "TIME"
    if t.is_timestamp(dtype):
        return "TIMESTAMP WITH TIME ZONE" if dtype.tz else "TIMESTAMP"
    if t.is_duration(dtype) or t.is_interval(dtype):
        return "INTERVAL"
    if t.is_null(dtype):
        return "NULL"
    if t.is_map(dtype):
        return f"MAP({sql_type(dtype.key_type)}, {sql_type(dtype.item_type)})"
    if t.is_list(dtype) or t.is_large_list(dtype) or t.is_fixed_size_list(dtype):
        return f"{sql_type(dtype.value_type)}[]"
    if t.is_struct(dtype):
        return "STRUCT(" + ", ".join(f"{_ident(f.name)} {sql_type(f.type)}" for f in dtype) + ")"
    if t.is_dictionary(dtype):
        return sql_type(dtype.value_type)
    return str(dtype).upper()


def engine_sql_type(name: str) -> str:
    """The SQL name of a type as the engine's getColumns spells it: ``long`` -> ``BIGINT``,
    ``array<int>`` -> ``INTEGER[]``, ``decimal(18, 2)`` -> ``DECIMAL(18,2)``; unknown names upper-cased."""
    text = " ".join(str(name).split())
    low = text.lower()
    if low in _ENGINE:
        return _ENGINE[low]
    if low.startswith("array<") and low.endswith(">"):
        return f"{engine_sql_type(text[6:-1])}[]"
    if low.endswith("[]"):
        return f"{engine_sql_type(text[:-2])}[]"
    decimal = re.fullmatch(r"(?:decimal|decimal128|numeric)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)", low)
    if decimal:
        return f"DECIMAL({decimal[1]},{decimal[2]})"
    if low.startswith("varchar("):
        return "VARCHAR"
    return text.upper()


def type_code(name: str, precision: int | None = None, scale: int | None = None) -> str:
    """`cursor.description`'s type code for a column the metadata names `name`: its SQL name (`LONG` ->
    ``BIGINT``, `DECIMAL128(18,2)` -> ``DECIMAL(18,2)``, `TIMESTAMP_TZ` -> ``TIMESTAMP WITH TIME ZONE``); a decimal
    named without parameters takes the `precision` and `scale` given (the first batch's)."""
    sql = engine_sql_type(name)
    if sql == "DECIMAL" and precision is not None and scale is not None:
        return f"DECIMAL({precision},{scale})"
    return sql


def _ident(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else '"' + name.replace('"', '""') + '"'
