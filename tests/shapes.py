"""The result shapes users meet, as SQL over range() and the demo catalog: one list for bench/bench_shapes.py and the tests."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Shape:
    name: str
    what: str
    sql: str  # `{rows}` is the row count; demo tables ignore it
    rows: int  # the benchmark's row count (about 50-100 MB of DataFrame each)
    fixed_rows: bool = False  # a demo table: its own row count, not `rows`

    def query(self, rows: int) -> str:
        return self.sql.format(rows=rows)


def _wide(columns: int) -> str:
    kinds = ("i * {k} AS n{k}", "(i * {k}) / 7.0 AS d{k}", "CAST(i % {m} AS INTEGER) AS s{k}")
    parts = [kinds[k % 3].format(k=k, m=1000 + k) for k in range(columns)]
    return "SELECT " + ", ".join(parts) + " FROM range({rows}) t(i)"


_NULLS = """
SELECT CASE WHEN i % 2 = 0 THEN NULL ELSE i END AS c_bigint,
       CASE WHEN i % 2 = 1 THEN NULL ELSE CAST(i % 100000 AS INTEGER) END AS c_integer,
       CASE WHEN (i // 2) % 2 = 0 THEN NULL ELSE CAST(i % 30000 AS SMALLINT) END AS c_smallint,
       CASE WHEN i % 2 = 0 THEN NULL ELSE i / 3.0 END::DOUBLE AS c_double,
       CASE WHEN i % 2 = 1 THEN NULL ELSE CAST(i / 4.0 AS REAL) END AS c_real,
       CASE WHEN (i // 3) % 2 = 0 THEN NULL ELSE i % 3 = 0 END AS c_boolean,
       CASE WHEN i % 2 = 0 THEN NULL ELSE 'value ' || (i % 9973) END AS c_varchar,
       CASE WHEN i % 2 = 1 THEN NULL ELSE DATE '2000-01-01' + CAST(i % 9000 AS INTEGER) END AS c_date,
       CASE WHEN (i // 2) % 2 = 1 THEN NULL ELSE TIMESTAMP '2020-01-01' + to_microseconds(i * 1000003) END
           AS c_timestamp,
       CASE WHEN i % 2 = 0 THEN NULL ELSE TIMESTAMPTZ '2021-06-01 00:00:00+00' + to_seconds(i) END AS c_timestamptz,
       CASE WHEN i % 2 = 1 THEN NULL ELSE CAST((i % 1000000) / 100.0 AS DECIMAL(18, 2)) END AS c_decimal,
       CASE WHEN (i // 5) % 2 = 0 THEN NULL ELSE CAST(i * 12345.0123456789 AS DECIMAL(38, 10)) END AS c_decimal38,
       CASE WHEN i % 2 = 0 THEN NULL ELSE encode('b' || (i % 77)) END AS c_blob
FROM range({rows}) t(i)"""

SHAPES: tuple[Shape, ...] = (
    Shape("text_mid", "BIGINT, VARCHAR, DATE, DOUBLE: text in the middle of the row", """
SELECT i AS id, 'name_' || (i % 5000) AS name, DATE '2020-01-01' + CAST(i % 3000 AS INTEGER) AS day,
       i / 3.0 AS score
FROM range({rows}) t(i)""", 1_000_000),
    Shape("lineitem", "TPC-H lineitem-like: keys, 4 decimals, flags, 3 dates, instructions, comment (16 columns)", """
SELECT i // 4 + 1 AS l_orderkey, CAST(hash(i) % 200000 AS BIGINT) + 1 AS l_partkey,
       CAST(hash(i * 3) % 10000 AS BIGINT) + 1 AS l_suppkey, CAST(i % 4 + 1 AS INTEGER) AS l_linenumber,
       CAST(1 + i % 50 AS DECIMAL(15, 2)) AS l_quantity,
       CAST(900 + (hash(i * 5) % 10490000) / 100.0 AS DECIMAL(15, 2)) AS l_extendedprice,
       CAST((i % 11) / 100.0 AS DECIMAL(15, 2)) AS l_discount, CAST((i % 9) / 100.0 AS DECIMAL(15, 2)) AS l_tax,
       ['A', 'N', 'R'][1 + i % 3] AS l_returnflag, ['F', 'O'][1 + i % 2] AS l_linestatus,
       DATE '1992-01-02' + CAST(i % 2500 AS INTEGER) AS l_shipdate,
       DATE '1992-01-31' + CAST(i % 2470 AS INTEGER) AS l_commitdate,
       DATE '1992-01-03' + CAST((i + 7) % 2530 AS INTEGER) AS l_receiptdate,
       ['DELIVER IN PERSON', 'COLLECT COD', 'NONE', 'TAKE BACK RETURN'][1 + i % 4] AS l_shipinstruct,
       ['AIR', 'FOB', 'MAIL', 'RAIL', 'REG AIR', 'SHIP', 'TRUCK'][1 + i % 7] AS l_shipmode,
       substr('carefully final deposits detect slyly agai quickly regular ideas', 1 + i % 20, 10 + i % 34)
           AS l_comment
FROM range({rows}) t(i)""", 500_000),
    Shape("wide", "64 numeric columns (BIGINT, DOUBLE, INTEGER)", _wide(64), 150_000),
    Shape("long_text", "~200-byte text values next to a key", """
SELECT i AS id, repeat('lorem ipsum ', 16) || (i % 100000) || ' dolor' AS body FROM range({rows}) t(i)""", 300_000),
    Shape("nulls50", "50 % nulls in every type (13 columns)", _NULLS, 300_000),
    Shape("timestamps", "TIMESTAMP and TIMESTAMPTZ, with a key", """
SELECT i AS id, TIMESTAMP '2000-01-01' + to_microseconds(i * 7777777) AS at_local,
       TIMESTAMPTZ '2000-01-01 00:00:00+00' + to_microseconds(i * 7777777) AS at_zoned
FROM range({rows}) t(i)""", 1_000_000),
    Shape("decimal38", "DECIMAL(38,10): values above 2**53 unscaled, and small ones", """
SELECT CAST(i * 98765.4321012345 AS DECIMAL(38, 10)) AS big,
       CAST((i % 1000) / 1000.0 AS DECIMAL(38, 10)) AS small,
       CAST(-i * 3.14159 AS DECIMAL(38, 10)) AS negative
FROM range({rows}) t(i)""", 1_000_000),
    Shape("booleans", "BOOLEAN columns, one with nulls", """
SELECT i % 2 = 0 AS even, i % 3 = 0 AS third, CASE WHEN i % 7 = 0 THEN NULL ELSE i % 5 = 0 END AS fifth_or_null
FROM range({rows}) t(i)""", 3_000_000),
    Shape("all_types", "the demo all_types table (every type the wire carries)",
          "SELECT * FROM demo.main.all_types ORDER BY id", 3, fixed_rows=True),
    Shape("orders", "SELECT * FROM orders (the demo table, 1M rows)", "SELECT * FROM demo.main.orders", 1_000_000,
          fixed_rows=True),
)

BY_NAME = {shape.name: shape for shape in SHAPES}
