"""`fetch_df()` builds its DataFrame batch by batch: the same frame as `to_pandas(fetch_arrow())`, cell for cell."""
from __future__ import annotations

import decimal
import random
import threading
import time

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from e6magic.client import QueryCancelled
from e6magic.client.frame import build_frame, decimal_floats, to_pandas
from tests.client.conftest import settle

ALL_TYPES = "SELECT * FROM demo.main.all_types ORDER BY id"
# Six types, ~10 % nulls each, spread so that some 7-row batches of a column have nulls and some have none.
MIXED = """
SELECT CASE WHEN i % 11 = 1 THEN NULL ELSE i * 7919 END AS c_bigint,
       CASE WHEN i % 13 = 2 THEN NULL ELSE i / 7.0 END::DOUBLE AS c_double,
       CASE WHEN i % 17 = 3 THEN NULL ELSE CAST(i / 100.0 AS DECIMAL(18, 2)) END AS c_decimal,
       CASE WHEN i % 19 = 4 THEN NULL ELSE 'customer ' || (i % 500) END AS c_varchar,
       CASE WHEN i % 23 = 5 THEN NULL ELSE DATE '2020-01-01' + CAST(i % 3000 AS INTEGER) END AS c_date,
       CASE WHEN i % 29 = 6 THEN NULL ELSE TIMESTAMP '2024-01-01' + to_seconds(i) END AS c_timestamp,
       CASE WHEN i % 31 = 7 THEN NULL ELSE i % 2 = 0 END AS c_boolean,
       CASE WHEN i % 37 = 8 THEN NULL ELSE CAST(i AS INTEGER) END AS c_integer
FROM range({rows}) t(i) ORDER BY i"""


def assert_same_frame(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Same columns (names, duplicates, index dtype), dtypes, index, and every cell, nulls included:
    `repr` tells None, NaN and NaT apart and prints floats exactly."""
    assert list(got.columns) == list(want.columns) and got.columns.dtype == want.columns.dtype
    assert [got.iloc[:, i].dtype for i in range(got.shape[1])] == [want.iloc[:, i].dtype for i in range(want.shape[1])]
    assert got.index.equals(want.index) and type(got.index) is type(want.index)
    for i in range(want.shape[1]):
        assert [repr(v) for v in got.iloc[:, i]] == [repr(v) for v in want.iloc[:, i]], want.columns[i]


def both_ways(conn, sql: str, *, exact_decimals: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`fetch_df()` and the one-shot conversion of the same query's whole Arrow table."""
    cur = conn.cursor()
    cur.execute(sql)
    want = to_pandas(cur.fetch_arrow(), exact_decimals=exact_decimals)
    cur.execute(sql)
    got = cur.fetch_df(exact_decimals=exact_decimals)
    cur.close()
    return got, want


@pytest.fixture
def one_row_chunks(engine_factory, connect_to):
    engine = engine_factory(chunk_rows=1)
    return engine, connect_to(engine)


@pytest.fixture
def seven_row_chunks(engine_factory, connect_to):
    engine = engine_factory(chunk_rows=7)
    return engine, connect_to(engine)


@pytest.mark.parametrize("exact_decimals", [False, True], ids=["float-decimals", "exact-decimals"])
def test_every_type_in_one_batch(conn, exact_decimals):
    got, want = both_ways(conn, ALL_TYPES, exact_decimals=exact_decimals)
    assert_same_frame(got, want)
    assert len(got) == 3 and got["c_null"].dtype == "Int32" and got["c_null"].isna().all()  # INTEGER, all null


@pytest.mark.parametrize("order", ["ASC", "DESC"], ids=["nulls-last", "nulls-first"])
@pytest.mark.parametrize("exact_decimals", [False, True], ids=["float-decimals", "exact-decimals"])
def test_every_type_a_batch_per_row(one_row_chunks, order, exact_decimals):
    # the all-null row is its own batch: an int or bool column gains its null mask mid-way (nulls-last) or
    # starts with it and takes values after (nulls-first), as the one-shot conversion does for the whole
    _, conn = one_row_chunks
    got, want = both_ways(conn, f"SELECT * FROM demo.main.all_types ORDER BY id {order}",
                          exact_decimals=exact_decimals)
    assert_same_frame(got, want)
    assert got["c_bigint"].dtype == "Int64" and got["c_boolean"].dtype == "boolean"
    assert got["c_bigint"].iloc[0 if order == "ASC" else 2] == 9007199254740993  # above 2**53, not rounded


def test_batches_with_and_without_nulls(seven_row_chunks):
    _, conn = seven_row_chunks
    got, want = both_ways(conn, MIXED.format(rows=500))
    assert_same_frame(got, want)
    assert got["c_bigint"].isna().sum() == 46 and got["c_integer"].dtype == "Int32"


def test_columns_without_nulls_keep_their_dtypes(seven_row_chunks):
    _, conn = seven_row_chunks
    got, want = both_ways(conn, "SELECT i AS n, CAST(i AS INTEGER) AS m, i % 2 = 0 AS even, CAST(i / 4 AS "
                                "DECIMAL(18, 2)) AS d FROM range(50) t(i) ORDER BY i")
    assert_same_frame(got, want)
    assert [str(t) for t in got.dtypes] == ["int64", "int32", "bool", "float64"]


def test_the_benchmark_size_over_default_chunks(conn):
    got, want = both_ways(conn, MIXED.format(rows=200_000))  # four 65,536-row chunks
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got.isna().equals(want.isna())


def test_duplicate_names_all_null_and_zoned(seven_row_chunks):
    _, conn = seven_row_chunks
    sql = ("SELECT i AS a, i / 2 AS a, NULL AS n, CAST(NULL AS INTEGER) AS typed_null, "
           "TIMESTAMPTZ '2024-03-10 01:30:00+00' + to_hours(i) AS tz FROM range(20) t(i) ORDER BY i")
    got, want = both_ways(conn, sql)
    assert_same_frame(got, want)
    assert list(got.columns) == ["a", "a", "n", "typed_null", "tz"]


def test_a_name_shared_with_a_text_column_keeps_each_dtype(conn):
    # pyarrow's one-shot conversion gives both columns `str` here (the ints become '0', '1', ...);
    # column by column, each keeps its own
    cur = conn.cursor()
    cur.execute("SELECT i AS a, 'x' || i AS a FROM range(3) t(i) ORDER BY i")
    got = cur.fetch_df()
    cur.close()
    assert [got.iloc[:, i].tolist() for i in range(2)] == [[0, 1, 2], ["x0", "x1", "x2"]]
    assert got.iloc[:, 0].dtype == "int64" and got.iloc[:, 1].dtype == "str"


@pytest.mark.parametrize("sql", [
    "SELECT * FROM demo.main.all_types WHERE id > 100",
    "SELECT CAST(1.5 AS DECIMAL(18, 2)) AS d, 'x' AS s FROM range(3) t(i) WHERE i > 5",
], ids=["all-types", "decimal-and-text"])
@pytest.mark.parametrize("exact_decimals", [False, True], ids=["float-decimals", "exact-decimals"])
def test_zero_rows(conn, sql, exact_decimals):
    got, want = both_ways(conn, sql, exact_decimals=exact_decimals)
    assert len(got) == 0
    assert_same_frame(got, want)


def test_the_rest_after_rows_were_fetched(seven_row_chunks):
    _, conn = seven_row_chunks
    cur = conn.cursor()
    # the decimal too: the rows left of a batch keep its own type (the metadata's decimal has scale 0,
    # and rebuilding them with it failed with "Rescaling Decimal value would cause data loss")
    sql = MIXED.format(rows=100)
    cur.execute(sql)
    head = [cur.fetchone() for _ in range(10)]  # past the first 7-row batch
    rest = cur.fetch_df()
    cur.execute(sql)
    head_too = [cur.fetchone() for _ in range(3)]
    rest_arrow = cur.fetch_arrow()
    cur.execute(sql)
    whole = cur.fetch_df()
    cur.close()
    assert len(head) == 10 and len(rest) == 90
    assert_same_frame(rest, whole.iloc[10:].reset_index(drop=True))
    assert head_too == head[:3] and rest_arrow.num_rows == 97
    assert pa.types.is_decimal(rest_arrow.column("c_decimal").type) and rest_arrow.column("c_decimal").type.scale == 2
    assert_same_frame(to_pandas(rest_arrow), whole.iloc[3:].reset_index(drop=True))


@pytest.mark.parametrize("rows", [None, -1, 0, 1, 99, 101, 10_000], ids=lambda r: f"told-{r}")
def test_a_wrong_row_count_grows_or_trims(seven_row_chunks, rows):
    _, conn = seven_row_chunks
    cur = conn.cursor()
    cur.execute(MIXED.format(rows=100))
    batches = list(cur.fetch_batches())
    schema = cur._schema()
    cur.close()
    want = to_pandas(pa.Table.from_batches(batches))
    got = build_frame(iter(batches), schema, rows=rows)
    assert_same_frame(got, want)
    assert all(len(got.iloc[:, i].to_numpy()) == 100 for i in range(got.shape[1]))


def test_a_cancel_mid_fetch_raises_and_hands_out_nothing(engine_factory, connect_to):
    engine = engine_factory(chunk_rows=1000)
    conn = connect_to(engine)
    cur = conn.cursor()
    handle = cur.submit("SELECT * FROM orders")  # a thousand 1,000-row batches

    def cancel_after_a_few() -> None:
        while handle.batches_fetched < 3 and handle.state not in ("finished", "failed", "cancelled"):
            time.sleep(0.001)
        handle.cancel()

    canceller = threading.Thread(target=cancel_after_a_few)
    canceller.start()
    got = None
    with pytest.raises(QueryCancelled):
        got = cur.fetch_df()
    canceller.join()
    assert got is None and handle.state == "cancelled"
    assert handle.rows_fetched < 1_000_000
    cur.close()
    assert settle(engine) == {}


@pytest.mark.parametrize("decimal_type", ["DECIMAL(18, 2)", "DECIMAL(9, 4)", "DECIMAL(38, 10)"])
def test_decimals_become_the_nearest_float_like_duckdb(conn, decimal_type):
    """pyarrow's decimal cast can be a unit in the last place off (2999.99 -> 2999.9900000000002); DuckDB's
    `.df()` and ours give the float nearest to the decimal."""
    import duckdb

    sql = (f"SELECT CASE WHEN i % 9 = 0 THEN NULL ELSE CAST(((i * 7919) % 900000000 - 450000000) / 10000.0 "
           f"AS {decimal_type}) END AS d FROM range(50000) t(i) ORDER BY i")
    want = duckdb.sql(sql).df()["d"]
    assert str(want.dtype) == "float64"
    cur = conn.cursor()
    cur.execute(sql)
    got = cur.fetch_df()["d"]
    cur.execute(sql)
    whole = to_pandas(cur.fetch_arrow())["d"]
    cur.close()
    assert got.isna().sum() == want.isna().sum() > 0
    assert got.tolist() == pytest.approx(want.tolist(), rel=0, abs=0, nan_ok=True)
    assert whole.equals(got)
    if decimal_type == "DECIMAL(18, 2)":
        cur = conn.cursor()
        cur.execute("SELECT 2999.99::DECIMAL(18, 2) AS d")
        assert cur.fetch_df()["d"][0] == 2999.99
        cur.close()


def test_wide_decimals_become_the_nearest_float(conn):
    """Values past 2**53 or past 64 bits take the wide path, whatever precision the wire declares."""
    texts = ["12345678901234567890123456.78", "-12345678901234567890123456.78", "92233720368547758.07",
             "-92233720368547758.08", "90071992547409.93", "-90071992547409.93", "0.01", "-0.01", "0.00",
             "184467440737095516.21", "-184467440737095516.21"]  # 2**64 + 5 hundredths: the low word alone is 5
    sql = " UNION ALL ".join(f"SELECT {i} AS i, {t}::DECIMAL(38, 2) AS d" for i, t in enumerate(texts))
    cur = conn.cursor()
    cur.execute(f"SELECT d FROM ({sql}) ORDER BY i")
    got = cur.fetch_df()["d"].tolist()
    cur.close()
    assert got == [float(decimal.Decimal(t)) for t in texts]


_DIGITS = st.integers(16, 38).flatmap(lambda k: st.integers(-(10**k - 1), 10**k - 1))
# near the hard cases: powers of two and of ten, and their neighbours
_EDGES = st.builds(lambda e, d, sign: sign * (2**e + d), st.integers(53, 125), st.integers(-2, 2),
                   st.sampled_from([1, -1]))


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.one_of(_DIGITS, _EDGES), min_size=1, max_size=400),
       scale=st.sampled_from([0, 1, 2, 6, 10, 18, 22, 30]))
def test_every_decimal128_becomes_its_nearest_double(values, scale):
    """The double-double path for wide values against Python's correctly rounded float(Decimal)."""
    context = decimal.Context(prec=60)
    exact = [decimal.Decimal(v).scaleb(-scale, context) for v in values]
    array = pa.array(exact, pa.decimal128(38, scale))
    assert decimal_floats(array).tolist() == [float(d) for d in exact]
    sliced = array.slice(1)
    assert decimal_floats(sliced).tolist() == [float(d) for d in exact[1:]]


@pytest.mark.parametrize("scale", [0, 2, 10, 22, 27])
def test_random_wide_decimals_become_their_nearest_double(scale):
    """Uniform values of every width (the hypothesis test above favours edges): about a tenth of them need the
    remainder's step to the next double, which a plain quotient of the rounded value misses."""
    rng = random.Random(scale)
    context = decimal.Context(prec=60)
    exact = [decimal.Decimal(rng.randrange(-(10**k - 1), 10**k)).scaleb(-scale, context)
             for k in (rng.randint(16, 38) for _ in range(20_000))]
    assert decimal_floats(pa.array(exact, pa.decimal128(38, scale))).tolist() == [float(d) for d in exact]
