"""Nothing is lost on any result shape of tests/shapes.py: fetch_df from the served engine equals DuckDB's own `.df()` of the same SQL.

Where the two differ by design (docs/architecture.md, "DataFrames"), the test says so column by column and
still checks every value: DATE is pyarrow's
datetime64[ms] (DuckDB: [us]), a zoned timestamp is in `UTC` (DuckDB: `Etc/UTC`, the same instants),
LIST, MAP and STRUCT travel as their DuckDB text, BLOB as its UTF-8 text with DuckDB-style `\\xAB` escapes for
bytes that are not UTF-8, and a DECIMAL is the float64 nearest its exact
value (DuckDB's own conversion of DECIMAL(38, s) is sometimes one unit in the last place off).
"""
from __future__ import annotations

import decimal
import re
from collections.abc import Iterator

import duckdb
import numpy as np
import pandas as pd
import pytest
from shapes import SHAPES, Shape

from e6magic.client import Connection
from e6magic.engine import LocalEngine
from e6magic.engine.catalog import build_demo
from tests.client.conftest import open_connection, settle

ROWS = 3000  # over four 997-row chunks: nulls, null masks and dtypes must hold across batches
AS_TEXT = ("[]", "MAP(", "STRUCT(")  # DuckDB types the wire carries as their text


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[LocalEngine, Connection]]:
    with LocalEngine(host="127.0.0.1", port=0, chunk_rows=997) as engine:
        conn = open_connection(engine)
        yield engine, conn
        conn.close()
        assert settle(engine) == {}


@pytest.fixture(scope="module")
def duck() -> duckdb.DuckDBPyConnection:
    db = duckdb.connect(":memory:")
    build_demo(db)
    return db


def shape_sql(shape: Shape) -> str:
    sql = shape.query(ROWS)
    return f"SELECT * FROM ({sql}) q LIMIT {ROWS}" if shape.fixed_rows else sql


def fetch(conn: Connection, sql: str, **options) -> pd.DataFrame:
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetch_df(**options)


def documented(want: pd.Series, duck_type: str, got_dtype) -> pd.Series:
    """DuckDB's column as fetch_df documents it (see the module docstring)."""
    if duck_type == "DATE":
        return want.astype("datetime64[ms]")
    if duck_type.startswith("TIMESTAMP WITH TIME ZONE"):
        return want.dt.tz_convert("UTC")
    return want


def blob_text(value: bytes) -> str:
    text = value.decode("utf-8", errors="backslashreplace")
    return re.sub(r"\\x([0-9a-f]{2})", lambda m: "\\x" + m.group(1).upper(), text)


def assert_nearest_doubles(got: pd.Series, exact: pd.Series, duck: pd.Series) -> None:
    assert got.dtype == "float64" and duck.dtype == "float64"
    assert got.isna().equals(exact.isna()) and got.isna().equals(duck.isna())
    values = [v for v in exact if v is not None and not pd.isna(v)]
    nearest = np.array([float(decimal.Decimal(v)) for v in values])
    mine = got.dropna().to_numpy()
    assert np.array_equal(mine, nearest), "not the double nearest the exact decimal"
    ulps = np.abs(mine - duck.dropna().to_numpy()) / np.spacing(np.abs(nearest))
    assert (ulps <= 1).all(), "further than one unit in the last place from DuckDB's"


@pytest.mark.parametrize("shape", SHAPES, ids=[s.name for s in SHAPES])
def test_fetch_df_equals_duckdbs_df(served, duck, shape):
    _, conn = served
    sql = shape_sql(shape)
    want = duck.sql(sql).df()
    types = [str(t) for t in duck.sql(sql).types]
    got = fetch(conn, sql)
    assert list(got.columns) == list(want.columns) and got.shape == want.shape
    assert got.index.equals(want.index)
    exact = None
    for i, name in enumerate(want.columns):
        g, w, duck_type = got.iloc[:, i], want.iloc[:, i], types[i]
        if duck_type.startswith("DECIMAL"):
            if exact is None:
                exact = fetch(conn, sql, exact_decimals=True)
            assert_nearest_doubles(g, exact.iloc[:, i], w)
            continue
        if duck_type == "BLOB":
            assert str(g.dtype) == "str" and g.isna().equals(w.isna()), name
            assert g.dropna().tolist() == [blob_text(bytes(v)) for v in w.dropna()], name
            continue
        if any(duck_type.startswith(t) or t in duck_type for t in AS_TEXT):
            text = duck.sql(f'SELECT CAST("{name}" AS VARCHAR) AS "{name}" FROM ({sql}) q').df().iloc[:, 0]
            assert str(g.dtype) == "str", (name, g.dtype)
            assert g.isna().equals(text.isna()), name
            assert g.dropna().tolist() == text.dropna().tolist(), name
            continue
        w = documented(w, duck_type, g.dtype)
        assert g.dtype == w.dtype, (name, g.dtype, w.dtype)
        pd.testing.assert_series_equal(g, w, check_exact=True, check_names=True)


def test_a_bigint_above_2_53_with_nulls_is_not_rounded(served, duck):
    _, conn = served
    sql = ("SELECT CASE WHEN i % 2 = 0 THEN NULL ELSE 9007199254740993 + i END AS big, "
           "CASE WHEN i % 3 = 0 THEN NULL ELSE i % 2 = 0 END AS flag FROM range(3000) t(i)")
    got, want = fetch(conn, sql), duck.sql(sql).df()
    assert str(got["big"].dtype) == "Int64" and str(got["flag"].dtype) == "boolean"
    pd.testing.assert_frame_equal(got, want, check_exact=True)
