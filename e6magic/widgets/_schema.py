"""SchemaBrowser: catalog > database > table > columns, loaded lazily, with search and a preview."""
from __future__ import annotations

import threading
from typing import Any

import traitlets as t

from e6magic.widgets._base import STATIC, E6Widget, esc, one_line
from e6magic.widgets._cells import table_rows

SEP = "\x1f"  # joins a path into a dict key; cannot occur in a name typed by a user
PREVIEW_ROWS = 20
MAX_MATCHES = 100


class SchemaBrowser(E6Widget):
    """Browse what a connection can see, one level at a time.

    Parameters
    ----------
    conn
        An ``e6magic.connect(...)`` connection: ``get_catalogs()``, ``get_schema_names(catalog)``,
        ``get_tables(catalog, database)``, ``get_columns(catalog, database, table)`` and
        ``cursor()`` for the preview.
    """

    _esm = STATIC / "schema.js"

    nodes = t.Dict().tag(sync=True)     # "" / "cat" / "cat\x1fdb" / ... -> [{"name", "kind", "type"}]
    search = t.Unicode("").tag(sync=True)
    matches = t.List().tag(sync=True)   # [{"path": [...], "kind", "type"}]
    preview = t.Dict().tag(sync=True)   # {"path", "columns", "rows"} of the last previewed table
    error = t.Unicode("").tag(sync=True)

    def __init__(self, conn: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._conn = conn
        self._lock = threading.RLock()
        self.expand([])

    def expand(self, path: list[str]) -> list[dict[str, Any]]:
        """Load (once) and return the children of ``path``: [] lists the catalogs."""
        path = [str(p) for p in path][:3]
        key = SEP.join(path)
        with self._lock:
            if key in self.nodes:
                return self.nodes[key]
            try:
                children = self._load(path)
            except Exception as exc:  # noqa: BLE001 - any client error is shown, one line, not raised into the view
                self.error = f"could not list {'.'.join(path) or 'catalogs'}: {one_line(exc, 300)}"
                return []
            self.error = ""
            self.nodes = {**self.nodes, key: children}
            return children

    def find(self, text: str) -> list[dict[str, Any]]:
        """Tables (and loaded columns) whose name contains ``text``, case-insensitive."""
        needle = text.strip().lower()
        found: list[dict[str, Any]] = []
        with self._lock:
            if needle:
                self._search_into(needle, found)
            with self.hold_sync():
                self.search = text
                self.matches = found
        return found

    def preview_table(self, catalog: str, database: str, table: str) -> None:
        """Run ``SELECT * ... LIMIT 20`` and show the rows under the tree."""
        path = [catalog, database, table]
        sql = f"SELECT * FROM {'.'.join(_quote(p) for p in path)} LIMIT {PREVIEW_ROWS}"
        try:
            cur = self._conn.cursor()
            try:
                cur.execute(sql)
                result = cur.fetch_arrow()
            finally:
                _close(cur)
        except Exception as exc:  # noqa: BLE001
            self.preview = {"path": path, "columns": [], "rows": [], "error": one_line(exc, 300)}
            return
        self.preview = {"path": path, "columns": [{"name": f.name, "type": str(f.type)} for f in result.schema],
                        "rows": table_rows(result), "error": ""}

    def _msg_expand(self, content: dict[str, Any]) -> None:
        self.expand(_path(content))

    def _msg_search(self, content: dict[str, Any]) -> None:
        self.find(str(content.get("text", ""))[:200])

    def _msg_preview(self, content: dict[str, Any]) -> None:
        path = _path(content)
        if len(path) == 3:
            self.preview_table(*path)

    def _load(self, path: list[str]) -> list[dict[str, Any]]:
        conn = self._conn
        if len(path) == 0:
            return [{"name": n, "kind": "catalog", "type": ""} for n in _names(conn.get_catalogs())]
        if len(path) == 1:
            return [{"name": n, "kind": "database", "type": ""} for n in _names(conn.get_schema_names(path[0]))]
        if len(path) == 2:
            return [{"name": n, "kind": "table", "type": ""} for n in _names(conn.get_tables(path[0], path[1]))]
        return [{"name": name, "kind": "column", "type": kind} for name, kind in _columns(conn.get_columns(*path))]

    def _search_into(self, needle: str, found: list[dict[str, Any]]) -> None:
        for cat in self.expand([]):
            for db in self.expand([cat["name"]]):
                base = [cat["name"], db["name"]]
                for table in self.expand(base):
                    if needle in table["name"].lower():
                        found.append({"path": [*base, table["name"]], "kind": "table", "type": ""})
                    for col in self.nodes.get(SEP.join([*base, table["name"]]), []):
                        if needle in col["name"].lower():
                            found.append({"path": [*base, table["name"], col["name"]], "kind": "column",
                                          "type": col["type"]})
                    if len(found) >= MAX_MATCHES:
                        return

    def fallback_text(self) -> str:
        catalogs = [c["name"] for c in self.nodes.get("", [])]
        return f"schema browser: {len(catalogs)} catalogs ({', '.join(catalogs[:10])})"

    def fallback_html(self) -> str:
        items = []
        for cat in self.nodes.get("", []):
            dbs = "".join(f"<li>{esc(db['name'])}</li>" for db in self.nodes.get(cat["name"], []))
            items.append(f"<li>{esc(cat['name'])}{f'<ul>{dbs}</ul>' if dbs else ''}</li>")
        preview = ""
        if self.preview.get("rows"):
            head = "".join(f"<th>{esc(c['name'])}</th>" for c in self.preview["columns"])
            body = "".join("<tr>" + "".join(f"<td>{'' if v is None else esc(v)}</td>" for v in row) + "</tr>"
                           for row in self.preview["rows"][:10])
            preview = (f"<p>{esc('.'.join(self.preview['path']))}</p>"
                       f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
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


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _close(cur: Any) -> None:
    close = getattr(cur, "close", None)
    if close is not None:
        close()
