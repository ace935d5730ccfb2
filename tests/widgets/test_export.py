"""Download of the whole result from the grid: every row, streamed to the view in bounded chunks, CSV or Parquet."""
from __future__ import annotations

import io

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from e6magic.magic.display import download_stem
from e6magic.widgets import EnginePager, ResultGrid
from e6magic.widgets._export import CHUNK_BYTES

MILLION = "SELECT i AS id, 'row ' || i AS label, i * 0.5 AS half FROM range(1000000) t(i)"


def _received(grid) -> tuple[bytes, list[dict], list[int]]:
    """The file the view would save, the messages about it, and each chunk's size."""
    chunks, messages = [], []
    for m in grid.comm.published:
        content = (m["data"] or {}).get("content") if m["msg_type"] == "comm_msg" else None
        if isinstance(content, dict) and str(content.get("kind", "")).startswith("download"):
            messages.append(content)
            if content["kind"] == "download_chunk":
                chunks.extend(bytes(b) for b in m["buffers"])
    return b"".join(chunks), messages, [len(c) for c in chunks]


def test_the_csv_of_a_million_row_result_has_every_row_and_comes_in_bounded_chunks():
    grid = ResultGrid(duckdb.sql(MILLION).to_arrow_table(), page_size=20)
    assert len(grid.rows) == 20
    assert grid.download("csv") == 1_000_000
    data, messages, sizes = _received(grid)
    lines = data.decode().splitlines()
    assert len(lines) == 1_000_001 and lines[0] == '"id","label","half"' and lines[-1] == '999999,"row 999999",499999.5'
    assert max(sizes) < 2 * CHUNK_BYTES and len(sizes) > 10  # sent as it was written, not as one file
    assert messages[-1]["kind"] == "download_done" and messages[-1]["rows"] == 1_000_000
    assert messages[-1]["name"].startswith("query-") and messages[-1]["name"].endswith(".csv")


def test_parquet_holds_the_result_in_the_grids_sort_order():
    table = duckdb.sql("SELECT i AS id, (i * 7919) % 1000 AS k FROM range(50000) t(i)").to_arrow_table()
    grid = ResultGrid(table, page_size=10, download_name="orders")
    grid.sort_by("k", descending=True)
    assert grid.download("parquet") == 50_000
    data, messages, _ = _received(grid)
    back = pq.read_table(io.BytesIO(data))
    assert back.num_rows == 50_000 and back.column("k").to_pylist() == sorted(table.column("k").to_pylist(), reverse=True)
    assert messages[-1]["name"] == "orders.parquet"


def test_nested_values_go_out_as_json_and_blobs_as_hex():
    table = pa.table({"m": pa.array([[("k", 1)]], pa.map_(pa.string(), pa.int32())),
                      "l": pa.array([[1, None]], pa.list_(pa.int32())), "b": pa.array([b"\x00\xff"], pa.binary()),
                      "long": pa.array(["x" * 5000])})
    grid = ResultGrid(table)
    grid.download("csv")
    data, _, _ = _received(grid)
    assert data.decode().splitlines()[1] == '"{""k"": 1}","[1, null]","0x00ff","' + "x" * 5000 + '"'  # not cut


def test_a_window_downloads_every_row_again_from_the_engine(conn, engine):
    first = duckdb.sql(MILLION + " LIMIT 1000").to_arrow_table()
    grid = ResultGrid(first, page_size=20)
    grid.page_from(EnginePager(conn.cursor, MILLION), 1_000_000)
    assert grid.kept_rows == 1000
    assert grid.download("csv") == 1_000_000
    data, _, _ = _received(grid)
    assert data.count(b"\n") == 1_000_001 and data.endswith(b'999999,"row 999999",499999.5\n')


def test_a_failing_download_says_so_in_one_line(conn):
    grid = ResultGrid(duckdb.sql("SELECT 1 AS x").to_arrow_table())
    grid.page_from(EnginePager(conn.cursor, "SELECT * FROM no_such_table"), 10)
    assert grid.download("csv") == 0
    _, messages, _ = _received(grid)
    assert messages[-1]["kind"] == "download_error" and "no_such_table" in messages[-1]["message"]
    assert "\n" not in messages[-1]["message"]


def test_downloads_are_named_after_the_first_table_the_query_reads():
    assert download_stem("SELECT * FROM demo.main.orders o JOIN customers c USING (id)") == "orders"
    assert download_stem('SELECT * FROM "my db"."Sales 2024"') == "Sales 2024"
    assert download_stem("SELECT * FROM range(10)") == "" and download_stem("SELECT 1") == ""
