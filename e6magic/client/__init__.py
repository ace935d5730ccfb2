"""The embedded e6data client: PEP 249 `connect()`, Arrow/pandas fast paths, and the blue/green strategy cache."""
from __future__ import annotations

from e6magic.client.connection import Connection, connect
from e6magic.client.cursor import Cursor
from e6magic.client.dbapi import (
    BINARY,
    DATETIME,
    NUMBER,
    ROWID,
    STRING,
    Binary,
    Date,
    DateFromTicks,
    Time,
    TimeFromTicks,
    Timestamp,
    TimestampFromTicks,
    apilevel,
    paramstyle,
    threadsafety,
)
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
    Warning,  # noqa: A004 - the name PEP 249 asks for
)
from e6magic.client.query import QueryHandle

__all__ = [
    "BINARY", "Binary", "Connection", "Cursor", "DATETIME", "DataError", "DatabaseError", "Date",
    "DateFromTicks", "Error", "IntegrityError", "InterfaceError", "InternalError", "NUMBER",
    "NotSupportedError", "OperationalError", "ProgrammingError", "QueryCancelled", "QueryHandle", "ROWID",
    "STRING", "Time", "TimeFromTicks", "Timestamp", "TimestampFromTicks", "Warning", "apilevel", "connect",
    "paramstyle", "threadsafety",
]
