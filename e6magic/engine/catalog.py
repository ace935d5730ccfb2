"""The engine's catalogs: the generated demo data, a folder of Parquet/CSV files, and the schema calls."""
from __future__ import annotations

import pathlib
import re

import duckdb

from e6magic.engine.sqltext import qualified, quote_identifier

DEMO_CATALOG = "demo"
DEFAULT_SCHEMA = "main"
_HIDDEN_SCHEMAS = ("information_schema", "pg_catalog")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")

# Deterministic (hash() of the row number, no random()), generated in well under a second, nothing downloaded.
_DEMO_SQL = f"""
CREATE TABLE {DEMO_CATALOG}.main.customers AS
SELECT i AS customer_id,
       'Customer ' || i AS name,
       ['North', 'South', 'East', 'West', 'Central'][1 + i % 5] AS region,
       DATE '2020-01-01' + CAST(i % 1500 AS INTEGER) AS signup_date
FROM range(1, 10001) t(i);

CREATE TABLE {DEMO_CATALOG}.main.products AS
SELECT i AS product_id,
       'Product ' || i AS name,
       ['books', 'games', 'garden', 'kitchen', 'tools', 'toys'][1 + i % 6] AS category,
       CAST(5 + (hash(i) % 20000) / 100 AS DECIMAL(10, 2)) AS price
FROM range(1, 1001) t(i);

CREATE TABLE {DEMO_CATALOG}.main.orders AS
SELECT i AS order_id,
       CAST(1 + hash(i) % 10000 AS BIGINT) AS customer_id,
       CAST(1 + hash(i * 7) % 1000 AS INTEGER) AS product_id,
       CAST(1 + i % 5 AS INTEGER) AS quantity,
       CAST((hash(i * 13) % 100000) / 100 AS DECIMAL(18, 2)) AS amount,
       TIMESTAMP '2024-01-01' + to_seconds(CAST(hash(i * 17) % 31536000 AS BIGINT)) AS ordered_at,
       CASE WHEN i % 10 = 0 THEN NULL
            ELSE ['placed', 'shipped', 'delivered', 'returned'][1 + i % 4] END AS status
FROM range(1, 1000001) t(i);

CREATE TABLE {DEMO_CATALOG}.main.all_types (
    id INTEGER, c_bigint BIGINT, c_integer INTEGER, c_smallint SMALLINT, c_double DOUBLE, c_real REAL,
    c_boolean BOOLEAN, c_varchar VARCHAR, c_blob BLOB, c_list INTEGER[], c_map MAP(VARCHAR, INTEGER),
    c_struct STRUCT(a INTEGER, b VARCHAR), c_date DATE, c_timestamp TIMESTAMP, c_timestamptz TIMESTAMPTZ,
    c_decimal DECIMAL(18, 2), c_decimal38 DECIMAL(38, 10), c_interval INTERVAL, c_null INTEGER);
INSERT INTO {DEMO_CATALOG}.main.all_types VALUES
    (1, 9007199254740993, 2147483647, -32768, 3.141592653589793, 1.5, true, 'plain ascii', '\\x00\\xFFab'::BLOB,
     [1, 2, NULL], MAP {{'k': 1}}, {{'a': 1, 'b': 'x'}}, DATE '2024-02-29', TIMESTAMP '2024-02-29 13:14:15.123456',
     TIMESTAMPTZ '2024-02-29 13:14:15.5+00', 12345.67, 1234567890123456789012345678.0123456789,
     INTERVAL '1 day 2 hours 3 microseconds', NULL),
    (2, -9223372036854775808, -2147483648, 32767, -0.0, -2.25, false, 'ünïcødé ✓ 日本 🎉', ''::BLOB,
     [], MAP {{}}, {{'a': NULL, 'b': NULL}}, DATE '1969-07-20', TIMESTAMP '1999-12-31 23:59:59.999999',
     TIMESTAMPTZ '1970-01-01 00:00:00+00', -0.01, -9999999999999999999999999999.9999999999,
     INTERVAL '-36 hours', NULL),
    (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
"""


def build_demo(db: duckdb.DuckDBPyConnection) -> None:
    db.execute(f"ATTACH ':memory:' AS {DEMO_CATALOG}")
    db.execute(_DEMO_SQL)


def attach_data_dir(db: duckdb.DuckDBPyConnection, root: pathlib.Path) -> list[str]:
    """Map `root/<catalog>/<schema>/<table>.parquet|.csv` to views `catalog.schema.table`; returns their names."""
    if not root.is_dir():
        raise FileNotFoundError(f"--data {root}: no such folder")
    attached = {row[0] for row in db.execute("SELECT database_name FROM duckdb_databases()").fetchall()}
    made = []
    for path in sorted(root.glob("*/*/*")):
        reader = {".parquet": "read_parquet", ".csv": "read_csv_auto"}.get(path.suffix.lower())
        catalog, schema, table = path.parent.parent.name, path.parent.name, path.stem
        if reader is None or not all(_IDENT.match(n) for n in (catalog, schema, table)):
            continue
        if catalog not in attached:
            db.execute(f"ATTACH ':memory:' AS {quote_identifier(catalog)}")
            attached.add(catalog)
        db.execute(f"CREATE SCHEMA IF NOT EXISTS {qualified(catalog, schema)}")
        literal = "'" + str(path.resolve()).replace("'", "''") + "'"
        db.execute(f"CREATE OR REPLACE VIEW {qualified(catalog, schema, table)} AS SELECT * FROM {reader}({literal})")
        made.append(f"{catalog}.{schema}.{table}")
    return made


def lock_host_access(db: duckdb.DuckDBPyConnection, data_dir: pathlib.Path | None) -> None:
    """From now on SQL reaches no file but those under `data_dir` (the views over it keep working): no
    read_csv('/etc/passwd'), COPY ... TO, ATTACH of a file, INSTALL or LOAD; and no SET can undo it."""
    if data_dir is not None:
        db.execute("SET allowed_directories = ?", [[str(data_dir.resolve()) + "/"]])
    db.execute("SET enable_external_access = false")
    db.execute("SET lock_configuration = true")


def catalogs(db: duckdb.DuckDBPyConnection) -> list[str]:
    rows = db.execute("SELECT database_name FROM duckdb_databases() WHERE NOT internal ORDER BY 1").fetchall()
    return [r[0] for r in rows if r[0] != "memory"]


def schemas(db: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    rows = db.execute(
        "SELECT schema_name FROM information_schema.schemata WHERE catalog_name = ? ORDER BY 1", [catalog]
    ).fetchall()
    return [r[0] for r in rows if r[0] not in _HIDDEN_SCHEMAS]


def tables(db: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> list[str]:
    rows = db.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? AND table_schema = ? ORDER BY 1",
        [catalog, schema],
    ).fetchall()
    return [r[0] for r in rows]


def columns(db: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str) -> list[tuple[str, str]]:
    rows = db.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = ? AND table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [catalog, schema, table],
    ).fetchall()
    return [(name, engine_type_name(data_type)) for name, data_type in rows]


_ENGINE_NAMES = {
    "BIGINT": "long", "INTEGER": "int", "SMALLINT": "short", "TINYINT": "byte", "DOUBLE": "double",
    "FLOAT": "float", "REAL": "float", "BOOLEAN": "boolean", "VARCHAR": "string", "BLOB": "binary",
    "DATE": "date", "TIMESTAMP": "timestamp", "TIMESTAMP WITH TIME ZONE": "timestamp_tz", "INTERVAL": "interval",
}


def engine_type_name(duckdb_type: str) -> str:
    """The lower-case type names the e6data engine reports in getColumns (`int`, `decimal(7,2)`, `array<int>`)."""
    upper = duckdb_type.upper()
    if upper in _ENGINE_NAMES:
        return _ENGINE_NAMES[upper]
    if upper.startswith("DECIMAL"):
        return upper.lower().replace(" ", "")
    if upper.endswith("[]"):
        return f"array<{engine_type_name(duckdb_type[:-2])}>"
    return duckdb_type.lower()
