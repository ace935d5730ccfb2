"""Reflection through the engine's schema RPCs: schemas, tables apart from views, columns with their real types."""
from __future__ import annotations

import datetime as dt
import decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from e6_urls import e6_url
from sqlalchemy import types as sqltypes

from e6magic.sqlalchemy import (
    ARRAY,
    BINARY,
    INTERVAL,
    MAP,
    STRUCT,
    parse_type,
    type_for_code,
)

DEMO_TABLES = ["all_types", "customers", "orders", "products"]


def test_schema_and_table_names_with_the_default_schema(e6):
    inspector = sa.inspect(e6)
    assert inspector.default_schema_name == "main"
    assert inspector.get_schema_names() == ["main"]
    assert inspector.get_table_names() == DEMO_TABLES
    assert inspector.get_table_names(schema="main") == DEMO_TABLES
    assert inspector.get_table_names(schema="no_such_schema") == []
    assert inspector.get_view_names() == []


def test_has_table_answers_for_what_exists_only(e6):
    inspector = sa.inspect(e6)
    assert inspector.has_table("orders") and inspector.has_table("orders", schema="main")
    assert not inspector.has_table("no_such_table")
    assert not inspector.has_table("orders", schema="no_such_schema")
    assert not inspector.has_table("select * from orders")  # pandas asks this of a query string


@pytest.fixture
def lake(engine_factory, tmp_path):
    """An engine with a data folder (whose files are views) and a view made in SQL beside the demo tables."""
    (tmp_path / "lake" / "sales").mkdir(parents=True)
    pq.write_table(pa.table({"x": [1, 2]}), tmp_path / "lake" / "sales" / "events.parquet")
    served = engine_factory(data_dir=tmp_path)
    demo = sa.create_engine(e6_url(served))
    with demo.connect() as conn:
        conn.exec_driver_sql("CREATE VIEW main.big_orders AS SELECT * FROM orders WHERE amount > 900")
    yield served, demo
    demo.dispose()


def test_views_are_apart_from_tables(lake):
    served, demo = lake
    inspector = sa.inspect(demo)
    assert inspector.get_view_names() == ["big_orders"]
    assert inspector.get_table_names() == DEMO_TABLES  # the schema RPC lists the view too; it is not a table
    assert inspector.has_table("big_orders")  # SQLAlchemy's has_table is true for views
    files = sa.create_engine(e6_url(served, catalog="lake", schema="sales"))
    try:
        assert sa.inspect(files).get_view_names() == ["events"]
        assert sa.inspect(files).get_table_names() == []
        assert sa.Table("events", sa.MetaData(), autoload_with=files).c.x.type.__class__ is sqltypes.BIGINT
    finally:
        files.dispose()


def test_an_engine_without_information_schema_lists_its_views_as_tables(lake, monkeypatch):
    _, demo = lake
    real = type(demo.dialect).get_view_names

    def refused(self, connection, schema=None, **kw):
        self._views_by_query = False  # what a refused information_schema query leaves behind
        return real(self, connection, schema, **kw)

    monkeypatch.setattr(type(demo.dialect), "get_view_names", refused)
    assert "big_orders" in sa.inspect(demo).get_table_names()


EXPECTED_TYPES = {
    "id": sqltypes.INTEGER, "c_bigint": sqltypes.BIGINT, "c_integer": sqltypes.INTEGER,
    "c_smallint": sqltypes.SMALLINT, "c_double": sqltypes.DOUBLE, "c_real": sqltypes.REAL,
    "c_boolean": sqltypes.BOOLEAN, "c_varchar": sqltypes.VARCHAR, "c_blob": BINARY, "c_list": ARRAY,
    "c_map": MAP, "c_struct": STRUCT, "c_date": sqltypes.DATE, "c_timestamp": sqltypes.TIMESTAMP,
    "c_timestamptz": sqltypes.TIMESTAMP, "c_decimal": sqltypes.DECIMAL, "c_decimal38": sqltypes.DECIMAL,
    "c_interval": INTERVAL, "c_null": sqltypes.INTEGER,
}


def test_columns_reflect_with_their_types(e6):
    columns = {c["name"]: c["type"] for c in sa.inspect(e6).get_columns("all_types")}
    assert {name: type(t) for name, t in columns.items()} == EXPECTED_TYPES
    assert list(columns) == list(EXPECTED_TYPES)  # in table order
    assert (columns["c_decimal"].precision, columns["c_decimal"].scale) == (18, 2)
    assert (columns["c_decimal38"].precision, columns["c_decimal38"].scale) == (38, 10)
    assert columns["c_timestamptz"].timezone and not columns["c_timestamp"].timezone
    assert type(columns["c_list"].item_type) is sqltypes.INTEGER
    assert [type(t) for t in (columns["c_map"].key_type, columns["c_map"].value_type)] == [sqltypes.VARCHAR,
                                                                                           sqltypes.INTEGER]
    assert [(n, type(t)) for n, t in columns["c_struct"].fields] == [("a", sqltypes.INTEGER), ("b", sqltypes.VARCHAR)]


def test_a_reflected_table_reads_back_python_values(e6):
    table = sa.Table("all_types", sa.MetaData(), autoload_with=e6)
    with e6.connect() as conn:
        first = conn.execute(sa.select(table).where(table.c.id == 1)).one()._mapping
    assert first["c_blob"] == b"\x00\xffab"
    assert first["c_decimal"] == decimal.Decimal("12345.67")
    assert first["c_timestamptz"] == dt.datetime(2024, 2, 29, 13, 14, 15, 500000, tzinfo=dt.timezone.utc)
    assert first["c_interval"] == dt.timedelta(days=1, hours=2, microseconds=3)
    assert first["c_list"] == "[1, 2, NULL]"  # nested values are the engine's text
    assert first["c_boolean"] is True and first["c_bigint"] == 9007199254740993


def test_an_unknown_table_raises_no_such_table(e6):
    with pytest.raises(sa.exc.NoSuchTableError, match="main.no_such_table"):
        sa.inspect(e6).get_columns("no_such_table")
    with pytest.raises(sa.exc.NoSuchTableError):
        sa.Table("no_such_table", sa.MetaData(), autoload_with=e6)


def test_constraint_and_index_calls_answer_empty(e6):
    inspector = sa.inspect(e6)
    assert inspector.get_pk_constraint("orders") == {"constrained_columns": [], "name": None}
    assert inspector.get_foreign_keys("orders") == [] and inspector.get_indexes("orders") == []
    assert inspector.get_unique_constraints("orders") == [] and inspector.get_check_constraints("orders") == []


def test_metadata_reflect_reads_every_table(e6):
    meta = sa.MetaData()
    meta.reflect(e6)
    assert sorted(meta.tables) == DEMO_TABLES
    assert [c.name for c in meta.tables["products"].columns] == ["product_id", "name", "category", "price"]


# --- the type names themselves: what the real engine reports (wire 2.3) and the local engine's DuckDB names ----
@pytest.mark.parametrize(("name", "expected"), [
    ("int", sqltypes.INTEGER()), ("long", sqltypes.BIGINT()), ("short", sqltypes.SMALLINT()),
    ("byte", sqltypes.SMALLINT()), ("bool", sqltypes.BOOLEAN()), ("double", sqltypes.DOUBLE()),
    ("FLOAT", sqltypes.REAL()), ("string", sqltypes.VARCHAR()), ("varchar(16)", sqltypes.VARCHAR(16)),
    ("char(1)", sqltypes.CHAR(1)), ("decimal(7,2)", sqltypes.DECIMAL(7, 2)), ("DECIMAL(38, 10)", sqltypes.DECIMAL(38, 10)),
    ("numeric", sqltypes.DECIMAL()), ("date", sqltypes.DATE()), ("timestamp", sqltypes.TIMESTAMP()),
    ("timestamp_tz", sqltypes.TIMESTAMP(timezone=True)), ("timestamp with time zone", sqltypes.TIMESTAMP(timezone=True)),
    ("binary", BINARY()), ("interval", INTERVAL()), ("array<int>", ARRAY(sqltypes.INTEGER())),
    ("array<array<long>>", ARRAY(sqltypes.BIGINT(), dimensions=2)), ("integer[]", ARRAY(sqltypes.INTEGER())),
    ("varchar[][]", ARRAY(sqltypes.VARCHAR(), dimensions=2)), ("map<string,int>", MAP(sqltypes.VARCHAR(), sqltypes.INTEGER())),
    ("map(varchar, integer[])", MAP(sqltypes.VARCHAR(), ARRAY(sqltypes.INTEGER()))),
    ("struct<a:int,b:decimal(5,1)>", STRUCT((("a", sqltypes.INTEGER()), ("b", sqltypes.DECIMAL(5, 1))))),
    ('struct("odd name" varchar, n struct(x double))',
     STRUCT((("odd name", sqltypes.VARCHAR()), ("n", STRUCT((("x", sqltypes.DOUBLE()),)))))),
])
def test_type_names_parse(name, expected):
    assert repr(parse_type(name)) == repr(expected)


@pytest.mark.parametrize("name", ["uuid", "hugeint", "array<", "decimal(a,b)", "map<int", "", "enum('a', 'b')"])
def test_an_unknown_type_name_warns_and_reflects_as_null_type(name):
    with pytest.warns(UserWarning, match="did not recognise the column type"):
        assert type(parse_type(name)) is sqltypes.NullType


@pytest.mark.parametrize(("code", "expected"), [
    ("LONG", sqltypes.BIGINT), ("INTEGER", sqltypes.INTEGER), ("DOUBLE", sqltypes.DOUBLE), ("FLOAT", sqltypes.REAL),
    ("BOOLEAN", sqltypes.BOOLEAN), ("STRING", sqltypes.VARCHAR), ("BINARY", BINARY), ("DATE", sqltypes.DATE),
    ("DATETIME", sqltypes.TIMESTAMP), ("TIMESTAMP_TZ", sqltypes.TIMESTAMP), ("DECIMAL128", sqltypes.DECIMAL),
    ("ARRAY", ARRAY), ("MAP", MAP), ("STRUCT", STRUCT), ("INTERVAL_DAY_SECOND", INTERVAL),
    ("NULL", sqltypes.NullType), ("SOMETHING_NEW", sqltypes.NullType),
])
def test_description_type_codes_map_to_types(code, expected):
    assert type(type_for_code(code)) is expected


def test_a_decimal_type_code_keeps_its_precision_and_scale():
    made = type_for_code("DECIMAL128(18,4)")
    assert (type(made), made.precision, made.scale) == (sqltypes.DECIMAL, 18, 4)


def test_every_result_type_code_of_the_engine_has_a_type(e6):
    with e6.connect() as conn:
        result = conn.exec_driver_sql("SELECT * FROM all_types")
        codes = {d[1] for d in result.cursor.description}
        result.close()
    assert all(type(type_for_code(code)) is not sqltypes.NullType for code in codes - {"NULL"})
