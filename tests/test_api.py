"""`e6magic` and `e6magic.client` export exactly their public names (PEP 249's on the driver module itself)."""
from __future__ import annotations

import inspect

import pytest

import e6magic
import e6magic.client

PEP_249 = ["BINARY", "DATETIME", "NUMBER", "ROWID", "STRING", "Binary", "DataError", "DatabaseError", "Date",
           "DateFromTicks", "Error", "IntegrityError", "InterfaceError", "InternalError", "NotSupportedError",
           "OperationalError", "ProgrammingError", "Time", "TimeFromTicks", "Timestamp", "TimestampFromTicks",
           "Warning", "apilevel", "connect", "paramstyle", "threadsafety"]


@pytest.mark.parametrize("module", [e6magic, e6magic.client], ids=lambda m: m.__name__)
def test_all_is_the_sorted_public_surface(module):
    # dir(), not vars(): e6magic's client names load on first use and are listed by its __dir__
    public = sorted(name for name in dir(module) if not name.startswith("_") and not
                    inspect.ismodule(getattr(module, name)) and name not in ("annotations", "Any", "TYPE_CHECKING"))
    assert module.__all__ == sorted(module.__all__)
    assert sorted(set(module.__all__) - {"__version__"}) == public


@pytest.mark.parametrize("module", [e6magic, e6magic.client], ids=lambda m: m.__name__)
def test_pep_249_names_are_on_the_module(module):
    assert set(PEP_249) <= set(module.__all__)


def test_contract_signatures():
    assert list(inspect.signature(e6magic.Connection.cursor).parameters)[:3] == ["self", "catalog_name", "db_name"]
    execute = inspect.signature(e6magic.client.Cursor.execute).parameters
    assert list(execute) == ["self", "sql", "params", "timeout"]  # PEP 249's two, then a keyword-only deadline
    assert execute["timeout"].kind is inspect.Parameter.KEYWORD_ONLY
    assert list(inspect.signature(e6magic.client.Cursor.executemany).parameters) == ["self", "sql", "seq_of_params"]
    assert list(inspect.signature(e6magic.client.Cursor.setinputsizes).parameters) == ["self", "sizes"]
    assert list(inspect.signature(e6magic.client.Cursor.setoutputsize).parameters) == ["self", "size", "column"]


# PEP 249 plus the extras docs/architecture.md documents (the official connector's catalog calls, the handle);
# the plumbing (sign-in, colours, retries, the channel) is the connection's private session
CONNECTION = ["DataError", "DatabaseError", "Error", "IntegrityError", "InterfaceError", "InternalError",
              "NotSupportedError", "OperationalError", "ProgrammingError", "Warning", "catalog", "clear", "close",
              "closed", "cluster_name", "commit", "cursor", "database", "dry_run", "explain_analyse", "get_catalogs",
              "get_columns", "get_schema_names", "get_tables", "host", "port", "query_cancel", "rollback",
              "session_id", "timeout", "username"]
CURSOR = ["arraysize", "cancel", "catalog", "clear", "close", "closed", "connection", "database", "description",
          "execute", "executemany", "explain", "explain_analyse", "fetch_arrow", "fetch_arrow_reader", "fetch_batches",
          "fetch_df", "fetch_polars", "fetchall", "fetchmany", "fetchone", "get_columns", "get_schema_names",
          "get_tables", "handle", "query_id", "rowcount", "setinputsizes", "setoutputsize", "status", "submit"]


def test_connection_and_cursor_show_pep_249_and_the_documented_extras_only():
    conn = e6magic.connect(host="127.0.0.1", port=1, username="u", password="p")  # lazy: nothing is sent
    try:
        cur = conn.cursor()
        assert sorted(name for name in dir(conn) if not name.startswith("_")) == CONNECTION
        assert sorted(name for name in dir(cur) if not name.startswith("_")) == CURSOR
        assert cur.connection is conn
    finally:
        conn.close()
