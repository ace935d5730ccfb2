"""Turn Arrow values into short display strings for a page of the grid (JSON-safe, bounded)."""
from __future__ import annotations

import json
import math
from typing import Any

import pyarrow as pa

from e6magic.client.sqltypes import sql_type

MAX_CELL_CHARS = 1000
_NUMERIC_KINDS = (pa.types.is_integer, pa.types.is_floating, pa.types.is_decimal)


def is_numeric(dtype: pa.DataType) -> bool:
    return any(check(dtype) for check in _NUMERIC_KINDS)


def type_label(dtype: pa.DataType) -> str:
    """The column's SQL type name, as the schema browser names it (`BIGINT`, not `int64`)."""
    return sql_type(dtype)


def cell_text(value: Any, limit: int | None = MAX_CELL_CHARS) -> str | None:
    """One value as text, cut at ``limit`` characters; big ints stay exact (JSON numbers would round past 2**53)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        text = "0x" + bytes(value).hex()
    elif isinstance(value, (list, dict, tuple)):
        text = json.dumps(value, default=str, ensure_ascii=False)
    else:
        text = str(value)
    if limit is not None and len(text) > limit:
        return text[:limit] + "…"
    return text


def full_text(value: Any) -> str | None:
    """A value as a file gets it: whole, nested values as JSON, blobs as hex."""
    return cell_text(_jsonable(value), limit=None)


def table_rows(table: pa.Table) -> list[list[str | None]]:
    """A small table (one page) as rows of display strings."""
    columns = [[cell_text(_jsonable(v)) for v in _pylist(col)] for col in table.columns]
    return [list(row) for row in zip(*columns, strict=True)] if columns else [[] for _ in range(table.num_rows)]


def _jsonable(value: Any) -> Any:
    """Arrow hands a MAP value over as a list of (key, value) pairs: shown as the JSON object it stands for."""
    if isinstance(value, list) and value and all(isinstance(p, tuple) and len(p) == 2 for p in value):
        return {str(k): _jsonable(v) for k, v in value}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _pylist(column: pa.ChunkedArray) -> list[Any]:
    try:
        values: list[Any] = column.to_pylist()
        return values
    except (pa.ArrowException, ValueError, OverflowError):
        # e.g. timestamps outside Python's datetime range: Arrow's own formatting still works
        return [None if not s.is_valid else str(s) for s in column]
