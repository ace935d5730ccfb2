"""e6data string literals to DuckDB ones: the engine reads backslash escapes as the real engine's lexer does.

e6data reads `'it\\'s'`, `'a\\\\b'`, `'\\n'` with backslash escapes (the official connectors bind every string that
way, wire §5.6) and also doubled quotes (`'it''s'`); DuckDB reads only the doubled quotes, so `'it\\'s'` would be a
syntax error there and `'a\\\\b'` two backslashes. `to_duckdb(sql)` rewrites each single-quoted literal into the
standard form DuckDB reads, leaving identifiers, comments and everything else as written.

Escapes, as Spark SQL's lexer reads them: `\\'` `\\"` `\\\\` `\\n` `\\t` `\\r` `\\b` (backspace) `\\Z` (Ctrl-Z),
`\\uXXXX`; `\\%` and `\\_` keep their backslash (LIKE patterns); any other `\\x` is `x`. A NUL in a literal
(raw, `\\0` or `\\u0000`) is refused, as e6magic's client refuses to bind one: DuckDB would store it, many readers
cut a string there.
"""
from __future__ import annotations

import re

import grpc

from e6magic.engine.errors import EngineError

# One pass over the text: a string literal, or something inside which quotes mean nothing (a quoted identifier,
# a comment). Only the first kind is rewritten; an unterminated literal matches nothing and DuckDB reports it.
# The literal is written as an unrolled loop (runs of plain characters between escapes): each branch starts with
# its own character, so a long or unterminated literal is read in linear time, never backtracked into.
_SCAN = re.compile(r"""
      '(?P<body>[^'\\]*(?:(?:\\.|'')[^'\\]*)*)'
    | "(?:[^"]|"")*"
    | --[^\n]*
    | /\*.*?\*/
""", re.DOTALL | re.VERBOSE)
# After escaped backslashes are set aside, every backslash left starts an escape, so these are plain replaces
# (none of them puts a backslash back). `\\'` becomes `''`, which is how DuckDB spells a quote: the quotes of a
# literal are all `\\'` or `''` already, so none needs doubling afterwards.
_SIMPLE = (("\\'", "''"), ('\\"', '"'), ("\\n", "\n"), ("\\t", "\t"), ("\\r", "\r"), ("\\b", "\b"),
           ("\\Z", "\x1a"))
_REST = re.compile(r"\\(u[0-9A-Fa-f]{4}|.)", re.DOTALL)  # \uXXXX, LIKE's \% and \_, unknown escapes
_KEPT = frozenset("%_")
_BACKSLASH = "\x00"  # stands in for an escaped backslash: a literal holding a real NUL was refused first
_NUL = "a string literal holds a NUL character, which the engine does not store"


class LiteralError(ValueError):
    """A string literal the engine refuses (it would hold a NUL character)."""


def to_duckdb(sql: str) -> str:
    """`sql` with every e6data string literal written as DuckDB reads it; LiteralError for a NUL in a literal.

    Text without a backslash (or NUL) is returned as it is: doubled quotes already mean the same in both.
    """
    if "\\" not in sql and "\x00" not in sql:
        return sql
    return _SCAN.sub(_rewrite, sql)


def check(sql: str, query_id: str) -> str:
    """`to_duckdb(sql)`, its refusal as the engine's INVALID_ARGUMENT answer for query `query_id`."""
    try:
        return to_duckdb(sql)
    except LiteralError as exc:
        raise EngineError(grpc.StatusCode.INVALID_ARGUMENT, f"{exc} (query id: {query_id})") from None


def _rewrite(match: re.Match[str]) -> str:
    body = match.group("body")
    if body is None or ("\\" not in body and "\x00" not in body):
        return match.group(0)
    if "\x00" in body:
        raise LiteralError(_NUL)
    # str.replace, not a regex callback per escape: a 1 MB bound value has a quarter of a million escapes
    value = body.replace("\\\\", _BACKSLASH)  # pairs from the left, as the lexer reads a run of backslashes
    if "\\0" in value:
        raise LiteralError(_NUL)
    for escape, char in _SIMPLE:
        if escape in value:
            value = value.replace(escape, char)
    if "\\" in value:
        value = _REST.sub(_unescape, value)
    return "'" + value.replace(_BACKSLASH, "\\") + "'"


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    if len(code) == 5:
        char = chr(int(code[1:], 16))
        if char == "\x00":
            raise LiteralError(_NUL)
        return "''" if char == "'" else char
    if code in _KEPT:
        return "\\" + code
    return code
