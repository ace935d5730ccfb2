"""SchemaBrowser: catalog > database > table > columns, loaded lazily on a worker, searched with one engine query."""
from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import traitlets as t
from ipywidgets import widget_serialization  # type: ignore[import-untyped]

from e6magic.client.params import identifier
from e6magic.client.params import literal as _literal
from e6magic.client.sqltypes import engine_sql_type
from e6magic.widgets._base import STATIC, E6Widget, esc, one_line
from e6magic.widgets._filter import like_escape as _like_escape
from e6magic.widgets._grid import ResultGrid

SEP = "\x1f"  # joins a path into a dict key; cannot occur in a name typed by a user
PREVIEW_ROWS = 100
PREVIEW_PAGE = 20
MAX_MATCHES = 100
MAX_SEARCH_CHARS = 200
REVEAL_TABLES = 10   # a search opens the tree down to the matches of this many tables
MAX_COUNTED = 50     # row counts: one query for at most this many tables of a database

# One query over information_schema: databases, tables and columns whose name contains the text, in the
# catalogs the connection lists. {catalogs} is a list of bound parameters, never names pasted in.
SEARCH_SQL = """SELECT kind, catalog_name, database_name, table_name, column_name, data_type FROM (
  SELECT 1 AS rank, 'database' AS kind, catalog_name, schema_name AS database_name,
         CAST(NULL AS VARCHAR) AS table_name, CAST(NULL AS VARCHAR) AS column_name, CAST(NULL AS VARCHAR) AS data_type
  FROM information_schema.schemata
  WHERE catalog_name IN ({catalogs}) AND lower(schema_name) LIKE %(pattern)s ESCAPE '!'
  UNION ALL
  SELECT 2, 'table', table_catalog, table_schema, table_name, NULL, NULL
  FROM information_schema.tables
  WHERE table_catalog IN ({catalogs}) AND lower(table_name) LIKE %(pattern)s ESCAPE '!'
  UNION ALL
  SELECT 3, 'column', table_catalog, table_schema, table_name, column_name, data_type
  FROM information_schema.columns
  WHERE table_catalog IN ({catalogs}) AND lower(column_name) LIKE %(pattern)s ESCAPE '!'
) found ORDER BY rank, catalog_name, database_name, table_name, column_name LIMIT {limit}"""


class SchemaBrowser(E6Widget):
    """Browse and search what a connection can see.

    Parameters
    ----------
    conn
        An ``e6magic.connect(...)`` connection: ``get_catalogs()``, ``get_schema_names(catalog)``,
        ``get_tables(catalog, database)``, ``get_columns(catalog, database, table)`` and ``cursor()``
        for the search, the row counts and the preview.
    row_counts
        Count the rows of a database's tables (one query) when it is opened.

    Every request from the view (expand, search, preview, refresh) runs on one worker thread and posts
    its result back as state, so the kernel's thread never waits for the engine. Called from Python,
    the same methods run on the caller's thread and return their result.
    """

    _esm = STATIC / "schema.js"

    nodes = t.Dict().tag(sync=True)     # "" / "cat" / "cat\x1fdb" / ... -> [{"name", "kind", "type"}]
    counts = t.Dict().tag(sync=True)    # "cat\x1fdb" -> {table: rows}
    search = t.Unicode("").tag(sync=True)
    matches: t.List[Any] = t.List().tag(sync=True)  # [{"path": [...], "kind", "type"}]
    searching = t.Bool(False).tag(sync=True)
    note = t.Unicode("").tag(sync=True)  # e.g. the search fell back to the loaded tree
    preview = t.Dict().tag(sync=True)   # {"path", "error", "loading", "sql"} of the last previewed table
    preview_grid = t.Instance(ResultGrid, allow_none=True).tag(sync=True, **widget_serialization)
    error = t.Unicode("").tag(sync=True)

    def __init__(self, conn: Any, *, row_counts: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._conn = conn
        self._row_counts = row_counts
        self._lock = threading.RLock()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="e6-schema")
        self._search_generation = 0
        self._pending: list[Future[Any]] = []
        self._post(self.expand, [])

    # -- what the view asks for: queued on the worker ------------------------------------
    def _post(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        future = self._worker.submit(fn, *args)
        with self._lock:
            self._pending = [f for f in self._pending if not f.done()] + [future]
        return future

    def wait(self, timeout: float | None = 30) -> None:
        """Wait until the requests queued so far have been answered (for scripts and tests)."""
        with self._lock:
            pending = list(self._pending)
        for future in pending:
            future.result(timeout)

    def _msg_expand(self, content: dict[str, Any]) -> None:
        self._post(self.expand, _path(content))

    def _msg_search(self, content: dict[str, Any]) -> None:
        text = str(content.get("text", ""))[:MAX_SEARCH_CHARS]
        with self._lock:
            self._search_generation += 1
            generation = self._search_generation
        self.searching = bool(text.strip())
        self._post(self._search_if_current, text, generation)

    def _msg_preview(self, content: dict[str, Any]) -> None:
        path = _path(content)
        if len(path) >= 3:
            self.preview = {"path": path[:3], "error": "", "loading": True, "sql": _preview_sql(path[:3])}
            self._post(self.preview_table, *path[:3])

    def _msg_refresh(self, _content: dict[str, Any]) -> None:
        self._post(self.refresh)

    # -- the work: any thread --------------------------------------------------------------
    def expand(self, path: list[str]) -> list[dict[str, Any]]:
        """Load (once) and return the children of ``path``: [] lists the catalogs."""
        path = [str(p) for p in path][:3]
        key = SEP.join(path)
        with self._lock:
            if key in self.nodes:
                return list(self.nodes[key])
        try:
            children = self._load(path)
        except Exception as exc:  # noqa: BLE001 - any client error is shown, one line, not raised into the view
            self.error = f"could not list {'.'.join(path) or 'catalogs'}: {one_line(exc, 300)}"
            return []
        with self._lock:
            self.error = ""
            self.nodes = {**self.nodes, key: children}
        if len(path) == 2 and self._row_counts and children:
            self.count_rows(*path)
        return children

    def count_rows(self, catalog: str, database: str) -> dict[str, int]:
        """Row counts of the database's tables (the first ``MAX_COUNTED``), in one query."""
        tables = [c["name"] for c in self.nodes.get(SEP.join([catalog, database]), [])][:MAX_COUNTED]
        if not tables:
            return {}
        sql = " UNION ALL ".join(
            f"SELECT {_literal(name)} AS t, count(*) AS n FROM {_qualified([catalog, database, name])}"
            for name in tables)
        try:
            rows = self._query(sql)
        except Exception:  # noqa: BLE001 - a table that cannot be counted (a view on a gone file) leaves counts out
            return {}
        found = {str(name): int(n) for name, n in rows}
        with self._lock:
            self.counts = {**self.counts, SEP.join([catalog, database]): found}
        return found

    def find(self, text: str) -> list[dict[str, Any]]:
        """Catalogs, databases, tables and columns whose name contains ``text`` (case-insensitive).

        One query over the engine's information_schema; where the engine has none, the tree is walked
        (tables of every database, columns of loaded tables only) and ``note`` says so.
        """
        needle = text.strip().lower()[:MAX_SEARCH_CHARS]
        found: list[dict[str, Any]] = []
        note = ""
        if needle:
            catalogs = [c["name"] for c in self.expand([])]
            found = [{"path": [c], "kind": "catalog", "type": ""} for c in catalogs if needle in c.lower()]
            try:
                found += self._search_engine(needle, catalogs)
            except Exception as exc:  # noqa: BLE001 - no information_schema: walk what can be listed
                note = f"searched the tree (columns of opened tables only): {one_line(exc, 300)}"
                found = found + self._search_tree(needle)
            found = found[:MAX_MATCHES]
        with self.hold_sync():
            self.search, self.matches, self.note, self.searching = text, found, note, False
        self._reveal(found)
        return found

    def preview_table(self, catalog: str, database: str, table: str) -> ResultGrid | None:
        """The first ``PREVIEW_ROWS`` rows in a result grid, shown under the table in the tree."""
        path = [catalog, database, table]
        sql = _preview_sql(path)
        try:
            cur = self._conn.cursor()
            try:
                cur.execute(sql)
                result = cur.fetch_arrow()
            finally:
                _close(cur)
        except Exception as exc:  # noqa: BLE001
            self.preview = {"path": path, "error": one_line(exc, 300), "loading": False, "sql": sql}
            return None
        grid = ResultGrid(result, page_size=PREVIEW_PAGE)
        old = self.preview_grid
        with self.hold_sync():
            self.preview_grid = grid
            self.preview = {"path": path, "error": "", "loading": False, "sql": sql}
        if old is not None:
            old.close()
        return grid

    def refresh(self) -> None:
        """Forget what was loaded, list the catalogs again, and repeat the search."""
        with self._lock:
            self.nodes, self.counts = {}, {}
        self.expand([])
        if self.search.strip():
            self.find(self.search)

    def close(self) -> None:
        self._worker.shutdown(wait=False, cancel_futures=True)
        if self.preview_grid is not None:
            self.preview_grid.close()
        super().close()

    def _search_if_current(self, text: str, generation: int) -> None:
        if generation == self._search_generation:  # a newer keystroke supersedes this one
            self.find(text)

    def _search_engine(self, needle: str, catalogs: list[str]) -> list[dict[str, Any]]:
        if not catalogs:
            return []
        params: dict[str, Any] = {f"c{i}": name for i, name in enumerate(catalogs)}
        params["pattern"] = "%" + _like_escape(needle) + "%"
        sql = SEARCH_SQL.format(catalogs=", ".join(f"%(c{i})s" for i in range(len(catalogs))), limit=MAX_MATCHES)
        found = []
        for kind, cat, db, table, column, kind_of in self._query(sql, params):
            path = [p for p in (cat, db, table, column) if p is not None]
            found.append({"path": [str(p) for p in path], "kind": str(kind), "type": _sql_type(kind_of)})
        return found

    def _search_tree(self, needle: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for cat in self.expand([]):
            for db in self.expand([cat["name"]]):
                base = [cat["name"], db["name"]]
                if needle in db["name"].lower():
                    found.append({"path": base, "kind": "database", "type": ""})
                for table in self.expand(base):
                    if needle in table["name"].lower():
                        found.append({"path": [*base, table["name"]], "kind": "table", "type": ""})
                    for col in self.nodes.get(SEP.join([*base, table["name"]]), []):
                        if needle in col["name"].lower():
                            found.append({"path": [*base, table["name"], col["name"]], "kind": "column",
                                          "type": col["type"]})
                    if len(found) >= MAX_MATCHES:
                        return found
        return found

    def _reveal(self, found: list[dict[str, Any]]) -> None:
        # load the levels above the first matches, so the tree can open down to them
        tables: list[list[str]] = []
        for match in found:
            table = match["path"][:3]
            if len(match["path"]) == 4 and table not in tables:
                tables.append(table)
        for table in tables[:REVEAL_TABLES]:
            for depth in range(1, 4):
                self.expand(table[:depth])

    def _query(self, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        cur = self._conn.cursor()
        try:
            cur.execute(sql, params) if params else cur.execute(sql)
            return [tuple(row) for row in cur.fetchall()]
        finally:
            _close(cur)

    def _load(self, path: list[str]) -> list[dict[str, Any]]:
        conn = self._conn
        if len(path) == 0:
            return [{"name": n, "kind": "catalog", "type": ""} for n in _names(conn.get_catalogs())]
        if len(path) == 1:
            return [{"name": n, "kind": "database", "type": ""} for n in _names(conn.get_schema_names(path[0]))]
        if len(path) == 2:
            return [{"name": n, "kind": "table", "type": ""} for n in _names(conn.get_tables(path[0], path[1]))]
        return [{"name": name, "kind": "column", "type": _sql_type(kind)}
                for name, kind in _columns(conn.get_columns(*path))]

    def fallback_text(self) -> str:
        catalogs = [c["name"] for c in self.nodes.get("", [])]
        return f"schema browser: {len(catalogs)} catalogs ({', '.join(catalogs[:10])})"

    def fallback_html(self) -> str:
        items = []
        for cat in self.nodes.get("", []):
            dbs = "".join(f"<li>{esc(db['name'])}</li>" for db in self.nodes.get(cat["name"], []))
            items.append(f"<li>{esc(cat['name'])}{f'<ul>{dbs}</ul>' if dbs else ''}</li>")
        preview = ""
        if self.preview_grid is not None and self.preview.get("path"):
            preview = f"<p>{esc('.'.join(self.preview['path']))}</p>{self.preview_grid.fallback_html()}"
        return f'<div class="e6-schema"><ul>{"".join(items)}</ul>{preview}</div>'


def _names(result: Any) -> list[str]:
    """Names from a list of str, of dicts, or of 1-tuples (connectors disagree)."""
    names = []
    for item in result or []:
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, dict):
            value = next((item[k] for k in ("name", "catalog", "schema", "database", "table", "tableName",
                                            "schemaName", "catalogName") if k in item), None)
            if value is not None:
                names.append(str(value))
        elif isinstance(item, (tuple, list)) and item:
            names.append(str(item[0]))
    return names


def _sql_type(name: str | None) -> str:
    """One vocabulary in the tree and the search (getColumns says ``long``, information_schema ``BIGINT``)."""
    return engine_sql_type(name) if name else ""


def _columns(result: Any) -> list[tuple[str, str]]:
    out = []
    for item in result or []:
        if isinstance(item, dict):
            name = item.get("fieldName", item.get("name", item.get("column_name")))
            kind = item.get("fieldType", item.get("type", item.get("data_type", "")))
            if name is not None:
                out.append((str(name), str(kind)))
        elif isinstance(item, (tuple, list)) and item:
            out.append((str(item[0]), str(item[1]) if len(item) > 1 else ""))
    return out


def _path(content: dict[str, Any]) -> list[str]:
    path = content.get("path")
    return [str(p) for p in path][:4] if isinstance(path, list) else []


def _qualified(path: list[str]) -> str:
    return ".".join(identifier(p) for p in path)


def _preview_sql(path: list[str]) -> str:
    return f"SELECT * FROM {_qualified(path)} LIMIT {PREVIEW_ROWS}"


def _close(cur: Any) -> None:
    close = getattr(cur, "close", None)
    if close is not None:
        close()
