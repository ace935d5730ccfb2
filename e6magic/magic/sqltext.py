"""A small SQL lexer: split statements and find `:name` parameters outside quotes and comments."""
from __future__ import annotations

import re
from collections.abc import Iterator

# one token at a time: quoted text and comments are opaque, everything else is "code"
_TOKEN = re.compile(
    r"""
    (?P<squote>'(?:[^']|'')*'?)          # '...' with '' escapes (unterminated runs to the end)
  | (?P<dquote>"(?:[^"]|"")*"?)          # "identifier"
  | (?P<btick>`[^`]*`?)                  # `identifier`
  | (?P<line>--[^\n]*)                   # -- comment
  | (?P<block>/\*.*?(?:\*/|\Z))          # /* comment */
  | (?P<code>[^'"`\-/;]+|[-/])           # plain text, or a lone - or /
  | (?P<semi>;)
    """,
    re.VERBOSE | re.DOTALL,
)
_PARAM = re.compile(r"(?<![:\w]):(?P<name>[A-Za-z_]\w*)")


def tokens(sql: str) -> Iterator[tuple[str, str]]:
    """Yield (kind, text) pieces that cover ``sql`` exactly; kind is the group name above."""
    pos = 0
    while pos < len(sql):
        m = _TOKEN.match(sql, pos)
        assert m is not None and m.end() > pos  # the alternatives cover every character
        yield m.lastgroup or "code", m.group()
        pos = m.end()


def split_statements(sql: str) -> list[str]:
    """Split on `;` outside quotes and comments; statements that hold only comments are dropped."""
    statements: list[str] = []
    current: list[str] = []
    has_code = False
    for kind, text in tokens(sql):
        if kind == "semi":
            if has_code:
                statements.append("".join(current).strip())
            current, has_code = [], False
            continue
        current.append(text)
        if kind != "line" and kind != "block" and text.strip():
            has_code = True
    if has_code:
        statements.append("".join(current).strip())
    return statements


def parameter_names(sql: str) -> list[str]:
    """The distinct `:name` parameters in code (not in strings, comments, or `::` casts), in order."""
    seen: dict[str, None] = {}
    for kind, text in tokens(sql):
        if kind == "code":
            for m in _PARAM.finditer(text):
                seen.setdefault(m["name"])
    return list(seen)


def replace_parameters(sql: str, placeholder: str = "%({name})s", escape_percent: bool = True) -> str:
    """Rewrite each code `:name` as ``placeholder`` (pyformat by default) and double literal `%`.

    `%` is doubled everywhere (strings included) because pyformat binding reads the whole text.
    """
    out = []
    for kind, text in tokens(sql):
        if escape_percent:
            text = text.replace("%", "%%")
        if kind == "code":
            text = _PARAM.sub(lambda m: placeholder.format(name=m["name"]), text)
        out.append(text)
    return "".join(out)
