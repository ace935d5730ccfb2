"""SQLAlchemy types for e6data columns: the engine's type names (getColumns) and result type codes, parsed."""
from __future__ import annotations

import datetime as dt
import re
import warnings
from collections.abc import Callable
from typing import Any

from sqlalchemy import types as sqltypes
from sqlalchemy.sql import sqltypes as _sqltypes
from sqlalchemy.sql.type_api import NativeForEmulated
from sqlalchemy.types import TypeEngine


class BINARY(sqltypes.LargeBinary):
    """Bytes. The engine sends a binary value as text (wire 3.3): valid UTF-8 as itself, any other byte as
    a DuckDB-style `\\xAB` escape; this type turns that text back into the bytes. Text that already holds a
    literal `\\x` followed by two upper-case hex digits cannot be told from an escape and becomes that byte."""

    __visit_name__ = "BINARY"

    def bind_processor(self, dialect: Any) -> None:
        return None  # the client binds bytes as a literal itself (no `dbapi.Binary` wrapper to call)

    def result_processor(self, dialect: Any, coltype: object) -> Callable[[Any], bytes | None]:
        return text_to_bytes


_ESCAPE = re.compile(rb"\\x([0-9A-F]{2})")


def text_to_bytes(value: Any) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    raw = str(value).encode("utf-8", "surrogatepass")
    return _ESCAPE.sub(lambda m: bytes((int(m.group(1), 16),)), raw) if b"\\x" in raw else raw


class _EngineText:
    """Nested values arrive as the engine's text rendering (wire 3.3: there is no nested decoding), and are
    handed out as that text; no result processing, so a row is read at the speed of a string column."""

    def result_processor(self, dialect: Any, coltype: object) -> None:
        return None

    def bind_processor(self, dialect: Any) -> None:
        return None

    @property
    def python_type(self) -> type:
        return str


class ARRAY(_EngineText, sqltypes.ARRAY[Any]):
    """An e6data ARRAY<item>; values are the engine's text, e.g. `'[1, 2, NULL]'`."""

    cache_ok = True


class MAP(_EngineText, TypeEngine[str]):
    """An e6data MAP<key, value>; values are the engine's text, e.g. `'{k=1}'`."""

    __visit_name__ = "MAP"
    cache_ok = True

    def __init__(self, key_type: TypeEngine[Any] | None = None, value_type: TypeEngine[Any] | None = None) -> None:
        self.key_type = key_type if key_type is not None else sqltypes.NullType()
        self.value_type = value_type if value_type is not None else sqltypes.NullType()


class STRUCT(_EngineText, TypeEngine[str]):
    """An e6data STRUCT<name: type, ...>; `fields` keeps the names and types; values are the engine's text."""

    __visit_name__ = "STRUCT"
    cache_ok = True

    def __init__(self, fields: tuple[tuple[str, TypeEngine[Any]], ...] = ()) -> None:
        self.fields = tuple(fields)


class INTERVAL(NativeForEmulated, _sqltypes._AbstractInterval):
    """A day-to-second interval; the client already hands out `datetime.timedelta`."""

    __visit_name__ = "INTERVAL"
    native = True
    cache_ok = True

    @classmethod
    def adapt_emulated_to_native(cls, impl: Any, **kw: Any) -> INTERVAL:
        return INTERVAL()

    @property
    def _type_affinity(self) -> type[sqltypes.Interval]:
        return sqltypes.Interval

    def as_generic(self, allow_nulltype: bool = False) -> sqltypes.Interval:
        return sqltypes.Interval(native=True)

    @property
    def python_type(self) -> type:
        return dt.timedelta


# The engine's getColumns names (`int`, `long`, `decimal(7,2)`, `varchar(16)`, `array<int>`, wire 2.3) and the
# DuckDB spellings the local engine passes through (`integer`, `map(varchar, integer)`, `integer[]`).
_SIMPLE: dict[str, Callable[[], TypeEngine[Any]]] = {
    "boolean": sqltypes.BOOLEAN, "bool": sqltypes.BOOLEAN,
    "byte": sqltypes.SMALLINT, "tinyint": sqltypes.SMALLINT,
    "short": sqltypes.SMALLINT, "smallint": sqltypes.SMALLINT,
    "int": sqltypes.INTEGER, "integer": sqltypes.INTEGER,
    "long": sqltypes.BIGINT, "bigint": sqltypes.BIGINT,
    "float": sqltypes.REAL, "real": sqltypes.REAL,
    "double": sqltypes.DOUBLE, "double precision": sqltypes.DOUBLE,
    "string": sqltypes.VARCHAR, "text": sqltypes.VARCHAR,
    "binary": BINARY, "varbinary": BINARY, "blob": BINARY, "bytea": BINARY,
    "date": sqltypes.DATE,
    "time": sqltypes.TIME,
    "timestamp": sqltypes.TIMESTAMP, "datetime": sqltypes.TIMESTAMP, "timestamp without time zone": sqltypes.TIMESTAMP,
    "interval": INTERVAL, "interval_day_second": INTERVAL,
    "null": sqltypes.NullType, "void": sqltypes.NullType,
}
_ZONED = {"timestamp_tz", "timestamptz", "timestamp with time zone", "timestamp_ltz"}

# the official connector's cursor.description type codes (the result metadata's vector type names, wire 1.6)
_FOR_CODE: dict[str, Callable[[], TypeEngine[Any]]] = {
    "LONG": sqltypes.BIGINT, "INTEGER": sqltypes.INTEGER, "SHORT": sqltypes.SMALLINT, "BYTE": sqltypes.SMALLINT,
    "DOUBLE": sqltypes.DOUBLE, "FLOAT": sqltypes.REAL, "BOOLEAN": sqltypes.BOOLEAN, "STRING": sqltypes.VARCHAR,
    "CHAR": sqltypes.VARCHAR, "BINARY": BINARY, "DATE": sqltypes.DATE, "DATETIME": sqltypes.TIMESTAMP,
    "TIMESTAMP_TZ": lambda: sqltypes.TIMESTAMP(timezone=True), "DECIMAL128": sqltypes.DECIMAL,
    "ARRAY": lambda: ARRAY(sqltypes.NullType()), "MAP": MAP, "STRUCT": STRUCT,
    "INTERVAL_DAY_SECOND": INTERVAL, "NULL": sqltypes.NullType,
}


def type_for_code(type_code: object) -> TypeEngine[Any]:
    """The SQLAlchemy type of a result column from its `cursor.description` type code: e6magic's SQL names
    (`'BIGINT'`, `'DECIMAL(18,2)'`, `'TIMESTAMP WITH TIME ZONE'`) or the official connector's wire words
    (`'LONG'`, `'DECIMAL128(18,2)'`); a code neither knows gives `NullType`."""
    code, _, params = str(type_code).upper().partition("(")
    if code == "DECIMAL128" and params:
        return parse_type(f"decimal({params}")
    make = _FOR_CODE.get(code)
    if make is not None:
        return make()
    with warnings.catch_warnings():  # a result column, not a reflected table: nothing to warn about
        warnings.simplefilter("ignore")
        return parse_type(str(type_code))


class _Parser:
    """Recursive descent over one type name; `<...>` (e6data) and `(...)` (DuckDB) both hold parameters."""

    def __init__(self, text: str) -> None:
        self.text, self.pos = text, 0

    def parse(self) -> TypeEngine[Any]:
        result = self.type()
        if self.pos != len(self.text):
            raise ValueError(f"unexpected {self.text[self.pos:]!r}")
        return result

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def word(self) -> str:
        self.skip()
        match = re.compile(r'"(?:[^"]|"")*"|[A-Za-z_][A-Za-z0-9_$]*|\d+').match(self.text, self.pos)
        if not match:
            raise ValueError(f"expected a name at {self.text[self.pos:]!r}")
        self.pos = match.end()
        token = match.group()
        return token[1:-1].replace('""', '"') if token.startswith('"') else token

    def type(self) -> TypeEngine[Any]:
        name = self.word().lower()
        while self.peek().isalpha():  # multi-word names: "double precision", "timestamp with time zone"
            name += " " + self.word().lower()
        args: list[Any] = []
        if self.peek() in ("<", "("):
            close = ">" if self.text[self.pos] == "<" else ")"
            self.pos += 1
            args = self.arguments(name, close)
        result = self.build(name, args)
        while self.peek() == "[":  # DuckDB's `integer[]`
            self.pos += 1
            if self.peek() != "]":
                raise ValueError("expected ']'")
            self.pos += 1
            result = array_of(result)
        return result

    def arguments(self, name: str, close: str) -> list[Any]:
        args: list[Any] = []
        while True:
            if name in ("struct", "row"):
                field = self.word()
                if self.peek() == ":":
                    self.pos += 1
                args.append((field, self.type()))
            elif name in ("decimal", "numeric", "varchar", "char", "character", "character varying"):
                args.append(int(self.word()))
            else:
                args.append(self.type())
            nxt = self.peek()
            self.pos += 1
            if nxt == close:
                return args
            if nxt != ",":
                raise ValueError(f"expected ',' or {close!r}")

    @staticmethod
    def build(name: str, args: list[Any]) -> TypeEngine[Any]:
        if name in ("decimal", "numeric"):
            return sqltypes.DECIMAL(*args[:2])
        if name in ("varchar", "char", "character", "character varying"):
            length = args[0] if args else None
            return sqltypes.CHAR(length) if name in ("char", "character") else sqltypes.VARCHAR(length)
        if name in ("array", "list"):
            return array_of(args[0] if args else sqltypes.NullType())
        if name == "map":
            return MAP(*args[:2])
        if name in ("struct", "row"):
            return STRUCT(tuple(args))
        if name in _ZONED:
            return sqltypes.TIMESTAMP(timezone=True)
        if name in _SIMPLE:
            return _SIMPLE[name]()
        raise ValueError(f"unknown type {name!r}")


def array_of(item: TypeEngine[Any]) -> ARRAY:
    """An array of `item`; an array of arrays is one ARRAY with more dimensions (SQLAlchemy does not nest them)."""
    if isinstance(item, sqltypes.ARRAY):
        return ARRAY(item.item_type, dimensions=(item.dimensions or 1) + 1)
    return ARRAY(item)


def parse_type(type_name: str) -> TypeEngine[Any]:
    """The SQLAlchemy type for a type name the engine's getColumns reports; unknown names warn and give
    `NullType` (as SQLAlchemy's own dialects do), so reflecting a table never fails on one odd column."""
    try:
        return _Parser(type_name.strip()).parse()
    except (ValueError, IndexError, TypeError):
        warnings.warn(f"e6magic dialect: did not recognise the column type {type_name!r}; reflected as NullType",
                      stacklevel=2)
        return sqltypes.NullType()
