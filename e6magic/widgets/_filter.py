"""Column filters (contains / equals / range): read from what a user types, applied with Arrow or as SQL WHERE.

What is typed in a column's filter box: ``=shipped`` equals, ``10..20`` (either end may be left out), ``>5``,
``>=5``, ``<5``, ``<=5`` a range, anything else a case-insensitive *contains*. The same filters give an Arrow
mask for a kept result and a WHERE clause over the query for a result read from the engine, so both agree.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from e6magic.client.params import identifier, literal
from e6magic.widgets._profile import kind_of

MAX_FILTER_CHARS = 500
_ESCAPE = "!"  # LIKE escape character (a backslash would be read as an escape by the engine's lexer)
_RANGE = re.compile(r"^(?P<lo>[^.]*?)\s*\.\.\s*(?P<hi>.*)$")
_COMPARE = re.compile(r"^(?P<op>>=|<=|>|<)\s*(?P<value>.+)$")


class FilterError(ValueError):
    """A filter that cannot apply to its column (a word in a range over numbers, an unknown column)."""


@dataclass(frozen=True)
class Filter:
    column: str
    op: str                 # "contains", "equals" or "range"
    value: str | None = None
    lo: str | None = None   # range bounds, as typed; None: open
    hi: str | None = None
    lo_open: bool = False   # ">" rather than ">="
    hi_open: bool = False

    def describe(self) -> str:
        if self.op == "contains":
            return f"{self.column} contains {self.value!r}"
        if self.op == "equals":
            return f"{self.column} = {self.value!r}"
        left, right = "(" if self.lo_open else "[", ")" if self.hi_open else "]"
        return f"{self.column} in {left}{self.lo or ''}..{self.hi or ''}{right}"


def parse(column: str, text: str) -> Filter | None:
    """The filter typed for ``column``; None for an empty box."""
    text = text.strip()[:MAX_FILTER_CHARS]
    if not text:
        return None
    if text.startswith("="):
        return Filter(column, "equals", value=text.lstrip("=").strip())
    compare = _COMPARE.match(text)
    if compare:
        op, value = compare["op"], compare["value"].strip()
        if op.startswith(">"):
            return Filter(column, "range", lo=value, lo_open=op == ">")
        return Filter(column, "range", hi=value, hi_open=op == "<")
    ranged = _RANGE.match(text)
    if ranged and (ranged["lo"].strip() or ranged["hi"].strip()):
        return Filter(column, "range", lo=ranged["lo"].strip() or None, hi=ranged["hi"].strip() or None)
    return Filter(column, "contains", value=text)


def mask(table: pa.Table, filters: list[Filter]) -> pa.ChunkedArray | None:
    """Rows of ``table`` that pass every filter (nulls never pass); None when there are no filters."""
    result = None
    for f in filters:
        if f.column not in table.schema.names:
            raise FilterError(f"no column named {f.column!r}")
        column = table.column(f.column)
        kind = column.type
        if f.op == "contains":
            text = column if kind_of(kind) == "text" else pc.cast(column, pa.string())
            keep = pc.match_substring(text, f.value or "", ignore_case=True)
        elif f.op == "equals":
            keep = pc.equal(column, _scalar(f.value, kind, f))
        else:
            keep = None
            if f.lo is not None:
                keep = (pc.greater if f.lo_open else pc.greater_equal)(column, _scalar(f.lo, kind, f))
            if f.hi is not None:
                upper = (pc.less if f.hi_open else pc.less_equal)(column, _scalar(f.hi, kind, f))
                keep = upper if keep is None else pc.and_(keep, upper)
        keep = pc.fill_null(keep, False)
        result = keep if result is None else pc.and_(result, keep)
    return result


def apply(table: pa.Table, filters: list[Filter]) -> pa.Table:
    keep = mask(table, filters)
    return table if keep is None else table.filter(keep)


def where_sql(filters: list[Filter], schema: pa.Schema) -> str:
    """The filters as one SQL condition ("" for none); values are literals, names quoted."""
    parts = []
    for f in filters:
        if f.column not in schema.names:
            raise FilterError(f"no column named {f.column!r}")
        kind = schema.field(f.column).type
        name = identifier(f.column)
        if f.op == "contains":
            pattern = "%" + like_escape((f.value or "").lower()) + "%"
            parts.append(f"lower(CAST({name} AS VARCHAR)) LIKE {literal(pattern)} ESCAPE '{_ESCAPE}'")
        elif f.op == "equals":
            parts.append(f"{name} = {_sql_value(f.value, kind, f)}")
        else:
            if f.lo is not None:
                parts.append(f"{name} {'>' if f.lo_open else '>='} {_sql_value(f.lo, kind, f)}")
            if f.hi is not None:
                parts.append(f"{name} {'<' if f.hi_open else '<='} {_sql_value(f.hi, kind, f)}")
    return " AND ".join(parts)


def filtered_sql(sql: str, filters: list[Filter], schema: pa.Schema) -> str:
    """``sql`` with the filters as a WHERE over its result (the newline keeps a trailing comment inside)."""
    where = where_sql(filters, schema)
    return sql if not where else f"SELECT * FROM (\n{sql}\n) AS e6_filter WHERE {where}"


def _scalar(text: str | None, kind: pa.DataType, f: Filter) -> pa.Scalar:
    try:
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        return pa.scalar(text).cast(kind)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise FilterError(f"{f.describe()}: {text!r} is not a {kind}") from exc


def _sql_value(text: str | None, kind: pa.DataType, f: Filter) -> str:
    value: Any = _scalar(text, kind, f).as_py()  # checked as the column's type, then written as a literal
    if kind_of(kind) == "number" or kind_of(kind) == "bool":
        return literal(value)
    return literal(str(text))  # text, dates, times: the engine compares the literal as the column's type


def like_escape(text: str) -> str:
    """``text`` matched literally inside a LIKE pattern with ``ESCAPE '!'``."""
    return text.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")
