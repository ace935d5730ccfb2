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

# what each option does and what applies without it, by dest (README's table is generated from this and from
# E6Magic's traits: `python scripts/readme_tables.py`; tests/test_readme.py fails when an option has no entry)
HELP: dict[str, tuple[str, str]] = {
    "out": ("store the result in this variable (same as `NAME <<` before the SQL)", "not stored"),
    "limit": ("fetch at most N rows", "`E6Magic.autolimit`"),
    "catalog": ("catalog for this query", "the connection's"),
    "database": ("database (schema) for this query", "the connection's"),
    "explain": ("run, then show the engine's plan (operators with time and rows)", "off"),
    "dry_run": ("ask the engine to check the SQL without running it", "off"),
    "show_sql": ("show the SQL as it would be sent, with bound values apart; run nothing", "off"),
    "background": ("return at once; `_e6.wait()`, `_e6.cancel()`; the variable is set when it finishes", "off"),
    "file": ("run the SQL in FILE", "the cell's SQL"),
    "jinja": ("render `{{ }}` / `{% %}` Jinja templating from notebook variables first", "off"),
    "alias": ("use the connection profile ALIAS (`~/.e6magic/connections.toml`)",
              "`[default]`, `E6DATA_*`, else embedded"),
    "connect": ("open a connection (with the options below) and make it current", "off"),
    "host": ("with `--connect`: host", "`E6DATA_HOST`"),
    "port": ("with `--connect`: port", "`E6DATA_PORT`, else 443"),
    "cluster": ("with `--connect`: cluster name", "`E6DATA_CLUSTER_NAME`"),
    "secure": ("with `--connect`: TLS", "`E6DATA_SECURE`, else off"),
    "username": ("with `--connect`: user (e-mail)", "`E6DATA_USERNAME`"),
    "token": ("with `--connect`: a bare `--token` asks with a hidden prompt", "`E6DATA_PASSWORD`"),
    "close": ("close every connection (and stop the embedded engine)", ""),
    "refresh": ("read catalog, table and column names again for completion", ""),
    "schema": ("browse catalogs > databases > tables > columns", ""),
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
            raw = option.const
        values[option.dest] = _convert(spelling, option, raw) if isinstance(raw, str) else raw
    return values, line[pos:]


def split_target(text: str) -> tuple[str | None, str]:
    """``df << SELECT ...`` -> ("df", " SELECT ..."); anything else -> (None, text)."""
    m = _TARGET.match(text)
    if m and not m["rest"].startswith("<"):
        return m["target"], m["rest"]
    return None, text
