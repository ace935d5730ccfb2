"""SQLAlchemy dialect `e6magic://` on e6magic's client, and an Arrow fast path for pandas (`read_sql`, `read_arrow`)."""
from __future__ import annotations

from e6magic.sqlalchemy.arrow import read_arrow, read_sql
from e6magic.sqlalchemy.dialect import E6magicDialect
from e6magic.sqlalchemy.types import (
           ARRAY,
           BINARY,
           INTERVAL,
           MAP,
           STRUCT,
           parse_type,
           type_for_code,
)

dialect = E6magicDialect

__all__ = [
           "ARRAY",
           "BINARY",
           "INTERVAL",
           "MAP",
           "STRUCT",
           "E6magicDialect",
           "dialect",
           "parse_type",
           "read_arrow",
           "read_sql",
           "type_for_code",
]
