"""Turn Arrow values into short display strings for a page of the grid (JSON-safe, bounded)."""
from __future__ import annotations

import json
import math
from typing import Any

import pyarrow as pa

MAX_CELL_CHARS = 1000
_NUMERIC_KINDS = (pa.types.is_integer, pa.types.is_floating, pa.types.is_decimal)


def is_numeric(dtype: pa.DataType) -> bool:
    return any(check(dtype) for check in _NUMERIC_KINDS)


def type_label(dtype: pa.DataType) -> str:
    return str(dtype)


def cell_text(value: Any) -> str | None:
    """One value as text; big ints stay exact (JSON numbers would round past 2**53)."""
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
    if len(text) > MAX_CELL_CHARS:
        return text[:MAX_CELL_CHARS] + "…"
    return text


def table_rows(table: pa.Table) -> list[list[str | None]]:
    """A small table (one page) as rows of display strings."""
    columns = [[cell_text(v) for v in _pylist(col)] for col in table.columns]
    return [list(row) for row in zip(*columns)] if columns else [[] for _ in range(table.num_rows)]


def _pylist(column: pa.ChunkedArray) -> list[Any]:
    try:
        return column.to_pylist()
    except (pa.ArrowException, ValueError, OverflowError):
        # e.g. timestamps outside Python's datetime range: Arrow's own formatting still works
        return [None if not s.is_valid else str(s) for s in column]
