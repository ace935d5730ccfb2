"""Kernel-side Tab completion of catalog, database, table and column names inside `%%e6sql` cells."""
from __future__ import annotations

import re
import threading
from typing import Any

from IPython.core.completer import SimpleCompletion, SimpleMatcherResult, context_matcher

_WORD = re.compile(r"[\w.\"]*$")
_TABLE_REF = re.compile(r"\b(?:from|join)\s+([\w.\"]+)", re.I)


class SchemaCache:
    """Names from the client's schema calls, cached per connection until ``refresh()``."""

    def __init__(self, session: Any) -> None:
        self._session = session
        self._lock = threading.Lock()
        self._cache: dict[tuple[Any, ...], list[str]] = {}
        self._owner: Any = None

    def refresh(self) -> None:
        with self._lock:
            self._cache.clear()

    def _ask(self, key: tuple[Any, ...], call: Any) -> list[str]:
        connection = self._session.connections.current
        if connection is None:
            return []  # completion never opens a connection or starts the engine
        with self._lock:
            if self._owner is not connection:
                self._cache.clear()
                self._owner = connection
            if key in self._cache:
                return self._cache[key]
        try:
            names = [str(n) for n in call(connection)]
        except Exception:  # noqa: BLE001 - a failing schema call just offers nothing
            names = []
        with self._lock:
            self._cache[key] = names
        return names

    def defaults(self) -> tuple[str | None, str | None]:
        endpoint = self._session.connections.endpoint
        return (getattr(endpoint, "catalog", None), getattr(endpoint, "database", None))

    def catalogs(self) -> list[str]:
        return self._ask(("catalogs",), lambda c: [x["name"] if isinstance(x, dict) else x for x in c.get_catalogs()])

    def databases(self, catalog: str) -> list[str]:
        return self._ask(("databases", catalog), lambda c: c.get_schema_names(catalog))

    def tables(self, catalog: str, database: str) -> list[str]:
        return self._ask(("tables", catalog, database), lambda c: c.get_tables(catalog, database))

    def columns(self, catalog: str, database: str, table: str) -> list[str]:
        def call(c: Any) -> list[str]:
            return [col["fieldName"] if isinstance(col, dict) else str(col)
                    for col in c.get_columns(catalog, database, table)]
        return self._ask(("columns", catalog, database, table), call)

    def resolve_table(self, name: str) -> tuple[str, str, str] | None:
        parts = [p.strip('"') for p in name.split(".")]
        catalog, database = self.defaults()
        if len(parts) == 3:
            return parts[0], parts[1], parts[2]
        if len(parts) == 2 and catalog:
            return catalog, parts[0], parts[1]
        if len(parts) == 1 and catalog and database:
            return catalog, database, parts[0]
        return None


def candidates(cache: SchemaCache, text_before: str, word: str) -> list[str]:
    """Names that complete ``word`` (dotted: catalog.database.table.column) in a cell."""
    catalog, database = cache.defaults()
    parts = word.split(".")
    prefix, stem = parts[:-1], parts[-1]
    pool: list[str] = []
    if not prefix:
        if catalog and database:
            pool += cache.tables(catalog, database)
        pool += cache.catalogs()
        for ref in _TABLE_REF.findall(text_before):
            target = cache.resolve_table(ref)
            if target:
                pool += cache.columns(*target)
    elif len(prefix) == 1:
        head = prefix[0].strip('"')
        if head in cache.catalogs():
            pool += cache.databases(head)
        if catalog and head in cache.databases(catalog):
            pool += cache.tables(catalog, head)
        target = cache.resolve_table(head)
        if target:
            pool += cache.columns(*target)
    elif len(prefix) == 2:
        pool += cache.tables(prefix[0].strip('"'), prefix[1].strip('"'))
        target = cache.resolve_table(".".join(prefix))
        if target:
            pool += cache.columns(*target)
    elif len(prefix) == 3:
        pool += cache.columns(*(p.strip('"') for p in prefix))
    lead = ".".join(prefix) + "." if prefix else ""
    seen: dict[str, None] = {}
    for name in pool:
        if name.lower().startswith(stem.lower()):
            seen.setdefault(lead + name)
    return list(seen)


def make_matcher(cache: SchemaCache) -> Any:
    def e6sql_matcher(context: Any) -> SimpleMatcherResult:
        full = context.full_text
        in_cell = full.lstrip().startswith("%%e6sql") and context.cursor_line > 0
        in_line = context.line_with_cursor.lstrip().startswith("%e6sql ")
        if not (in_cell or in_line):
            return {"completions": [], "suppress": False}
        before = context.line_with_cursor[: context.cursor_position]
        word = _WORD.search(before)
        text = word.group() if word else ""
        names = candidates(cache, full, text)
        return {
            "completions": [SimpleCompletion(text=n, type="e6sql") for n in names],
            "matched_fragment": text,
            "suppress": bool(names),
        }

    # applied here, not as `@`: IPython's decorator is a partial mypy reads as untyped
    return context_matcher()(e6sql_matcher)


def install(shell: Any, session: Any) -> None:
    completer = getattr(shell, "Completer", None)
    if completer is None:
        return
    session.schema = SchemaCache(session)
    matcher = make_matcher(session.schema)
    matcher.e6sql = True
    uninstall(shell)
    completer.custom_matchers.append(matcher)


def uninstall(shell: Any) -> None:
    completer = getattr(shell, "Completer", None)
    if completer is not None:
        completer.custom_matchers[:] = [m for m in completer.custom_matchers if not getattr(m, "e6sql", False)]
