"""SQL and type compilers for the e6data dialect: double-quoted identifiers, LIMIT/OFFSET, TRUE/FALSE, safe literals."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.sql import compiler
from sqlalchemy.types import TypeDecorator

from e6magic.client.params import literal


class E6IdentifierPreparer(compiler.IdentifierPreparer):
    """Identifiers in double quotes (doubled inside), quoted when reserved, mixed-case or not plain."""

    def __init__(self, dialect: Any) -> None:
        super().__init__(dialect, initial_quote='"', escape_quote='"')


class E6Compiler(compiler.SQLCompiler):
    """SQLAlchemy's ANSI compiler, with the e6data spellings where they differ."""

    def limit_clause(self, select: Any, **kw: Any) -> str:
        # `LIMIT n OFFSET m`; an offset alone keeps no LIMIT (the engine reads `OFFSET m` by itself, as ANSI)
        text = ""
        if select._limit_clause is not None:
            text += "\n LIMIT " + self.process(select._limit_clause, **kw)
        if select._offset_clause is not None:
            text += " OFFSET " + self.process(select._offset_clause, **kw)
        return text

    def render_literal_value(self, value: Any, type_: Any) -> str:
        if isinstance(value, (dt.date, dt.time)) and not isinstance(type_, TypeDecorator):
            # typed, as the client binds them (DATE '...', TIMESTAMP '...'): a bare string would come back as text
            return literal(value)
        # strings must be escaped as the client binds them (backslashes doubled: every endpoint reads backslash
        # escapes, wire 5.6), or a literal could end early there
        if isinstance(value, str):
            value = value.replace("\\", "\\\\")
        return super().render_literal_value(value, type_)

    def visit_char_length_func(self, fn: Any, **kw: Any) -> str:
        return "length" + self.function_argspec(fn, **kw)


class E6TypeCompiler(compiler.GenericTypeCompiler):
    """Type names for CAST: the ones the engine knows (no TEXT, CLOB, DATETIME or BLOB)."""

    def visit_TEXT(self, type_: Any, **kw: Any) -> str:
        return "VARCHAR"

    visit_CLOB = visit_NVARCHAR = visit_NCHAR = visit_TEXT

    def visit_VARCHAR(self, type_: Any, **kw: Any) -> str:
        return f"VARCHAR({type_.length})" if type_.length else "VARCHAR"

    def visit_DATETIME(self, type_: Any, **kw: Any) -> str:
        return self.visit_TIMESTAMP(type_, **kw)

    def visit_TIMESTAMP(self, type_: Any, **kw: Any) -> str:
        return "TIMESTAMP WITH TIME ZONE" if getattr(type_, "timezone", False) else "TIMESTAMP"

    def visit_BLOB(self, type_: Any, **kw: Any) -> str:
        return "BINARY"

    visit_BINARY = visit_VARBINARY = visit_large_binary = visit_BLOB

    def visit_FLOAT(self, type_: Any, **kw: Any) -> str:
        return "DOUBLE"

    def visit_INTERVAL(self, type_: Any, **kw: Any) -> str:
        return "INTERVAL"

    def visit_ARRAY(self, type_: Any, **kw: Any) -> str:
        return f"ARRAY<{self.process(type_.item_type, **kw)}>"

    def visit_MAP(self, type_: Any, **kw: Any) -> str:
        return f"MAP<{self.process(type_.key_type, **kw)}, {self.process(type_.value_type, **kw)}>"

    def visit_STRUCT(self, type_: Any, **kw: Any) -> str:
        fields = ", ".join(f"{name}: {self.process(t, **kw)}" for name, t in type_.fields)
        return f"STRUCT<{fields}>"

    def visit_null(self, type_: Any, **kw: Any) -> str:
        return "NULL"

