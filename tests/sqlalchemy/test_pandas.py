"""pandas through the dialect: read_sql, read_sql_query (params, chunksize), read_sql_table, and the Arrow fast path."""
from __future__ import annotations

import decimal

import pandas as pd
import pyarrow as pa
import pytest
import sqlalchemy as sa

from e6magic.sqlalchemy import read_arrow, read_sql

ORDERS_COLUMNS = ["order_id", "customer_id", "product_id", "quantity", "amount", "ordered_at", "status"]


def _reference(engine_fixture, sql: str) -> pd.DataFrame:
    from e6magic.client import connect

    conn = connect(host=engine_fixture.host, port=engine_fixture.port, username="ref", password=engine_fixture.token,
                   catalog="demo", database="main")
    try:
        cur = conn.cursor()
        cur.execute(sql)
        return cur.fetch_df(exact_decimals=True)
    finally:
        conn.close()


def test_read_sql_of_a_query_and_of_a_table_name(e6):
    by_query = pd.read_sql("SELECT * FROM orders WHERE order_id <= 1000 ORDER BY order_id", e6)
    assert list(by_query.columns) == ORDERS_COLUMNS and len(by_query) == 1000
    assert by_query.order_id.tolist() == list(range(1, 1001))
    by_name = pd.read_sql("products", e6)  # has_table() told pandas this is a table, not a query
    assert by_name.shape == (1000, 4)


def test_read_sql_query_binds_pyformat_and_text_parameters(e6, engine):
    named = pd.read_sql_query("SELECT order_id, status FROM orders WHERE order_id < %(n)s AND status = %(s)s "
                              "ORDER BY 1", e6, params={"n": 100, "s": "shipped"})
    positional = pd.read_sql_query("SELECT order_id, status FROM orders WHERE order_id < %s AND status = %s ORDER BY 1",
                                   e6, params=(100, "shipped"))
    text = pd.read_sql_query(sa.text("SELECT order_id, status FROM orders WHERE order_id < :n AND status = :s "
                                     "ORDER BY 1"), e6, params={"n": 100, "s": "shipped"})
    expected = _reference(engine, "SELECT order_id, status FROM orders WHERE order_id < 100 AND status = 'shipped' "
                                  "ORDER BY 1")
    for frame in (named, positional, text):
        pd.testing.assert_frame_equal(frame, expected)
    assert len(named) > 10


def test_a_hostile_parameter_is_a_value_not_sql(e6):
    frame = pd.read_sql_query("SELECT count(*) AS n FROM orders WHERE status = %(s)s", e6,
                              params={"s": "x' OR '1'='1"})
    assert frame.n.tolist() == [0]


@pytest.mark.parametrize("chunksize", [1, 999, 16384, 16385, 50000])
def test_read_sql_query_in_chunks_reads_every_row_once(e6, chunksize):
    rows = 50_000 if chunksize > 1 else 3
    chunks = list(pd.read_sql_query(f"SELECT order_id FROM orders WHERE order_id <= {rows} ORDER BY 1", e6,
                                    chunksize=chunksize))
    assert [len(c) for c in chunks[:-1]] == [chunksize] * (len(chunks) - 1)
    assert pd.concat(chunks).order_id.tolist() == list(range(1, rows + 1))


def test_a_chunked_read_stopped_early_leaves_no_query(e6):
    chunks = pd.read_sql_query("SELECT * FROM orders", e6, chunksize=1000)
    assert len(next(chunks)) == 1000
    chunks.close()  # the fixture checks the engine holds no query afterwards


def test_read_sql_table_with_every_type(e6):
    frame = pd.read_sql_table("all_types", e6).sort_values("id", ignore_index=True)
    assert frame.shape == (3, 19)
    first = frame.iloc[0]
    assert first.c_blob == b"\x00\xffab" and first.c_decimal == 12345.67  # pandas' coerce_float
    assert first.c_timestamptz == pd.Timestamp("2024-02-29 13:14:15.5", tz="UTC")
    assert first.c_date == pd.Timestamp("2024-02-29")  # pandas parses a reflected DATE column
    assert first.c_interval == pd.Timedelta(days=1, hours=2, microseconds=3)
    assert first.c_varchar == "plain ascii" and frame.c_varchar[1] == "ünïcødé ✓ 日本 🎉"
    assert frame.iloc[2].drop("id").isna().all()  # the all-NULL row stays NULL in every column
    exact = pd.read_sql_table("all_types", e6, dtype_backend="numpy_nullable", columns=["id", "c_bigint"])
    assert exact.set_index("id").c_bigint[1] == 9007199254740993  # BIGINT stays whole beside a NULL
    decimals = pd.read_sql_query("SELECT c_decimal38 FROM all_types WHERE id = 1", e6, coerce_float=False)
    assert decimals.c_decimal38[0] == decimal.Decimal("1234567890123456789012345678.0123456789")
    selected = pd.read_sql_table("orders", e6, columns=["order_id", "status"])
    assert list(selected.columns) == ["order_id", "status"] and len(selected) == 1_000_000


def test_read_sql_with_the_pyarrow_dtype_backend(e6):
    frame = pd.read_sql("SELECT order_id, amount, status FROM orders WHERE order_id <= 10 ORDER BY 1", e6,
                        dtype_backend="pyarrow")
    assert isinstance(frame.order_id.dtype, pd.ArrowDtype) and frame.order_id.tolist() == list(range(1, 11))


# --- the Arrow fast path ---------------------------------------------------------------------------------------
FAST_SQL = "SELECT * FROM orders WHERE order_id <= 30000 ORDER BY order_id"


def test_read_sql_fast_path_equals_pandas(e6):
    slow = pd.read_sql_query(FAST_SQL, e6)
    fast = read_sql(FAST_SQL, e6)
    slow["amount"] = slow.amount.astype("float64")  # pandas keeps Decimal objects; fetch_df gives float64
    pd.testing.assert_frame_equal(fast, slow, check_dtype=False)
    assert fast.order_id.dtype == "int64" and fast.amount.dtype == "float64"


def test_read_arrow_binds_and_accepts_statements(e6):
    orders = sa.table("orders", sa.column("order_id"), sa.column("status"))
    by_statement = read_arrow(sa.select(orders.c.order_id).where(orders.c.order_id.in_([3, 1, 2]))
                              .order_by(orders.c.order_id), e6)
    by_text = read_arrow(sa.text("SELECT order_id FROM orders WHERE order_id < :n ORDER BY 1"), e6, {"n": 4})
    with e6.connect() as conn:
        by_string = read_arrow("SELECT order_id FROM orders WHERE order_id < %s ORDER BY 1", conn, [4])
    for table in (by_statement, by_text, by_string):
        assert isinstance(table, pa.Table) and table.column("order_id").to_pylist() == [1, 2, 3]


@pytest.mark.parametrize("backend", ["pyarrow", "numpy_nullable"])
def test_read_sql_fast_path_dtype_backends(e6, backend):
    frame = read_sql("SELECT order_id, status FROM orders WHERE order_id <= 10 ORDER BY 1", e6, dtype_backend=backend)
    assert frame.order_id.tolist() == list(range(1, 11)) and frame.status.isna().sum() == 1
    kind = pd.ArrowDtype if backend == "pyarrow" else pd.Int64Dtype
    assert isinstance(frame.order_id.dtype, kind)


def test_read_sql_fast_path_refuses_what_it_cannot_read(e6):
    with pytest.raises(ValueError, match="dtype_backend must be"):
        read_sql("SELECT 1", e6, dtype_backend="polars")
    with pytest.raises(TypeError, match="e6magic:// dialect, not sqlite://"):
        read_sql("SELECT 1", sa.create_engine("sqlite://"))
    with pytest.raises(TypeError, match="Engine or Connection"):
        read_arrow("SELECT 1", "e6magic://u:t@h/")


def test_binary_columns_of_a_query_are_bytes(e6):
    # a textual query declares no types: the result's BINARY type code still makes bytes of the engine's text
    frame = pd.read_sql("SELECT id, c_blob FROM all_types ORDER BY id", e6)
    assert frame.c_blob.tolist() == [b"\x00\xffab", b"", None]
