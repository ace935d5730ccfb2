"""The DB-API 2.0 compliance suite (`dbapi20`, PyPI dbapi-compliance) against the local engine, and the type objects."""
from __future__ import annotations

import datetime as dt
import decimal
import time
import typing

import dbapi20
import pytest

import e6magic
import e6magic.client
from e6magic.engine import LocalEngine


@pytest.fixture(scope="class")
def _dbapi_engine(request):
    # A demo-less engine of its own: the suite creates and drops tables in DuckDB's "memory" catalog.
    with LocalEngine(host="127.0.0.1", port=0, demo=False) as running:
        request.cls.connect_kw_args = {"host": running.host, "port": running.port, "username": "dbapi20@e6magic",
                                       "password": running.token}
        yield running


@pytest.mark.usefixtures("_dbapi_engine")
class TestE6magicDBAPI20(dbapi20.DatabaseAPI20Test):
    driver = e6magic
    connect_args = ()
    connect_kw_args: typing.ClassVar[dict] = {}  # set by the fixture
    # The suite's own "lower" stored procedure: e6data has none, and e6magic defines no callproc (optional in
    # PEP 249), so the suite's callproc test checks only that nothing breaks.
    lower_func = "lower"

    def test_nextset(self):
        pytest.skip("cannot apply: e6data has no stored procedures and runs one statement per query, so there is "
                    "never a second result set (nextset is optional in PEP 249 and not defined)")

    def test_setoutputsize(self):
        # "driver dependent": results arrive whole in Arrow batches, so a size hint never truncates a value
        con = self._connect()
        try:
            cur = con.cursor()
            cur.setoutputsize(3)
            cur.setoutputsize(3, 0)
            cur.execute("SELECT 'a long value' AS v")
            assert cur.fetchall() == [("a long value",)]
        finally:
            con.close()


# --- beyond the suite: type objects really compare equal to what description says -------------------------
_TYPED = """SELECT 1::INTEGER AS i, 2::BIGINT AS l, 1.5::DOUBLE AS d, 2.5::FLOAT AS f, 12.345::DECIMAL(10, 3) AS m,
    'x' AS s, [1, 2] AS a, {'k': 1} AS st, DATE '2024-01-02' AS dt, TIMESTAMP '2024-01-02 03:04:05' AS ts,
    TIMESTAMPTZ '2024-01-02 03:04:05+00' AS tz, true AS b"""
_KINDS = {"i": "NUMBER", "l": "NUMBER", "d": "NUMBER", "f": "NUMBER", "m": "NUMBER", "s": "STRING", "a": "STRING",
          "st": "STRING", "dt": "DATETIME", "ts": "DATETIME", "tz": "DATETIME", "b": None}
_TYPE_OBJECTS = ("STRING", "BINARY", "NUMBER", "DATETIME", "ROWID")


def test_each_type_code_equals_exactly_its_type_object(conn):
    cur = conn.cursor()
    cur.execute(_TYPED)
    for name, type_code, *_ in cur.description:
        equal = [kind for kind in _TYPE_OBJECTS if type_code == getattr(e6magic, kind)]
        assert equal == ([_KINDS[name]] if _KINDS[name] else []), (name, type_code)
        assert all(getattr(e6magic, kind) == type_code for kind in equal)  # both sides of ==
    cur.close()


@pytest.mark.parametrize(("sql", "precision", "scale"), [
    pytest.param("SELECT 12.345::DECIMAL(10, 3) AS m", 10, 3, id="10-3"),
    pytest.param("SELECT 7::DECIMAL(18, 0) AS m", 18, 0, id="18-0"),
    pytest.param("SELECT 1.5::DECIMAL(5, 2) AS m", 5, 2, id="5-2"),
    pytest.param("SELECT 1.5::DECIMAL(18, 4) AS m", 18, 4, id="18-4"),
    pytest.param("SELECT 1.5::DECIMAL(38, 10) AS m", 38, 10, id="38-10"),
    pytest.param("SELECT 0.5::DECIMAL(1, 1) AS m", 1, 1, id="1-1"),
    pytest.param("SELECT 2.5 AS m", 2, 1, id="literal"),  # DuckDB types 2.5 as DECIMAL(2,1)
    pytest.param("SELECT sum(amount) AS m FROM demo.main.orders WHERE order_id < 10", 38, 2, id="sum"),
    pytest.param("SELECT amount AS m FROM demo.main.orders LIMIT 5", 18, 2, id="table-column"),
])
def test_decimals_carry_precision_and_scale(conn, sql, precision, scale):
    cur = conn.cursor()
    cur.execute(sql)
    (_name, type_code, _, _, got_precision, got_scale, null_ok), = cur.description
    assert (type_code == e6magic.NUMBER, got_precision, got_scale, null_ok) == (True, precision, scale, True)
    rows = cur.fetchall()
    assert rows and all(isinstance(r[0], decimal.Decimal) and -r[0].as_tuple().exponent == scale for r in rows)
    cur.close()


def test_a_decimal_named_without_parameters_takes_the_scale_of_its_first_batch(engine, monkeypatch):
    # Another engine may name a decimal plainly "DECIMAL128" (the wire allows it): 38 and the batch's scale.
    from e6magic.wire import metadata

    monkeypatch.setattr(metadata, "decimal_type_name", lambda arrow_type: "DECIMAL128")
    with e6magic.connect(host=engine.host, port=engine.port, username="u", password=engine.token) as con:
        cur = con.cursor()
        cur.execute("SELECT 12.345::DECIMAL(10, 3) AS m")
        assert cur.description[0][1:6] == ("DECIMAL(38,3)", None, None, 38, 3)
        assert cur.fetchall() == [(decimal.Decimal("12.345"),)]  # reading the first batch for the scale lost no row


def test_type_codes_are_sql_type_names(conn):
    # the official connector shows the wire's words (LONG, DECIMAL128(18,2), TIMESTAMP_TZ: test_connectors.py)
    cur = conn.cursor()
    cur.execute("SELECT * FROM demo.main.all_types")
    codes = {name: code for name, code, *_ in cur.description}
    cur.close()
    assert codes == {
        "id": "INTEGER", "c_bigint": "BIGINT", "c_integer": "INTEGER", "c_smallint": "SMALLINT", "c_double": "DOUBLE",
        "c_real": "REAL", "c_boolean": "BOOLEAN", "c_varchar": "VARCHAR", "c_blob": "BLOB", "c_list": "ARRAY",
        "c_map": "MAP", "c_struct": "STRUCT", "c_date": "DATE", "c_timestamp": "TIMESTAMP",
        "c_timestamptz": "TIMESTAMP WITH TIME ZONE", "c_decimal": "DECIMAL(18,2)", "c_decimal38": "DECIMAL(38,10)",
        "c_interval": "INTERVAL", "c_null": "INTEGER"}
    assert codes["c_blob"] == e6magic.BINARY and codes["c_list"] == e6magic.STRING
    assert codes["c_timestamptz"] == e6magic.DATETIME and codes["c_smallint"] == e6magic.NUMBER


def test_type_objects_match_sql_names():
    assert e6magic.NUMBER == "BIGINT" and e6magic.NUMBER == "SMALLINT" and e6magic.NUMBER == "DECIMAL(18,2)"
    assert e6magic.NUMBER == "REAL" and e6magic.BINARY == "BLOB" and e6magic.STRING == "INTEGER[]"
    assert e6magic.STRING == "MAP(VARCHAR, INTEGER)" and e6magic.STRING == "STRUCT(a INTEGER, b VARCHAR)"
    assert e6magic.DATETIME == "TIMESTAMP WITH TIME ZONE" and e6magic.DATETIME == "TIMESTAMP"
    assert e6magic.NUMBER != "VARCHAR" and e6magic.DATETIME != "INTERVAL"


def test_type_objects_match_aliases_and_parameterised_names():
    assert e6magic.NUMBER == "decimal(7,2)" and e6magic.NUMBER == "INT" and e6magic.STRING == "varchar(16)"
    assert e6magic.DATETIME == "TIMESTAMP_TZ" and e6magic.BINARY == "BINARY"
    assert e6magic.STRING != "LONG" and e6magic.ROWID != "LONG" and e6magic.NUMBER != "no such type"
    assert len({e6magic.STRING, e6magic.NUMBER, e6magic.BINARY}) == 3  # hashable


def test_constructors_make_the_values_the_client_binds(conn):
    ticks = time.mktime((2002, 12, 25, 13, 45, 30, 0, 0, -1))
    assert e6magic.Date(2002, 12, 25) == e6magic.DateFromTicks(ticks) == dt.date(2002, 12, 25)
    assert e6magic.Time(13, 45, 30) == e6magic.TimeFromTicks(ticks)
    assert e6magic.Timestamp(2002, 12, 25, 13, 45, 30) == e6magic.TimestampFromTicks(ticks)
    cur = conn.cursor()
    cur.execute("SELECT %s AS d, %s AS t, %s AS ts, %s AS b",
                (e6magic.Date(2002, 12, 25), e6magic.Time(13, 45, 30), e6magic.Timestamp(2002, 12, 25, 13, 45, 30),
                 e6magic.Binary(b"text")))
    assert cur.fetchall() == [(dt.date(2002, 12, 25), "13:45:30", dt.datetime(2002, 12, 25, 13, 45, 30), "text")]
    cur.close()


def test_the_whole_exception_tree_is_on_the_module_and_the_connection(conn):
    names = ["Warning", "Error", "InterfaceError", "DatabaseError", "DataError", "OperationalError",
             "IntegrityError", "InternalError", "ProgrammingError", "NotSupportedError"]
    for name in names:
        assert getattr(e6magic, name) is getattr(e6magic.client, name) is getattr(conn, name), name
    assert (e6magic.apilevel, e6magic.threadsafety, e6magic.paramstyle) == ("2.0", 2, "pyformat")


def test_dml_rowcount_executemany_and_no_result_set(engine_factory):
    running = engine_factory(demo=False)
    with e6magic.connect(host=running.host, port=running.port, username="u", password=running.token) as con:
        cur = con.cursor()
        cur.execute("CREATE TABLE t (v VARCHAR)")
        assert (cur.description, cur.rowcount) == (None, 0)
        cur.executemany("INSERT INTO t VALUES (%s)", [("a",), ("b",), ("c",)])
        assert (cur.description, cur.rowcount) == (None, 3)
        with pytest.raises(e6magic.ProgrammingError, match="no result set"):
            cur.fetchone()
        cur.execute("UPDATE t SET v = v || '!' WHERE v <> 'a'")
        assert cur.rowcount == 2
        cur.execute("INSERT INTO t VALUES ('r') RETURNING v")
        assert cur.fetchall() == [("r",)] and cur.description[0][0] == "v"
        cur.execute("SELECT v FROM t ORDER BY v")
        assert (cur.rowcount, cur.fetchall()) == (4, [("a",), ("b!",), ("c!",), ("r",)])
        cur.executemany("SELECT %s AS x", [(1,), (2,)])
        assert cur.rowcount == -1  # a result set is no count of changed rows
        assert cur.fetchall() == [(2,)]


def test_rollback_is_not_supported_and_a_closed_connection_refuses_commit(engine):
    con = e6magic.connect(host=engine.host, port=engine.port, username="u", password=engine.token)
    con.commit()
    with pytest.raises(e6magic.NotSupportedError, match="no transactions"):
        con.rollback()
    con.close()
    with pytest.raises(e6magic.InterfaceError, match="closed"):
        con.commit()


def test_a_second_close_raises_and_with_closes_only_an_open_connection(engine):
    con = e6magic.connect(host=engine.host, port=engine.port, username="u", password=engine.token)
    con.close()
    with pytest.raises(e6magic.InterfaceError, match="closed"):
        con.close()
    with e6magic.connect(host=engine.host, port=engine.port, username="u", password=engine.token) as con:
        con.close()  # closed by hand inside the block: leaving it is quiet
    with pytest.raises(ZeroDivisionError), e6magic.connect(host=engine.host, port=engine.port, username="u",
                                                           password=engine.token) as con:
        con.close()
        raise ZeroDivisionError  # the block's own error is the one that reaches the caller
    assert con.closed
