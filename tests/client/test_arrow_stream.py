"""Results as Arrow streams: fetch_arrow_reader(), the cursor's __arrow_c_stream__, DuckDB, polars and pyarrow."""
from __future__ import annotations

import decimal
import sys

import duckdb
import polars as pl
import pyarrow as pa
import pytest

from e6magic.client import arrow_stream
from e6magic.engine import catalog

ORDERS = "SELECT * FROM demo.main.orders"  # 1M rows
AGGREGATE = "SELECT count(*) AS n, sum(amount) AS total, max(ordered_at) AS last, count(status) AS s FROM {}"


@pytest.fixture(scope="module")
def expected():
    db = duckdb.connect()
    catalog.build_demo(db)
    answer = db.execute(AGGREGATE.format("demo.main.orders")).fetchall()
    db.close()
    return answer


def test_duckdb_reads_a_million_rows_straight_from_the_cursor(conn, expected):
    cur = conn.cursor()
    cur.execute(ORDERS)
    assert duckdb.sql(AGGREGATE.format("cur")).fetchall() == expected  # DuckDB asks for the stream 3 times
    cur.close()


def test_duckdb_reads_a_million_rows_from_the_reader(conn, expected):
    cur = conn.cursor()
    cur.execute(ORDERS)
    reader = cur.fetch_arrow_reader()  # noqa: F841 - DuckDB finds it by its name
    assert duckdb.sql(AGGREGATE.format("reader")).fetchall() == expected
    cur.close()


@pytest.mark.parametrize("route", ["from_arrow(reader)", "DataFrame(cursor)", "fetch_polars()"])
def test_polars_reads_a_million_rows(conn, route):
    cur = conn.cursor()
    cur.execute(ORDERS)
    if route == "from_arrow(reader)":
        frame = pl.from_arrow(cur.fetch_arrow_reader())
    elif route == "DataFrame(cursor)":
        frame = pl.DataFrame(cur)
    else:
        frame = cur.fetch_polars()
    assert frame.shape == (1_000_000, 7)
    assert frame["amount"].dtype == pl.Decimal(18, 2)
    assert frame["order_id"].sum() == 1_000_000 * 1_000_001 // 2
    assert frame["status"].null_count() == 100_000
    cur.close()


def test_pyarrow_reads_the_cursor_as_a_stream(conn):
    cur = conn.cursor()
    cur.execute("SELECT * FROM range(100000) t(i)")
    table = pa.table(cur)
    assert table.num_rows == 100_000 and table.column("i").to_pylist()[-1] == 99_999
    cur.close()


def test_the_schema_is_known_before_the_first_batch_is_read(conn):
    cur = conn.cursor()
    cur.execute(ORDERS)
    reader = cur.fetch_arrow_reader()
    assert cur.handle.batches_fetched >= 1 and cur.handle._handed_out <= 1  # only the first batch, for its schema
    assert reader.schema.field("amount").type == pa.decimal128(18, 2)  # as declared: the metadata says DECIMAL128(18,2)
    assert reader.schema.names == ["order_id", "customer_id", "product_id", "quantity", "amount", "ordered_at",
                                   "status"]
    first = reader.read_next_batch()
    assert first.schema == reader.schema and first.num_rows > 0
    cur.close()


def test_reading_the_stream_holds_about_a_batch_not_the_result(conn):
    cur = conn.cursor()
    cur.execute(ORDERS)
    reader = cur.fetch_arrow_reader()
    base = pa.total_allocated_bytes()
    peak = rows = whole = 0
    for batch in reader:
        rows += batch.num_rows
        whole += batch.nbytes
        peak = max(peak, pa.total_allocated_bytes() - base)
        del batch
    assert rows == 1_000_000
    assert peak < whole / 10, (peak, whole)  # a handful of prefetched batches, not the million rows
    cur.close()


def test_rows_already_fetched_are_not_in_the_stream(conn):
    cur = conn.cursor()
    cur.execute("SELECT * FROM range(50000) t(i) ORDER BY i")
    assert cur.fetchone() == (0,) and len(cur.fetchmany(9)) == 9
    assert pl.DataFrame(cur)["i"].to_list() == list(range(10, 50_000))
    cur.close()


def test_a_statement_without_result_set_streams_nothing(engine_factory):
    from e6magic.client import connect

    running = engine_factory(demo=False)
    with connect(host=running.host, port=running.port, username="u", password=running.token) as con:
        cur = con.cursor()
        cur.execute("CREATE TABLE t (v INTEGER)")
        reader = cur.fetch_arrow_reader()
        assert (len(reader.schema), reader.read_all().num_rows) == (0, 0)


def test_an_empty_result_streams_its_schema(conn):
    cur = conn.cursor()
    cur.execute("SELECT order_id, status FROM demo.main.orders WHERE false")
    reader = cur.fetch_arrow_reader()
    assert reader.schema.names == ["order_id", "status"] and reader.read_all().num_rows == 0
    cur.close()


def test_later_batches_with_another_decimal_scale_are_cast_to_the_stream_schema():
    first = pa.record_batch({"m": pa.array([decimal.Decimal("1.50")], pa.decimal128(38, 2))})
    wider = pa.record_batch({"m": pa.array([decimal.Decimal("2.5")], pa.decimal128(38, 1))})
    table = arrow_stream.reader(first.schema, [first, wider]).read_all()
    assert table.column("m").to_pylist() == [decimal.Decimal("1.50"), decimal.Decimal("2.50")]
    finer = pa.record_batch({"m": pa.array([decimal.Decimal("2.125")], pa.decimal128(38, 3))})
    with pytest.raises(pa.ArrowInvalid):  # a digit would be lost: an error, never a silent rounding
        arrow_stream.reader(first.schema, [first, finer]).read_all()


def test_fetch_polars_without_polars_names_the_pip_command(conn, monkeypatch):
    monkeypatch.setitem(sys.modules, "polars", None)  # import polars now raises ImportError
    cur = conn.cursor()
    cur.execute("SELECT 1 AS x")
    with pytest.raises(ImportError, match=r"pip install polars"):
        cur.fetch_polars()
    cur.close()
