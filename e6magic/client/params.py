"""Binds parameters into SQL as safe literals, in the official connector's `%s` and `%(name)s` styles."""
from __future__ import annotations

import datetime as dt
import decimal
import math
from collections.abc import Mapping, Sequence
from typing import Any

from e6magic.client.exceptions import ProgrammingError


def identifier(name: str) -> str:
    """``name`` as one double-quoted SQL identifier (a table or column the view names in SQL it builds)."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: Any) -> str:
    """One value as a SQL literal that can never end early and reads back as itself on every e6data endpoint:
    quotes and backslashes are doubled (e6data reads backslash escapes and doubled quotes, wire §5.6, and so does
    the local engine), NUL is refused."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "CAST('NaN' AS DOUBLE)"
        if math.isinf(value):
            return f"CAST('{'-' if value < 0 else ''}Infinity' AS DOUBLE)"
        text = repr(value)
        # an exponent makes the literal a DOUBLE; a bare `1.5` reads back as a DECIMAL on DuckDB and e6data
        return text if "e" in text else text + "E0"
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise ProgrammingError(f"cannot bind the non-finite decimal {value!r}")
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, dt.time):
        return f"TIME '{value.isoformat()}'"
    if isinstance(value, (bytes, bytearray, memoryview)):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProgrammingError("cannot bind bytes that are not UTF-8 text") from exc
    if isinstance(value, str):
        if "\x00" in value:
            raise ProgrammingError("cannot bind a string containing a NUL character")
        return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"
    if isinstance(value, (list, tuple, set, frozenset)):
        if not value:
            raise ProgrammingError("cannot bind an empty sequence (IN () is not valid SQL)")
        return "(" + ", ".join(literal(v) for v in value) + ")"
    raise ProgrammingError(f"cannot bind a value of type {type(value).__name__}")


def bind(sql: str, params: Mapping[str, Any] | Sequence[Any] | None) -> str:
    """`sql % params` with every value rendered by `literal` (pyformat: `%s`, `%(name)s`, `%%` for `%`)."""
    if params is None:
        return sql
    try:
        if isinstance(params, Mapping):
            return sql % {k: _Literal(literal(v)) for k, v in params.items()}
        if isinstance(params, (str, bytes)) or not isinstance(params, Sequence):
            raise ProgrammingError("params must be a mapping (for %(name)s) or a sequence (for %s)")
        return sql % tuple(_Literal(literal(v)) for v in params)
    except KeyError as exc:
        raise ProgrammingError(f"no value for the parameter %({exc.args[0]})s") from None
    except (TypeError, ValueError) as exc:
        raise ProgrammingError(f"the parameters do not match the query's placeholders: {exc}") from None


class _Literal(str):
    """A rendered literal; `%s` formatting prints it as it is (no quoting by repr)."""
