"""PEP 249 cursor behaviour against the local engine: every fetch path, types, metadata, errors."""
from __future__ import annotations

import datetime as dt
import decimal
import time

import duckdb
import pyarrow as pa
import pytest

from e6magic.client import InterfaceError, ProgrammingError
from e6magic.client.query import PREFETCH_BYTES
from e6magic.engine import catalog, queries
from tests.client.conftest import open_connection, settle

SERIES = "SELECT i AS n, 'row ' || i AS label FROM range(%(count)s) t(i) ORDER BY i"


def test_execute_returns_query_id_and_description(conn):
    cur = conn.cursor()
    query_id = cur.execute("SELECT 1 AS one, 'x' AS letter")
    assert query_id and query_id == cur.query_id
    assert [d[0] for d in cur.description] == ["one", "letter"]
    assert cur.rowcount == 1
    assert cur.fetchone() == (1, "x")
    assert cur.fetchone() is None


def test_rowcount_needs_no_extra_rpc(conn, engine):
    cur = conn.cursor()
    cur.execute(SERIES, {"count": 1234})
    calls = []
    original = conn._session.transport.call
    conn._session.transport.call = lambda method, *a, **k: calls.append(method) or original(method, *a, **k)
    try:
        assert cur.rowcount == 1234
        assert cur.description[0][0] == "n"
    finally:
        conn._session.transport.call = original
    assert calls == []
    cur.close()


@pytest.fixture
def small_chunks(engine_factory, connect_to):
    engine = engine_factory(chunk_rows=7)
    return engine, connect_to(engine)


def test_fetchone_then_fetchall_loses_nothing_across_chunks(small_chunks):
    engine, conn = small_chunks
    cur = conn.cursor()
    cur.execute(SERIES, {"count": 100})
    first = [cur.fetchone() for _ in range(9)]  # past the first 7-row chunk
    rest = cur.fetchall()
    assert [r[0] for r in first + rest] == list(range(100))
    assert rest[-1] == (99, "row 99")
    assert cur.fetchall() == [] and cur.fetchone() is None
    cur.close()
    assert settle(engine) == {}


def test_fetchmany_honours_arraysize_across_chunks(small_chunks):
    _, conn = small_chunks
    cur = conn.cursor()
    cur.execute(SERIES, {"count": 50})
    cur.arraysize = 5
    assert [r[0] for r in cur.fetchmany()] == [0, 1, 2, 3, 4]
    assert [r[0] for r in cur.fetchmany(10)] == list(range(5, 15))  # crosses the 7-row boundary
    assert len(cur.fetchmany(100)) == 35
    assert cur.fetchmany() == []


def test_iteration_and_fetch_arrow_after_rows(small_chunks):
    _, conn = small_chunks
    cur = conn.cursor()
    cur.execute(SERIES, {"count": 30})
    iterator = iter(cur)
    head = [next(iterator) for _ in range(3)]
    table = cur.fetch_arrow()  # the rest, with the 3 rows already read left out
    assert [r[0] for r in head] == [0, 1, 2]
    assert table.column("n").to_pylist() == list(range(3, 30))
    cur.execute(SERIES, {"count": 20})
    assert [row[0] for row in cur] == list(range(20))


def test_fetch_batches_streams_with_bounded_prefetch(small_chunks):
    _, conn = small_chunks
    cur = conn.cursor()
    handle = cur.submit(SERIES, {"count": 7 * 40})
    handle.wait_metadata()
    batches = cur.fetch_batches()
    first = next(batches)
    assert first.num_rows == 7
    # the fetcher stops after a few decoded batches wait for the reader: memory stays bounded

    time.sleep(0.5)
    assert handle.batches_fetched <= 1 + 4 + 1
    assert handle.state != "finished"
    rest = list(batches)
    assert sum(b.num_rows for b in rest) == 7 * 39
    assert handle.state == "finished"


def test_the_prefetch_is_bounded_by_bytes_as_well_as_batches(engine_factory, connect_to, monkeypatch):
    # 4 MiB batches, as an engine sending big chunks makes: four of them waiting were 16 MiB more than the budget
    monkeypatch.setattr(queries, "CHUNK_BYTES", 64 << 20)
    conn = connect_to(engine_factory(chunk_rows=65_536))
    cur = conn.cursor()
    handle = cur.submit("SELECT " + ", ".join(f"i * {k} AS c{k}" for k in range(8)) + " FROM range(65536 * 12) t(i)")
    batches = cur.fetch_batches()
    first = next(batches)
    assert first.nbytes == 4 << 20 and PREFETCH_BYTES == 4 << 20
    deadline = time.monotonic() + 20
    while handle.batches_fetched < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # room for the fetcher to run ahead, were it allowed to
    # the reader's batch, one queued (one batch always gets through), one decoded and waiting for room
    assert handle.batches_fetched == 3 and handle._queued_bytes == 4 << 20
    assert sum(b.num_rows for b in batches) == 65_536 * 11 and handle._queued_bytes == 0
    cur.close()


def test_fetch_df_and_empty_result(conn):
    cur = conn.cursor()
    cur.execute("SELECT CAST(i AS DECIMAL(18,2)) AS d, i AS n FROM range(5) t(i)")
    df = cur.fetch_df()
    assert list(df.columns) == ["d", "n"] and df["d"].dtype == "float64" and df["n"].tolist() == [0, 1, 2, 3, 4]
    cur.execute("SELECT CAST(1.25 AS DECIMAL(18,2)) AS d")
    assert cur.fetch_df(exact_decimals=True)["d"].tolist() == [decimal.Decimal("1.25")]
    cur.execute("SELECT i FROM range(10) t(i) WHERE i > 100")
    assert cur.fetchall() == [] and cur.rowcount == 0
    cur.execute("SELECT i FROM range(10) t(i) WHERE i > 100")
    assert cur.fetch_arrow().num_rows == 0
    cur.close()


def _duckdb_all_types() -> list[tuple]:
    db = duckdb.connect(":memory:")
    catalog.build_demo(db)
    rows = db.execute("""
        SELECT id, c_bigint, c_integer, c_smallint, c_double, c_real, c_boolean, c_varchar, c_blob,
               CAST(c_list AS VARCHAR), CAST(c_map AS VARCHAR), CAST(c_struct AS VARCHAR), c_date, c_timestamp,
               c_timestamptz, c_decimal, c_decimal38, c_interval, c_null
        FROM demo.main.all_types ORDER BY id""").fetchall()
    db.close()
    return rows


def test_every_type_matches_duckdb(conn):
    cur = conn.cursor()
    cur.execute("SELECT * FROM demo.main.all_types ORDER BY id")
    got = cur.fetchall()
    want = _duckdb_all_types()
    assert len(got) == len(want) == 3
    names = [d[0] for d in cur.description]
    for got_row, want_row in zip(got, want):
        for name, value, expected in zip(names, got_row, want_row):
            if name == "c_interval" and expected is not None:
                expected = dt.timedelta(days=expected.days, seconds=expected.seconds,
                                        microseconds=expected.microseconds)
            if name == "c_timestamptz" and expected is not None:
                value = value.astimezone(dt.timezone.utc)
                expected = expected.astimezone(dt.timezone.utc)
            if name == "c_blob" and expected is not None:  # BINARY travels as text (wire §3.4): bad bytes as \xAB
                expected = "".join(chr(b) if b < 0x80 else f"\\x{b:02X}" for b in expected)
            if name == "c_double" and expected == 0:
                assert str(value) == str(expected)  # -0.0 keeps its sign
            assert value == expected, name
    assert isinstance(got[0][names.index("c_decimal38")], decimal.Decimal)
    assert got[2][1:] == (None,) * (len(names) - 1)


def test_arrow_types_match_duckdb(conn):
    cur = conn.cursor()
    cur.execute("SELECT c_bigint, c_double, c_decimal, c_varchar, c_date, c_timestamp FROM demo.main.all_types "
                "ORDER BY id")
    table = cur.fetch_arrow()
    db = duckdb.connect(":memory:")
    catalog.build_demo(db)
    want = db.sql("SELECT c_bigint, c_double, c_decimal, c_varchar, c_date, c_timestamp FROM demo.main.all_types "
                      "ORDER BY id").to_arrow_table()
    want = want.read_all() if hasattr(want, "read_all") else want
    db.close()
    assert table.to_pylist() == want.to_pylist()
    assert [pa.types.is_decimal(f.type) for f in table.schema][2]


def test_bad_sql_is_programming_error_with_query_id(conn):
    cur = conn.cursor()
    with pytest.raises(ProgrammingError) as info:
        cur.execute("SELECT no_such_column FROM demo.main.customers")
    assert info.value.query_id and info.value.query_id in str(info.value)
    assert "no_such_column" in str(info.value)
    with pytest.raises(ProgrammingError) as info:
        cur.execute("SELEC 1")
    assert info.value.query_id
    assert cur.execute("SELECT 2") and cur.fetchone() == (2,)  # the cursor goes on working
    cur.close()


def test_misuse_is_interface_error(conn, engine):
    cur = conn.cursor()
    with pytest.raises(InterfaceError):
        cur.fetchone()
    cur.close()
    with pytest.raises(InterfaceError):
        cur.execute("SELECT 1")
    conn2 = open_connection(engine)
    conn2.close()
    with pytest.raises(InterfaceError):
        conn2.cursor()


def test_executemany_runs_each_parameter_set(conn):
    cur = conn.cursor()
    cur.execute("SELECT 1")
    seen = []
    for params in ({"v": 1}, {"v": 2}, {"v": 3}):
        cur.execute("SELECT %(v)s * 10 AS x", params)
        seen.append(cur.fetchone()[0])
    assert seen == [10, 20, 30]
    assert cur.executemany("SELECT %s + 1 AS x", [(1,), (41,)])
    assert cur.fetchall() == [(42,)]


def test_explain_analyse_status_dry_run_and_schema_calls(conn):
    cur = conn.cursor()
    cur.execute("SELECT region, count(*) AS n FROM customers GROUP BY region ORDER BY region")
    rows = cur.fetchall()
    assert len(rows) == 5 and sum(r[1] for r in rows) == 10000
    status = cur.status()
    assert status.status is True and status.rowCount == 5
    analysed = cur.explain_analyse()
    assert analysed["planner"] and {"parsing_time", "queuing_time", "is_cached"} <= analysed.keys()
    assert cur.explain()
    assert '"valid": true' in conn.dry_run("SELECT * FROM customers")
    assert '"valid": false' in conn.dry_run("SELECT * FROM nowhere")
    assert "demo" in [c["name"] for c in conn.get_catalogs()]
    assert "main" in cur.get_schema_names()
    assert {"customers", "orders", "products", "all_types"} <= set(cur.get_tables())
    columns = {c["fieldName"]: c["fieldType"] for c in cur.get_columns("customers")}
    assert set(columns) == {"customer_id", "name", "region", "signup_date"}
    with pytest.raises(ProgrammingError):
        conn.get_schema_names("no_such_catalog")


def test_context_managers_clear_on_exit(engine):
    with open_connection(engine) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT * FROM orders")  # a million rows, read only in part
            cur.fetchmany(3)
            query_id = cur.query_id
            assert query_id in engine.queries()
        assert cur.closed
        cur2 = conn.cursor()
        cur2.execute("SELECT 1")
    assert conn.closed and cur2.closed
    assert query_id not in settle(engine)
