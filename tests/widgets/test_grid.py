"""ResultGrid in the kernel: paging and sorting over the whole result, streaming, the page on the wire, fallback."""
from __future__ import annotations

import datetime as dt
import decimal

import duckdb
import pyarrow as pa
import pytest

from e6magic.widgets import ResultGrid
from e6magic.widgets._base import Twin

N = 2_345


@pytest.fixture(scope="module")
def result() -> pa.Table:
    """rid is arrival order; x and s have many ties and some NULLs, as real results do."""
    return duckdb.sql(f"""
        SELECT i AS rid,
               CASE WHEN i % 11 = 0 THEN NULL ELSE (i * 7919) % 37 END AS x,
               CASE WHEN i % 13 = 0 THEN NULL ELSE chr((97 + (i * 31) % 5)::INTEGER) END AS s,
               (i * 0.25)::DOUBLE AS f
        FROM range({N}) t(i)""").to_arrow_table()


def all_rids(grid: ResultGrid) -> list[int]:
    """Page through the grid the way a user would, collecting the rid column."""
    rids: list[int] = []
    grid.goto(0)
    for page in range(grid.page_count):
        grid.goto(page)
        rids += [int(row[0]) for row in grid.rows]
    return rids


def test_first_page_and_counts(result, frontend):
    grid = ResultGrid(result, page_size=50)
    assert grid.row_count == N and grid.complete
    assert [c["name"] for c in grid.columns] == ["rid", "x", "s", "f"]
    assert [c["type"] for c in grid.columns] == ["BIGINT", "BIGINT", "VARCHAR", "DOUBLE"]
    assert [c["numeric"] for c in grid.columns] == [True, True, False, True]
    assert grid.page_count == 47
    assert [row[0] for row in grid.rows] == [str(i) for i in range(50)]
    assert grid.rows[0] == ["0", None, None, "0.0"]


def test_paging_reaches_every_row_once(result):
    grid = ResultGrid(result, page_size=100)
    assert all_rids(grid) == list(range(N))


def test_last_page_is_partial_and_out_of_range_pages_clamp(result):
    grid = ResultGrid(result, page_size=100)
    grid.goto(-1)
    assert grid.page == 23 and [r[0] for r in grid.rows] == [str(i) for i in range(2300, N)]
    grid.goto(10_000)
    assert grid.page == 23
    grid.goto(-5)
    assert grid.page == 23  # any negative page means "the last one"


def test_page_request_from_the_view_sends_only_that_page(result, frontend):
    grid = ResultGrid(result, page_size=25)
    frontend.clear(grid)
    frontend.send(grid, {"kind": "page", "page": 3})
    (update,) = frontend.updates(grid)
    assert update["page"] == 3
    assert [row[0] for row in update["rows"]] == [str(i) for i in range(75, 100)]


@pytest.mark.parametrize("column", ["x", "s", "f"])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_orders_the_whole_result_like_duckdb(result, column, descending):
    """Nulls last in both directions, ties in arrival order: what ORDER BY col NULLS LAST, rid gives."""
    grid = ResultGrid(result, page_size=200)
    grid.sort_by(column, descending=descending)
    direction = "DESC" if descending else "ASC"
    expected = [r for (r,) in duckdb.sql(
        f"SELECT rid FROM result ORDER BY {column} {direction} NULLS LAST, rid").fetchall()]
    assert all_rids(grid) == expected
    assert grid.sorted_rows == N and grid.sort_column == column and grid.sort_descending is descending


def test_sort_from_the_view_then_unsort(result, frontend):
    grid = ResultGrid(result, page_size=10)
    grid.goto(5)
    frontend.send(grid, {"kind": "sort", "column": "x", "descending": True})
    assert grid.page == 0 and grid.rows[0][1] == "36"
    frontend.send(grid, {"kind": "page", "page": -1})
    assert grid.rows[-1][1] is None  # nulls at the very end of the whole result
    frontend.send(grid, {"kind": "sort", "column": None})
    assert grid.sort_column == "" and [r[0] for r in grid.rows] == [str(i) for i in range(10)]


def test_bad_sort_requests_say_why_and_keep_the_view(result, frontend):
    grid = ResultGrid(pa.table({"tags": pa.array([[1], [2]]), "n": [2, 1]}), page_size=10)
    grid.sort_by("nope")
    assert grid.error == "no column named 'nope'" and grid.rows == [["[1]", "2"], ["[2]", "1"]]
    grid.sort_by("tags")
    assert grid.error.startswith("cannot sort by tags (list<item: int64>)")
    assert grid.sort_column == "" and grid.rows == [["[1]", "2"], ["[2]", "1"]]
    grid.sort_by("n")
    assert grid.error == "" and grid.rows == [["[2]", "1"], ["[1]", "2"]]


def test_streaming_first_page_shows_before_done(result, frontend):
    batches = result.to_batches(max_chunksize=30)
    grid = ResultGrid(result.schema, page_size=50)
    assert grid.row_count == 0 and grid.rows == [] and not grid.complete
    grid.append(batches[0])
    assert grid.row_count == 30 and [r[0] for r in grid.rows] == [str(i) for i in range(30)]
    grid.append(batches[1])
    assert len(grid.rows) == 50 and not grid.complete
    frontend.clear(grid)
    grid.append(batches[2])
    assert frontend.updates(grid) == [{"row_count": 90}]  # a full page is not re-sent
    for batch in batches[3:]:
        grid.append(batch)
    grid.done()
    assert grid.complete and grid.row_count == N
    assert grid.table.equals(result)


def test_grid_from_a_handle_starts_empty_and_takes_its_schema_from_the_first_batch(result):
    class Submitted:  # the only thing a grid reads from a handle is its id
        query_id = "q-123"

    grid = ResultGrid(Submitted())
    assert grid.query_id == "q-123" and grid.columns == []
    grid.append(result.slice(0, 5))
    assert [c["name"] for c in grid.columns] == ["rid", "x", "s", "f"] and len(grid.rows) == 5


def test_sort_while_streaming_is_redone_over_everything_at_done(result):
    batches = result.to_batches(max_chunksize=1000)
    grid = ResultGrid(result.schema, page_size=1000)
    grid.append(batches[0])
    grid.sort_by("f", descending=True)
    assert grid.sorted_rows == 1000 and grid.rows[0][0] == "999"
    for batch in batches[1:]:
        grid.append(batch)
    assert grid.rows[0][0] == "999"  # the sorted view does not jump while rows stream in
    grid.done()
    assert grid.sorted_rows == N and grid.rows[0][0] == str(N - 1) and len(grid.rows) == 1000


def test_page_size_changes_keep_the_first_visible_row(result, frontend):
    grid = ResultGrid(result, page_size=10)
    grid.goto(7)  # rows 70..79
    frontend.send(grid, {"kind": "page_size", "page_size": 25})
    assert grid.page_size == 25 and grid.page == 2 and grid.rows[0][0] == "50"
    grid.set_page_size(10**9)
    assert grid.page_size == 1000


def test_cells_are_exact_text():
    table = pa.table({
        "big": pa.array([2**62 + 1, None], pa.int64()),
        "f": pa.array([float("nan"), float("-inf")]),
        "dec": pa.array([decimal.Decimal("12345678901234567890.123"), None], pa.decimal128(38, 3)),
        "ts": pa.array([dt.datetime(2024, 2, 29, 12, 30, tzinfo=dt.timezone.utc), None], pa.timestamp("us", "UTC")),
        "b": pa.array([b"\x00\xff", None]),
        "flag": pa.array([True, False]),
        "long": pa.array(["x" * 5000, "<b>"]),
    })
    grid = ResultGrid(table)
    assert grid.rows[0][:6] == ["4611686018427387905", "NaN", "12345678901234567890.123",
                                "2024-02-29 12:30:00+00:00", "0x00ff", "true"]
    assert grid.rows[1][:6] == [None, "-inf", None, None, None, "false"]
    assert len(grid.rows[0][6]) == 1001 and grid.rows[0][6].endswith("…")  # the page stays small


def test_dataframe_source_and_bad_source():
    import pandas as pd

    grid = ResultGrid(pd.DataFrame({"a": [1, 2]}))
    assert grid.rows == [["1"], ["2"]]
    with pytest.raises(TypeError, match="ResultGrid needs a pyarrow Table, a DataFrame, a Schema or a query handle, not int"):
        ResultGrid(42)


def test_fallback_html_shows_counts_and_first_rows_escaped():
    table = pa.table({"name": ["<script>alert(1)</script>", None], "n": [1, 2]})
    grid = ResultGrid(table)
    data, _ = grid._repr_mimebundle_()
    page = Twin(grid)._repr_mimebundle_()["text/html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page
    assert "<th>name<br><small>VARCHAR</small></th>" in page and "<i>NULL</i>" in page
    assert data["text/plain"] == "2 rows × 2 columns"
    # the widget's own bundle has no HTML: readers without widgets read its twin, not the same table twice
    assert "application/vnd.jupyter.widget-view+json" in data and "text/html" not in data


def test_fallback_says_so_far_while_streaming(result):
    grid = ResultGrid(result.schema)
    grid.append(result.slice(0, 12))
    assert grid.fallback_text() == "12 rows so far × 4 columns"
    one = ResultGrid(pa.schema([("n", pa.int64())]))
    one.append(pa.record_batch([pa.array([1])], names=["n"]))
    assert one.fallback_text().startswith("1 row so far × 1 column")  # singular where it is one


def test_the_first_batch_corrects_a_schema_guessed_from_metadata():
    guessed = pa.schema([("amount", pa.decimal128(38, 0))])  # "DECIMAL128" carries no scale
    grid = ResultGrid(guessed)
    grid.append(pa.record_batch([pa.array([decimal.Decimal("12.34")], pa.decimal128(38, 2))], names=["amount"]))
    assert grid.columns[0]["type"] == "DECIMAL(38,2)" and grid.rows == [["12.34"]]


# -- a window kept in the kernel, other pages and sorts read from the engine ------------------------------
WINDOW_SQL = ("SELECT i AS rid, CASE WHEN i % 11 = 0 THEN NULL ELSE (i * 7919) % 1000 END AS x "
              "FROM range(300000) t(i)")


@pytest.fixture
def windowed(conn):
    """A grid holding the first batch of a 300,000-row result, paging the rest from the engine."""
    from e6magic.widgets import EnginePager

    cursor = conn.cursor()
    handle = cursor.submit(WINDOW_SQL)
    first = next(handle.batches())
    handle.stop_reading()
    grid = ResultGrid(handle, page_size=100)
    grid.append(first)
    grid.page_from(EnginePager(conn.cursor, handle.sql), handle.wait_row_count())  # streamed: -1 until known
    yield grid
    grid.close()
    cursor.close()


def test_window_counts_every_row_but_keeps_only_the_first(windowed):
    assert windowed.row_count == 300_000 and windowed.complete
    assert 0 < windowed.kept_rows < 300_000 and windowed.table.num_rows == windowed.kept_rows
    assert "300,000 rows" in windowed.fallback_text() and "kept in the kernel" in windowed.fallback_text()


def test_window_last_page_and_pages_past_it_come_from_the_engine(windowed):
    windowed.goto(-1)
    assert windowed.page == 2999 and [int(r[0]) for r in windowed.rows] == list(range(299_900, 300_000))
    windowed.goto(windowed.kept_rows // 100 + 5)
    start = windowed.page * 100
    assert [int(r[0]) for r in windowed.rows] == list(range(start, start + 100))
    windowed.goto(0)  # inside the window again: read from the kept rows
    assert [int(r[0]) for r in windowed.rows] == list(range(100))


@pytest.mark.parametrize("descending", [False, True])
def test_window_sort_covers_every_row_like_duckdb(windowed, descending):
    windowed.sort_by("x", descending=descending)
    assert windowed.sorted_rows == 300_000
    order = "DESC" if descending else "ASC"
    expected = duckdb.sql(f"SELECT x FROM ({WINDOW_SQL}) ORDER BY x {order} NULLS LAST").fetchall()
    xs = [None if r[1] is None else int(r[1]) for r in windowed.rows]
    assert xs == [v for (v,) in expected[:100]]
    windowed.goto(-1)
    xs = [None if r[1] is None else int(r[1]) for r in windowed.rows]
    assert xs == [v for (v,) in expected[-100:]]  # NULLs last, whatever the direction
    assert (xs[-1] is None) and (expected[-1][0] is None)


def test_window_requests_from_the_view_run_off_the_kernel_thread(windowed, frontend):
    frontend.clear(windowed)
    frontend.send(windowed, {"kind": "page", "page": 2000})
    windowed.wait_idle(30)
    assert windowed.page == 2000 and int(windowed.rows[0][0]) == 200_000
    frontend.send(windowed, {"kind": "sort", "column": "rid", "descending": True})
    windowed.wait_idle(30)
    assert windowed.sort_column == "rid" and int(windowed.rows[0][0]) == 299_999


def test_window_page_that_cannot_be_read_says_why_and_keeps_the_view(windowed):
    windowed.goto(2000)
    shown = windowed.rows
    windowed._pager.sql = "SELECT * FROM no_such_table_anywhere"  # e.g. the table was dropped meanwhile
    windowed.goto(2500)
    assert windowed.page == 2000 and windowed.rows == shown
    assert windowed.error.startswith("could not read rows 250,001-250,100:") and "\n" not in windowed.error
    windowed.sort_by("x")
    assert windowed.sort_column == "" and windowed.rows == shown  # the failed sort left the view as it was


def test_page_sql_survives_a_trailing_comment_and_sorts_by_position(conn):
    from e6magic.widgets import EnginePager

    pager = EnginePager(conn.cursor, "SELECT i AS \"weird name\", -i AS y FROM range(10) t(i) -- the last line")
    assert pager(7, 5, None, False).column(0).to_pylist() == [7, 8, 9]
    assert pager(0, 3, 1, False).column(1).to_pylist() == [-9, -8, -7]


def test_nested_values_read_as_json_and_blobs_as_hex_under_sql_type_names():
    table = pa.table({
        "m": pa.array([[("k", 1), ("j", None)]], pa.map_(pa.string(), pa.int32())),
        "s": pa.array([{"a": 1, "b": "x"}], pa.struct([("a", pa.int32()), ("b", pa.string())])),
        "l": pa.array([[1, None]], pa.list_(pa.int32())),
        "b": pa.array([b"\x00\xffab"], pa.binary()),
        "n": pa.array([1], pa.int16()),
    })
    grid = ResultGrid(table)
    assert [c["type"] for c in grid.columns] == ["MAP(VARCHAR, INTEGER)", "STRUCT(a INTEGER, b VARCHAR)",
                                                 "INTEGER[]", "BLOB", "SMALLINT"]
    assert grid.rows == [['{"k": 1, "j": null}', '{"a": 1, "b": "x"}', "[1, null]", "0x00ff6162", "1"]]


def test_page_size_chosen_in_the_view_reads_that_many_rows_from_the_engine_past_the_window(windowed, frontend):
    windowed.goto(windowed.kept_rows // 100 + 5)  # past the kept rows: the engine answers
    first = windowed.page * 100
    frontend.send(windowed, {"kind": "page_size", "page_size": 500})
    windowed.wait_idle(30)
    assert windowed.page_size == 500 and windowed.page == first // 500
    assert [int(r[0]) for r in windowed.rows] == list(range(windowed.page * 500, windowed.page * 500 + 500))
    frontend.send(windowed, {"kind": "sort", "column": windowed.columns[0]["name"], "descending": True})
    frontend.send(windowed, {"kind": "page_size", "page_size": 20})
    windowed.wait_idle(30)
    assert windowed.page_size == 20 and [int(r[0]) for r in windowed.rows] == list(range(299_999, 299_979, -1))
    frontend.send(windowed, {"kind": "page_size", "page_size": "lots"})  # a bad value keeps the size
    windowed.wait_idle(30)
    assert windowed.page_size == 20 and not windowed.error
