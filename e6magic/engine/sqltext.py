"""What of a client's text reaches DuckDB: identifiers quoted by one function, query text held to one statement."""
from __future__ import annotations

import duckdb
import grpc

from e6magic.engine.errors import EngineError, query_error


def quote_identifier(name: str) -> str:
    """`name` as one double-quoted SQL identifier: the only way a client's catalog, schema, table or column
    name may reach SQL text."""
    if "\x00" in name:
        raise EngineError(grpc.StatusCode.INVALID_ARGUMENT, f"identifier {name!r} contains a NUL character")
    return '"' + name.replace('"', '""') + '"'


def qualified(*names: str) -> str:
    """`"catalog"."schema"` (or any dotted path), each part quoted."""
    return ".".join(quote_identifier(name) for name in names)


def one_statement(cursor: duckdb.DuckDBPyConnection, sql: str, query_id: str = "") -> list[duckdb.Statement]:
    """Refuse a query text that DuckDB would not run as exactly one statement: a NUL character (DuckDB's
    parser reads past it: `select 1\\x00; drop table x` ran both), or more than one statement."""
    named = f" (query id: {query_id})" if query_id else ""
    nul = sql.find("\x00")
    if nul >= 0:
        raise EngineError(grpc.StatusCode.INVALID_ARGUMENT,
                          f"query text contains a NUL character at offset {nul}{named}")
    try:
        statements = cursor.extract_statements(sql)  # syntax errors belong to prepare, as on the real engine
    except duckdb.Error as exc:
        if not query_id:
            raise
        raise query_error(exc, query_id) from exc
    if len(statements) != 1:
        raise EngineError(grpc.StatusCode.INVALID_ARGUMENT,
                          f"one statement per query: the text holds {len(statements)}{named}")
    return statements
