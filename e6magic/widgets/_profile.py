"""Column profiles of a result: null share, distinct count, min/max, a histogram or top values, per column.

A kept result is profiled in the kernel with Arrow compute; a result only a window of which is kept is
profiled on the engine with SQL over its query (one query for the summary of every column, one for every
column's distribution), so the kernel never holds more than the answer.
"""
from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

HIST_BINS = 12
TOP_VALUES = 5
Run = Callable[[str], pa.Table]  # runs one query on the engine and returns its (small) result


def kind_of(kind: pa.DataType) -> str:
    """number, time, text, bool or other: what the profile of such a column shows."""
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return "number"
    if pa.types.is_temporal(kind):
        return "time"
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_dictionary(kind):
        return "text"
    if pa.types.is_boolean(kind):
        return "bool"
    return "other"


def profile_table(table: pa.Table, bins: int = HIST_BINS, top: int = TOP_VALUES) -> list[dict[str, Any]]:
    """Profiles of every column of a kept result, computed in the kernel (exact distinct counts)."""
    return [_arrow_column(field, table.column(i), table.num_rows, bins, top) for i, field in enumerate(table.schema)]


def _arrow_column(field: pa.Field, column: pa.ChunkedArray, rows: int, bins: int, top: int) -> dict[str, Any]:
    kind = kind_of(field.type)
    profile = _empty(field.name, kind, rows, column.null_count, approx=False)
    valid = rows - column.null_count
    if kind == "other" or valid == 0:
        return profile
    profile["distinct"] = int(pc.count_distinct(column, mode="only_valid").as_py())
    lo_hi = pc.min_max(column)
    profile["min"], profile["max"] = text_of(lo_hi["min"].as_py()), text_of(lo_hi["max"].as_py())
    if kind in ("number", "time"):
        values = as_float(column)
        counts, edges = np.histogram(values, bins=max(1, min(bins, profile["distinct"])))
        profile["histogram"] = [int(c) for c in counts]
        profile["edges"] = [float(edges[0]), float(edges[-1])]
    else:
        counted = pc.value_counts(pc.drop_null(column).combine_chunks())
        ranked = pa.table({"v": counted.field("values"), "n": counted.field("counts")})
        ranked = ranked.sort_by([("n", "descending"), ("v", "ascending")]).slice(0, top)  # ties as the engine's
        profile["top"] = [{"value": text_of(v), "count": int(n)} for v, n in zip(ranked["v"].to_pylist(),
                                                                                 ranked["n"].to_pylist())]
    return profile


def profile_sql(sql: str, schema: pa.Schema) -> str:
    """One query over ``sql`` that summarises every column: rows, non-null count, approximate distinct, min, max."""
    parts = ["count(*) AS e6_rows"]
    for i, field in enumerate(schema):
        name = quote(field.name)
        parts.append(f"count({name}) AS e6_c{i}")
        if kind_of(field.type) != "other":
            parts += [f"approx_count_distinct({name}) AS e6_d{i}", f"min({name}) AS e6_lo{i}",
                      f"max({name}) AS e6_hi{i}"]
    return f"SELECT {', '.join(parts)} FROM (\n{sql}\n) AS e6_profile"


def distribution_sql(sql: str, profiles: list[dict[str, Any]], bins: int = HIST_BINS, top: int = TOP_VALUES) -> str | None:
    """One query for every column's histogram (numbers) or top values (text, bool), given its min and max."""
    parts = []
    for i, p in enumerate(profiles):
        name = quote(p["name"])
        if p["kind"] == "number" and p.get("lo") is not None and p.get("distinct"):
            lo, hi = float(p["lo"]), float(p["hi"])
            n = max(1, min(bins, int(p["distinct"])))
            width = (hi - lo) / n if hi > lo else 1.0
            bucket = f"LEAST({n - 1}, CAST(floor((CAST({name} AS DOUBLE) - ({lo!r})) / ({width!r})) AS INTEGER))"
            parts.append(f"SELECT {i} AS e6_col, CAST(NULL AS VARCHAR) AS e6_value, {bucket} AS e6_bin, count(*) AS e6_n "
                         f"FROM e6_q WHERE {name} IS NOT NULL GROUP BY 3")
        elif p["kind"] in ("text", "bool") and p.get("distinct"):
            parts.append(f"SELECT * FROM (SELECT {i} AS e6_col, CAST({name} AS VARCHAR) AS e6_value, "
                         f"CAST(NULL AS INTEGER) AS e6_bin, count(*) AS e6_n FROM e6_q WHERE {name} IS NOT NULL "
                         f"GROUP BY 2 ORDER BY 4 DESC, 2 LIMIT {int(top)}) AS e6_top{i}")
    if not parts:
        return None
    return f"WITH e6_q AS (\n{sql}\n)\n" + "\nUNION ALL\n".join(parts)


def profile_engine(run: Run, sql: str, schema: pa.Schema, bins: int = HIST_BINS, top: int = TOP_VALUES
                   ) -> list[dict[str, Any]]:
    """Profiles of every column of ``sql``'s result, computed by the engine (two small queries)."""
    summary = run(profile_sql(sql, schema)).to_pylist()[0]
    rows = int(summary["e6_rows"])
    profiles = []
    for i, field in enumerate(schema):
        kind = kind_of(field.type)
        valid = int(summary[f"e6_c{i}"])
        profile = _empty(field.name, kind, rows, rows - valid, approx=True)
        if kind != "other" and valid:
            profile["distinct"] = int(summary[f"e6_d{i}"])
            lo, hi = summary[f"e6_lo{i}"], summary[f"e6_hi{i}"]
            profile["min"], profile["max"] = text_of(lo), text_of(hi)
            if kind == "number":
                profile["lo"], profile["hi"] = float(lo), float(hi)
        profiles.append(profile)
    query = distribution_sql(sql, profiles, bins, top)
    if query is not None:
        for row in run(query).to_pylist():
            p = profiles[int(row["e6_col"])]
            if row["e6_bin"] is not None:
                n = max(1, min(bins, int(p["distinct"])))
                p.setdefault("histogram", [0] * n)[int(row["e6_bin"])] += int(row["e6_n"])
                p["edges"] = [p["lo"], p["hi"]]
            else:
                p.setdefault("top", []).append({"value": row["e6_value"], "count": int(row["e6_n"])})
    for p in profiles:
        p.pop("lo", None)
        p.pop("hi", None)
    return profiles


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _empty(name: str, kind: str, rows: int, nulls: int, approx: bool) -> dict[str, Any]:
    return {"name": name, "kind": kind, "rows": rows, "nulls": nulls, "null_share": nulls / rows if rows else 0.0,
            "distinct": None, "approx_distinct": approx, "min": None, "max": None}


def as_float(column: pa.ChunkedArray) -> np.ndarray:
    valid = pc.drop_null(column)
    kind = column.type
    if pa.types.is_temporal(kind):
        unit = pa.int64() if pa.types.is_timestamp(kind) or pa.types.is_time64(kind) or pa.types.is_duration(kind) \
            or pa.types.is_date64(kind) else pa.int32()
        valid = pc.cast(valid, unit)
    return np.asarray(pc.cast(valid, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)


def text_of(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time, decimal.Decimal)):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)
