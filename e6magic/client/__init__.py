"""The embedded e6data client: PEP 249 `connect()`, Arrow/pandas fast paths, and the blue/green strategy cache."""
from __future__ import annotations

from e6magic.client.connection import Connection, connect
from e6magic.client.cursor import Cursor
from e6magic.client.exceptions import (
    DatabaseError,
    DataError,
    Error,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    QueryCancelled,
    Warning,
)
from e6magic.client.query import QueryHandle

apilevel = "2.0"
threadsafety = 2
paramstyle = "pyformat"

__all__ = [
    "Connection", "Cursor", "DataError", "DatabaseError", "Error", "IntegrityError", "InterfaceError",
    "InternalError", "NotSupportedError", "OperationalError", "ProgrammingError", "QueryCancelled", "QueryHandle",
    "Warning", "apilevel", "connect", "paramstyle", "threadsafety",
]
