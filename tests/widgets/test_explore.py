"""Column profiles and filters of the result grid, kept in the kernel or read from the engine (real local engine)."""
from __future__ import annotations

import decimal

import pyarrow as pa
import pytest

from e6magic.widgets import EnginePager, ResultGrid
from e6magic.widgets._filter import parse, where_sql

ORDERS = "SELECT * FROM demo.main.orders"
WINDOW = 1000


def run(conn, sql):
    cur = conn.cursor()
    try:
        cur.execute(sql)
        return cur.fetch_arrow()
    finally:
        cur.close()


@pytest.fixture(params=["kept", "window"])
def grid(request, conn):
    """The orders in a grid: all rows kept in the kernel, or a window with the rest read from the engine."""
    if request.param == "kept":
        g = ResultGrid(run(conn, ORDERS), page_size=20)
    else:
        g = ResultGrid(run(conn, f"{ORDERS} LIMIT {WINDOW}"), page_size=20)
        g.page_from(EnginePager(lambda: conn.cursor(), ORDERS), 1_000_000)
    g.kind = request.param
    yield g
    g.close()


def by_name(profiles):
    return {p["name"]: p for p in profiles}


def test_profile_of_orders_matches_duckdb(grid, frontend, demo):
    frontend.send(grid, {"kind": "profile"})
    grid.wait_explored()
    profiles = by_name(grid.profiles)
    assert grid.error == "" and not grid.profiling
    (nulls, rows, lo, hi, distinct), = demo.sql(
        "SELECT count(*) FILTER (WHERE status IS NULL), count(*), min(amount), max(amount), count(DISTINCT status) "
        "FROM demo.main.orders").fetchall()
    assert profiles["status"]["null_share"] == pytest.approx(nulls / rows) == pytest.approx(0.10)
    assert profiles["status"]["nulls"] == nulls and profiles["status"]["rows"] == rows == 1_000_000
    assert decimal.Decimal(profiles["amount"]["min"]) == lo and decimal.Decimal(profiles["amount"]["max"]) == hi
    assert profiles["status"]["distinct"] == distinct
    assert profiles["status"]["approx_distinct"] is (grid.kind == "window")
    top = demo.sql("SELECT status, count(*) n FROM demo.main.orders WHERE status IS NOT NULL "
                   "GROUP BY 1 ORDER BY n DESC, status").fetchall()
    assert [(t["value"], t["count"]) for t in profiles["status"]["top"]] == top
    quantity = demo.sql("SELECT quantity, count(*) FROM demo.main.orders GROUP BY 1 ORDER BY 1").fetchall()
    assert profiles["quantity"]["histogram"] == [n for _, n in quantity]  # 5 values: one bar each
    assert sum(profiles["amount"]["histogram"]) == rows
    assert profiles["ordered_at"]["min"].startswith("2024-")


def test_filter_status_shipped_gives_duckdbs_count(grid, frontend, demo):
    (shipped,), = demo.sql("SELECT count(*) FROM demo.main.orders WHERE status = 'shipped'").fetchall()
    frontend.send(grid, {"kind": "filter", "filters": {"status": "=shipped"}})
    grid.wait_explored()
    grid.wait_idle()
    assert grid.filter_error == "" and grid.row_count == shipped and grid.unfiltered_rows == 1_000_000
    assert grid.filter_sql == "WHERE \"status\" = 'shipped'"
    statuses = {row[-1] for row in grid.rows}
    assert statuses == {"shipped"} and len(grid.rows) == 20
    grid.goto(-1)
    grid.wait_idle()
    assert {row[-1] for row in grid.rows} == {"shipped"}
    grid.profile()
    assert by_name(grid.profiles)["status"]["rows"] == shipped  # the profile describes the filtered rows
    frontend.send(grid, {"kind": "filter", "filters": {}})
    grid.wait_explored()
    assert grid.row_count == 1_000_000 and grid.filter_sql == "" and grid.unfiltered_rows == -1


@pytest.mark.parametrize(("typed", "where"), [
    ({"status": "ship"}, "status ILIKE '%ship%'"),
    ({"amount": "100..200"}, "amount BETWEEN 100 AND 200"),
    ({"amount": ">990", "status": "=returned"}, "amount > 990 AND status = 'returned'"),
    ({"quantity": "<=2"}, "quantity <= 2"),
    ({"ordered_at": "2024-06-01..2024-06-02"}, "ordered_at BETWEEN '2024-06-01' AND '2024-06-02'"),
    ({"order_id": "99"}, "CAST(order_id AS VARCHAR) LIKE '%99%'"),
])
def test_filters_agree_with_duckdb_in_the_kernel_and_on_the_engine(grid, typed, where, demo):
    (expected,), = demo.sql(f"SELECT count(*) FROM demo.main.orders WHERE {where}").fetchall()
    grid.filter_by(typed)
    assert grid.filter_error == "" and grid.row_count == expected


@pytest.mark.parametrize("text", ["'; DROP TABLE x; --", "%", "_", "!", "\\", "a''b", "\u00e9"])
def test_hostile_contains_text_is_a_literal(grid, text, demo):
    grid.filter_by({"status": text})
    assert grid.filter_error == "" and grid.row_count == 0


def test_a_filter_that_cannot_apply_is_one_line_and_keeps_the_rows(grid):
    grid.filter_by({"amount": "cheap..dear"})
    assert grid.filter_error.startswith("amount in [cheap..dear]: 'cheap' is not a decimal128(")
    assert grid.row_count == 1_000_000
    grid.filter_by({"nope": "=1"})
    assert grid.filter_error == "no column named 'nope'" and grid.row_count == 1_000_000


def test_parse_reads_what_users_type():
    assert parse("c", "  ") is None
    assert parse("c", "=a b").op == "equals" and parse("c", "=a b").value == "a b"
    assert (parse("c", "3..").lo, parse("c", "3..").hi) == ("3", None)
    assert parse("c", ">5").lo_open and parse("c", "<5").hi_open
    assert where_sql([parse("c", "..7")], pa.schema([("c", pa.int64())])) == '"c" <= 7'


class Recording:
    """Cursors of one connection that note every statement the grid sends to the engine."""

    def __init__(self, conn):
        self.conn, self.sql = conn, []

    def __call__(self):
        cursor = self.conn.cursor()
        execute = cursor.execute

        def noted(sql, *args, **kwargs):
            self.sql.append(sql)
            return execute(sql, *args, **kwargs)

        cursor.execute = noted
        return cursor


def duckdb_bins(demo, column, measure, bins=12):
    """Equal-width bins of a column between its min and max, as DuckDB counts them."""
    (lo, hi), = demo.sql(f"SELECT min({measure}), max({measure}) FROM demo.main.orders").fetchall()
    width = (hi - lo) / bins
    got = dict(demo.sql(f"SELECT LEAST({bins - 1}, CAST(floor(({measure} - {lo!r}) / {width!r}) AS INTEGER)) b, "
                        f"count(*) FROM demo.main.orders WHERE {column} IS NOT NULL GROUP BY 1").fetchall())
    return [got.get(b, 0) for b in range(bins)]


def test_a_window_is_profiled_in_one_engine_query(conn, demo):
    recording = Recording(conn)
    grid = ResultGrid(run(conn, f"{ORDERS} LIMIT {WINDOW}"), page_size=20)
    grid.page_from(EnginePager(recording, ORDERS), 1_000_000)
    recording.sql.clear()
    profiles = by_name(grid.profile())
    assert grid.error == "" and len(recording.sql) == 1  # every column's summary, bins and top values at once
    assert profiles["amount"]["histogram"] == duckdb_bins(demo, "amount", "CAST(amount AS DOUBLE)")
    assert len(profiles["status"]["top"]) == 4 and profiles["order_id"]["min"] == "1"
    grid.close()


def test_time_columns_get_a_histogram_in_the_kernel_and_on_the_engine(grid, demo):
    profiles = by_name(grid.profile())
    ordered = profiles["ordered_at"]
    assert ordered["histogram"] == duckdb_bins(demo, "ordered_at", "epoch(ordered_at)")
    (lo, hi), = demo.sql("SELECT epoch_us(min(ordered_at)), epoch_us(max(ordered_at)) FROM demo.main.orders").fetchall()
    assert ordered["edges"] == [float(lo), float(hi)]  # the column's own unit (microseconds) either way


def test_every_type_profiles_on_the_engine_as_in_the_kernel(conn):
    sql = 'SELECT *, 1 AS "we""ird ""name" FROM demo.main.all_types'
    whole = ResultGrid(run(conn, sql))
    kept = by_name(whole.profile())
    grid = ResultGrid(run(conn, f"{sql} LIMIT 1"))
    grid.page_from(EnginePager(lambda: conn.cursor(), sql), whole.row_count)
    engine = by_name(grid.profile())
    assert whole.error == grid.error == "" and engine.keys() == kept.keys()
    for name, p in kept.items():
        assert engine[name]["nulls"] == p["nulls"], name
        if p["kind"] in ("number", "time"):  # text is compared as text in the kernel, as its SQL type on the engine
            assert (engine[name]["min"], engine[name]["max"]) == (p["min"], p["max"]), name
        assert len(engine[name].get("histogram", [])) == len(p.get("histogram", [])), name
