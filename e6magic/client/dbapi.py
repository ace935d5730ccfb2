"""PEP 249 module globals, type objects (compared with `description` type codes) and value constructors."""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable

from e6magic.wire.types import VectorType, vector_type_from_name

apilevel = "2.0"
threadsafety = 2  # threads may share the module and connections, not cursors
paramstyle = "pyformat"


class DBAPITypeObject:
    """A PEP 249 type object: equal to every `description` type code (a wire type name) of its kind.

    Type codes are the engine's metadata type names (`"LONG"`, `"DECIMAL128"`, `"VARCHAR"`, `"decimal(7,2)"`...):
    they are compared by the vector type they stand for, so aliases and parameterised names match too.
    """

    def __init__(self, name: str, vector_types: Iterable[VectorType]) -> None:
        self.name = name
        self.vector_types = frozenset(vector_types)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DBAPITypeObject):
            return self.vector_types == other.vector_types
        if isinstance(other, VectorType):
            return other in self.vector_types
        if isinstance(other, str):
            return vector_type_from_name(other) in self.vector_types
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.vector_types)

    def __repr__(self) -> str:
        return f"<e6magic.{self.name}: {', '.join(sorted(t.name for t in self.vector_types)) or 'no type'}>"


# ARRAY, MAP and STRUCT values arrive rendered as text (wire §3.3), so they are strings to a DB-API user.
STRING = DBAPITypeObject("STRING", [VectorType.STRING, VectorType.ARRAY, VectorType.MAP, VectorType.STRUCT])
BINARY = DBAPITypeObject("BINARY", [VectorType.BINARY])
NUMBER = DBAPITypeObject("NUMBER", [VectorType.INTEGER, VectorType.LONG, VectorType.DOUBLE, VectorType.FLOAT,
                                    VectorType.DECIMAL128])
DATETIME = DBAPITypeObject("DATETIME", [VectorType.DATE, VectorType.DATETIME, VectorType.TIMESTAMP,
                                        VectorType.TIMESTAMP_TZ])
ROWID = DBAPITypeObject("ROWID", [])  # e6data has no row identifiers: equal to no type code

Date = dt.date
Time = dt.time
Timestamp = dt.datetime
Binary = bytes


def DateFromTicks(ticks: float) -> dt.date:
    """The local date of a Unix time, as PEP 249's reference implementation."""
    return Date(*time.localtime(ticks)[:3])


def TimeFromTicks(ticks: float) -> dt.time:
    """The local time of day of a Unix time (whole seconds)."""
    return Time(*time.localtime(ticks)[3:6])


def TimestampFromTicks(ticks: float) -> dt.datetime:
    """The local date and time of a Unix time (whole seconds)."""
    return Timestamp(*time.localtime(ticks)[:6])
