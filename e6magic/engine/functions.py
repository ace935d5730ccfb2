"""e6data functions the engine adds to DuckDB as macros: TIMESTAMP_ADD, DATE_FORMAT, FROM_UNIXTIME, TO_TIMESTAMP, TRUNC.

Semantics from the e6data dialect of sqlglot (e6data's fork, `sqlglot/dialects/e6.py`: argument orders, unit
names, Java-style format letters) and the official connector's own tests (`timestamp_add('year', 2,
current_date())`, `TRUNC(ts, 'MM')`, `DATE_FORMAT(ts, '%Y-%m-%d')`, `FROM_UNIXTIME(1609459200)`):

- `timestamp_add(unit, n, ts)`: ts plus n units (year, quarter, month, week, day, hour, minute, second,
  millisecond and e6data's abbreviations: y, yr, mon, w, d, h, hr, m, min, s, sec, qtr, plurals); a TIMESTAMP.
- `date_format(ts, fmt)` and `to_timestamp(text, fmt)`: Java-style letters (`yyyy-MM-dd HH:mm:ss`, `MMM`, `EEE`,
  `SSS`, `a`...); a format holding `%` is read as strftime (`%Y-%m-%d`) as it is.
- `to_timestamp(x)`: text as a timestamp, a number as Unix seconds; `from_unixtime(seconds[, fmt])`: the UTC
  TIMESTAMP (or its text in `fmt`).
- `trunc(ts, unit)` and e6data's `trunc(unit, ts)`: the timestamp cut to year/quarter/month/week/day/hour/
  minute/second (also 'YYYY', 'MM', 'DD', 'HH', 'MI', 'SS'); `trunc(x)` of a number still drops its fraction.
"""
from __future__ import annotations

import duckdb

from e6magic.engine.sqltext import quote_identifier

# Java-style format letters -> DuckDB strftime codes, longest first (so "yyyy" is never read as two "yy").
_FORMAT_LETTERS = (
    ("yyyy", "%Y"), ("YYYY", "%Y"), ("yy", "%y"), ("YY", "%y"), ("y", "%Y"), ("Y", "%Y"),
    ("MMMM", "%B"), ("MMM", "%b"), ("MM", "%m"), ("M", "%-m"),
    ("dd", "%d"), ("d", "%-d"), ("DD", "%j"), ("D", "%-j"),
    ("HH", "%H"), ("H", "%-H"), ("hh", "%I"), ("h", "%-I"),
    ("mm", "%M"), ("m", "%-M"), ("ss", "%S"), ("s", "%-S"), ("SSS", "%g"),
    ("EEEE", "%A"), ("EEE", "%a"), ("EE", "%a"), ("E", "%a"), ("a", "%p"),
)
_UNITS = {
    "millisecond": ("millisecond", "milliseconds", "ms"), "second": ("second", "seconds", "s", "sec", "secs"),
    "minute": ("minute", "minutes", "m", "min", "mins", "mi"), "hour": ("hour", "hours", "h", "hr", "hrs", "hh",
                                                                        "hh24"),
    "day": ("day", "days", "d", "dd"), "week": ("week", "weeks", "w", "ww"),
    "month": ("month", "months", "mon", "mons", "mm"), "quarter": ("quarter", "quarters", "q", "qtr"),
    "year": ("year", "years", "y", "yr", "yrs", "yy", "yyyy"),
}
_TIME_TYPES = "('DATE', 'TIMESTAMP', 'TIMESTAMP WITH TIME ZONE', 'TIMESTAMP_S', 'TIMESTAMP_MS', 'TIMESTAMP_NS')"
_NUMBER_TYPES = ("('TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', "
                 "'UBIGINT', 'FLOAT', 'DOUBLE') OR typeof(x) LIKE 'DECIMAL%'")


def _format_sql(fmt: str) -> str:
    # Two passes through placeholders (control characters no format holds), so a code written in the first
    # pass ("%m") is never read again as a letter ("m", minutes) by a later one.
    expr = fmt
    for i, (letters, _code) in enumerate(_FORMAT_LETTERS):
        expr = f"replace({expr}, '{letters}', chr({i + 1}))"
    for i, (_letters, code) in enumerate(_FORMAT_LETTERS):
        expr = f"replace({expr}, chr({i + 1}), '{code}')"
    return f"CASE WHEN contains({fmt}, '%') THEN {fmt} ELSE {expr} END"


def _unit_sql(arg: str) -> str:
    cases = " ".join(f"WHEN lower(CAST({arg} AS VARCHAR)) IN ({', '.join(repr(n) for n in names)}) THEN '{unit}'"
                     for unit, names in _UNITS.items())
    return f"CASE {cases} ELSE error('unknown date unit ' || CAST({arg} AS VARCHAR)) END"


def _unix_sql(seconds: str) -> str:
    return f"make_timestamp(CAST(round(CAST({seconds} AS DOUBLE) * 1000000) AS BIGINT))"


# Helpers are written into each body, not called: a macro's body is bound where it is created, and the
# macros live in every catalog's schemas.
MACROS = {
    "timestamp_add": f"(unit, n, ts) AS CAST(ts AS TIMESTAMP) + n * CAST('1 ' || ({_unit_sql('unit')}) AS INTERVAL)",
    "from_unixtime": (f"(seconds) AS {_unix_sql('seconds')}, "
                      f"(seconds, fmt) AS strftime({_unix_sql('seconds')}, {_format_sql('fmt')})"),
    "to_timestamp": (f"(x) AS CASE WHEN typeof(x) IN {_NUMBER_TYPES} THEN {_unix_sql('TRY_CAST(x AS DOUBLE)')} "
                     "ELSE CAST(CAST(x AS VARCHAR) AS TIMESTAMP) END, "
                     f"(x, fmt) AS strptime(CAST(x AS VARCHAR), {_format_sql('fmt')})"),
    "date_format": f"(ts, fmt) AS strftime(CAST(ts AS TIMESTAMP), {_format_sql('fmt')})",
    "trunc": ("(x) AS CASE WHEN x < 0 THEN ceil(x) ELSE floor(x) END, "
              f"(a, b) AS CASE WHEN typeof(a) IN {_TIME_TYPES} "
              f"THEN date_trunc({_unit_sql('b')}, TRY_CAST(a AS TIMESTAMP)) "
              f"ELSE date_trunc({_unit_sql('a')}, TRY_CAST(b AS TIMESTAMP)) END"),
}


def install(db: duckdb.DuckDBPyConnection) -> None:
    """Create the macros in every schema of every writable catalog: a query's `USE catalog.schema` is its
    search path, so that is where its function names resolve."""
    schemas = db.execute(
        "SELECT s.database_name, s.schema_name FROM duckdb_schemas() s JOIN duckdb_databases() d "
        "USING (database_name) WHERE NOT d.internal AND NOT d.readonly "
        "AND s.schema_name NOT IN ('information_schema', 'pg_catalog')").fetchall()
    for catalog, schema in schemas:
        where = f"{quote_identifier(catalog)}.{quote_identifier(schema)}"
        for macro, body in MACROS.items():
            db.execute(f"CREATE OR REPLACE MACRO {where}.{macro}{body}")
