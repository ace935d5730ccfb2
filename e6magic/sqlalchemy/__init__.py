"""SQLAlchemy dialect `e6magic://` on e6magic's client, and an Arrow fast path for pandas (`read_sql`, `read_arrow`)."""
from __future__ import annotations

try:
    import sqlalchemy as _sqlalchemy  # noqa: F401 - only to fail early with the install command
except ImportError as exc:  # pragma: no cover - the extra is installed wherever the tests run
    raise ImportError("the e6magic:// dialect needs SQLAlchemy 2: pip install 'e6magic[sqlalchemy]'") from exc

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

__all__ = ["ARRAY", "BINARY", "INTERVAL", "MAP", "STRUCT", "E6magicDialect", "parse_type", "read_arrow", "read_sql",
           "type_for_code"]
