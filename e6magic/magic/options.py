"""The `%e6sql` options: their table, and a parser that stops at the first SQL token."""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from IPython.core.error import UsageError

USAGE = (
    "usage: %%e6sql [df <<] [-o NAME] [--limit N] [--catalog C] [--database D] [--explain] "
    "[--dry-run] [--show-sql] [--background] [-f FILE] [-j] [-c ALIAS] "
    "[--connect [--host H] [--port P] [--cluster NAME] [--secure] [--username U] [--token]] "
    "[--close] [--refresh] [--schema]"
)


@dataclass(frozen=True)
class Option:
    dest: str
    takes_value: bool = False
    kind: type = str
    const: object = True  # what a flag sets


# every spelling -> what it sets; a flag takes no value
OPTIONS: dict[str, Option] = {
    "-o": Option("out", True), "--out": Option("out", True),
    "--limit": Option("limit", True, int),
    "--catalog": Option("catalog", True), "--database": Option("database", True),
    "--explain": Option("explain"), "--dry-run": Option("dry_run"),
    "--show-sql": Option("show_sql"), "--background": Option("background"),
    "-f": Option("file", True), "--file": Option("file", True),
    "-j": Option("jinja"), "--jinja": Option("jinja"),
    "-c": Option("alias", True), "--conn": Option("alias", True),
    "--connect": Option("connect"),
    "--host": Option("host", True), "--port": Option("port", True, int),
    "--cluster": Option("cluster", True), "--secure": Option("secure"),
    "--username": Option("username", True),
    # the value is optional: a bare --token asks with a hidden prompt (nothing lands in the notebook)
    "--token": Option("token"),
    "--close": Option("close"),
    "--refresh": Option("refresh"),
    "--schema": Option("schema"),
}

# an option token: dashes then a letter, so "-- comment" and "-1" stay SQL
_OPTION = re.compile(r"\s*(?P<opt>--?[A-Za-z][\w-]*)(?:=(?P<eq>\S*))?(?=\s|$)")
_VALUE = re.compile(r"""\s*(?P<value>'[^']*'|"[^"]*"|\S+)""")
_TARGET = re.compile(r"\s*(?P<target>[A-Za-z_]\w*)\s*<<(?P<rest>.*)", re.DOTALL)


def _unquote(text: str) -> str:
    return shlex.split(text)[0] if text[:1] in "'\"" else text


def _convert(spelling: str, option: Option, raw: str) -> object:
    if option.kind is int:
        try:
            number = int(raw)
        except ValueError:
            raise UsageError(f"{spelling} needs a whole number, got {raw!r}. {USAGE}") from None
        if number < 0:
            raise UsageError(f"{spelling} must not be negative, got {number}. {USAGE}")
        return number
    return raw


def parse_options(line: str) -> tuple[dict[str, object], str]:
    """Read leading options from ``line``; return them and the rest of the line (SQL, untouched).

    Raises ``UsageError`` (one line) for an unknown option or a missing or bad value.
    """
    values: dict[str, object] = {}
    pos = 0
    while True:
        m = _OPTION.match(line, pos)
        if not m:
            break
        spelling = m["opt"]
        option = OPTIONS.get(spelling)
        if option is None:
            raise UsageError(f"unknown option {spelling}. {USAGE}")
        pos = m.end()
        if m["eq"] is not None:
            raw = m["eq"]
        elif option.takes_value:
            v = _VALUE.match(line, pos)
            if not v or OPTIONS.get(v["value"]) is not None:
                raise UsageError(f"{spelling} needs a value. {USAGE}")
            raw, pos = _unquote(v["value"]), v.end()
        elif spelling == "--token":
            # a bare --token (end of line or another option next) asks with a hidden prompt
            v = _VALUE.match(line, pos)
            if v and not v["value"].startswith("-"):
                raw, pos = _unquote(v["value"]), v.end()
            else:
                raw = ""
        else:
            raw = option.const  # type: ignore[assignment]
        values[option.dest] = _convert(spelling, option, raw) if isinstance(raw, str) else raw
    return values, line[pos:]


def split_target(text: str) -> tuple[str | None, str]:
    """``df << SELECT ...`` -> ("df", " SELECT ..."); anything else -> (None, text)."""
    m = _TARGET.match(text)
    if m and not m["rest"].startswith("<"):
        return m["target"], m["rest"]
    return None, text
