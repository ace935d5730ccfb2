"""SchemaBrowser on the real local engine: lazy levels, one-query search, row counts, preview grid, worker thread."""
from __future__ import annotations

import threading

import pytest

import e6magic
from e6magic.client.sqltypes import engine_sql_type
from e6magic.widgets import ResultGrid, SchemaBrowser
from e6magic.widgets._schema import MAX_MATCHES, SEP


def names(children):
    return [c["name"] for c in children]


class Recorded:
    """The real connection, with the thread of every call and the SQL of every query written down."""

    def __init__(self, conn):
        self._conn = conn
        self.threads: list[str] = []
        self.sql: list[str] = []

    def __getattr__(self, name):
        attr = getattr(self._conn, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            self.threads.append(threading.current_thread().name)
            result = attr(*args, **kwargs)
            if name == "cursor":
                return RecordedCursor(result, self)
            return result
        return call


class RecordedCursor:
    def __init__(self, cur, owner):
        self._cur, self._owner = cur, owner

    def execute(self, sql, params=None):
        self._owner.sql.append(sql)
        return self._cur.execute(sql, params) if params else self._cur.execute(sql)

    def __getattr__(self, name):
        return getattr(self._cur, name)


@pytest.fixture
def recorded(conn):
    return Recorded(conn)


def opened(conn, **kwargs) -> SchemaBrowser:
    browser = SchemaBrowser(conn, **kwargs)
    browser.wait()
    return browser


def test_levels_load_one_at_a_time(conn, frontend):
    browser = opened(conn)
    assert "demo" in names(browser.nodes[""]) and list(browser.nodes) == [""]
    frontend.clear(browser)
    frontend.send(browser, {"kind": "expand", "path": ["demo"]})
    browser.wait()
    (update,) = frontend.updates(browser)
    assert "main" in names(update["nodes"]["demo"])
    tables = browser.expand(["demo", "main"])
    assert {"customers", "orders", "products", "all_types"} <= set(names(tables))
    columns = browser.expand(["demo", "main", "orders"])
    expected = conn.get_columns("demo", "main", "orders")
    assert [c["name"] for c in columns] == [c["fieldName"] for c in expected]
    # SQL words, not the engine's (long, decimal(18,2)): the grid's headers use the same ones
    assert [c["type"] for c in columns] == [engine_sql_type(c["fieldType"]) for c in expected]
    assert {"BIGINT", "DECIMAL(18,2)"} <= {c["type"] for c in columns} and "long" not in {c["type"] for c in columns}
    assert all(c["kind"] == "column" for c in columns)


def test_search_in_a_fresh_browser_finds_a_column_of_an_unopened_table(recorded, frontend):
    browser = opened(recorded)
    assert SEP.join(["demo", "main", "orders"]) not in browser.nodes  # nothing below the catalogs is loaded
    recorded.sql.clear()
    frontend.send(browser, {"kind": "search", "text": "amount"})
    browser.wait()
    assert {"path": ["demo", "main", "orders", "amount"], "kind": "column", "type": "DECIMAL(18,2)"} in browser.matches
    assert len([s for s in recorded.sql if "information_schema" in s]) == 1  # one engine query for the search
    assert browser.note == "" and browser.searching is False
    # the tree is loaded down to the match, so the view can open it and highlight the column
    assert "amount" in names(browser.nodes[SEP.join(["demo", "main", "orders"])])


def test_tree_and_search_name_every_column_type_alike(conn):
    browser = opened(conn)
    tree = {c["name"]: c["type"] for c in browser.expand(["demo", "main", "all_types"])}
    searched = {m["path"][3]: m["type"] for m in browser.find("_")
                if m["kind"] == "column" and m["path"][2] == "all_types"}
    assert tree and searched
    assert {k: v for k, v in tree.items() if k in searched} == searched  # one vocabulary in both
    assert all(v == v.upper() for v in tree.values()), tree


def test_search_covers_every_level_and_matches_duckdb(conn):
    browser = opened(conn)
    found = browser.find("ORD")
    kinds = {(m["kind"], ".".join(m["path"])) for m in found}
    assert ("table", "demo.main.orders") in kinds
    assert ("column", "demo.main.orders.order_id") in kinds and ("column", "demo.main.orders.ordered_at") in kinds
    assert ("database", "demo.main") in {(m["kind"], ".".join(m["path"])) for m in browser.find("mai")}
    assert ("catalog", "demo") in {(m["kind"], ".".join(m["path"])) for m in browser.find("dem")}
    assert browser.find("   ") == [] and browser.matches == []


@pytest.mark.parametrize("text", ["%", "_", "!", "'", "\\", "a'; DROP TABLE orders; --", "\u00e9\u00e8", "x" * 500])
def test_hostile_search_text_is_a_literal_not_a_pattern(conn, text):
    browser = opened(conn)
    found = browser.find(text)
    assert browser.error == "" and browser.note == ""
    for match in found:
        assert text.strip().lower()[:200] in match["path"][-1].lower()
    assert len(found) <= MAX_MATCHES
    assert "orders" in names(browser.expand(["demo", "main"]))  # still there


def test_tables_show_row_counts_from_one_query(recorded):
    browser = opened(recorded)
    recorded.sql.clear()
    browser.expand(["demo"])
    browser.expand(["demo", "main"])
    counts = browser.counts[SEP.join(["demo", "main"])]
    assert counts["orders"] == 1_000_000 and counts["customers"] == 10_000
    assert len([s for s in recorded.sql if "count(*)" in s]) == 1


def test_preview_is_a_result_grid(conn, frontend):
    browser = opened(conn)
    frontend.send(browser, {"kind": "preview", "path": ["demo", "main", "customers"]})
    assert browser.preview["loading"] is True  # answered at once; the rows come from the worker
    browser.wait()
    preview, grid = browser.preview, browser.preview_grid
    assert preview["error"] == "" and preview["path"] == ["demo", "main", "customers"] and not preview["loading"]
    assert preview["sql"] == 'SELECT * FROM "demo"."main"."customers" LIMIT 100'
    assert isinstance(grid, ResultGrid) and grid.row_count == 100 and grid.page_size == 20
    assert [c["name"] for c in grid.columns] == [c["fieldName"] for c in conn.get_columns("demo", "main", "customers")]
    assert browser.get_state()["preview_grid"] == f"IPY_MODEL_{grid.model_id}"
    frontend.send(browser, {"kind": "preview", "path": ["demo", "main", "orders"]})
    browser.wait()
    assert browser.preview_grid is not grid and grid.comm is None  # the old grid is closed
    page = browser.fallback_html()  # what its saved twin shows
    assert "demo.main.orders" in page


def test_requests_from_the_view_never_call_the_engine_on_the_kernel_thread(recorded, frontend):
    browser = SchemaBrowser(recorded)
    for content in ({"kind": "expand", "path": ["demo"]}, {"kind": "expand", "path": ["demo", "main"]},
                    {"kind": "search", "text": "amount"}, {"kind": "preview", "path": ["demo", "main", "orders"]},
                    {"kind": "refresh"}):
        frontend.send(browser, content)
    browser.wait()
    assert recorded.threads and all(name.startswith("e6-schema") for name in recorded.threads)
    assert browser.matches and browser.preview_grid is not None


def test_refresh_lists_again_and_repeats_the_search(conn, frontend):
    browser = opened(conn)
    browser.expand(["demo"])
    browser.find("amount")
    frontend.send(browser, {"kind": "refresh"})
    browser.wait()
    assert next(iter(browser.nodes)) == "" and SEP.join(["demo", "main", "orders"]) in browser.nodes
    assert {"path": ["demo", "main", "orders", "amount"], "kind": "column", "type": "DECIMAL(18,2)"} in browser.matches


def test_preview_of_a_missing_table_is_an_error_line(conn, engine):
    browser = opened(conn)
    browser.preview_table("demo", "main", 'no_such"table')
    assert browser.preview_grid is None and 'no_such"table' in browser.preview["error"]
    assert "\n" not in browser.preview["error"]
    assert engine.token.reveal() not in str(browser.get_state())  # the state goes to the browser and notebooks


def test_a_closed_connection_is_reported_not_raised(engine):
    connection = e6magic.connect(host="127.0.0.1", port=engine.port, username="widgets@example.com",
                                 password=engine.token.reveal())
    connection.close()
    browser = opened(connection)
    assert browser.error.startswith("could not list catalogs: ") and "\n" not in browser.error
    assert browser.nodes == {}


def test_path_keys_do_not_collide():
    assert SEP.join(["a.b", "c"]) != SEP.join(["a", "b.c"])
