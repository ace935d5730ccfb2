"""SchemaBrowser on the real local engine: lazy levels, search, preview, errors that stay in the widget."""
from __future__ import annotations


import e6magic
from e6magic.widgets import SchemaBrowser
from e6magic.widgets._schema import SEP


def names(children):
    return [c["name"] for c in children]


def test_levels_load_one_at_a_time(conn, frontend):
    browser = SchemaBrowser(conn)
    assert "demo" in names(browser.nodes[""]) and list(browser.nodes) == [""]
    frontend.clear(browser)
    frontend.send(browser, {"kind": "expand", "path": ["demo"]})
    (update,) = frontend.updates(browser)
    assert "main" in names(update["nodes"]["demo"])
    tables = browser.expand(["demo", "main"])
    assert {"customers", "orders", "products", "all_types"} <= set(names(tables))
    columns = browser.expand(["demo", "main", "orders"])
    expected = conn.get_columns("demo", "main", "orders")
    assert [(c["name"], c["type"]) for c in columns] == [(c["fieldName"], c["fieldType"]) for c in expected]
    assert all(c["kind"] == "column" for c in columns)


def test_search_finds_tables_then_loaded_columns(conn, frontend):
    browser = SchemaBrowser(conn)
    frontend.send(browser, {"kind": "search", "text": "ORD"})
    assert {"path": ["demo", "main", "orders"], "kind": "table", "type": ""} in browser.matches
    column = browser.expand(["demo", "main", "orders"])[0]
    found = browser.find(column["name"])
    assert {"path": ["demo", "main", "orders", column["name"]], "kind": "column", "type": column["type"]} in found
    assert browser.find("   ") == [] and browser.matches == []


def test_preview_shows_the_first_rows(conn, frontend):
    browser = SchemaBrowser(conn)
    frontend.send(browser, {"kind": "preview", "path": ["demo", "main", "customers"]})
    preview = browser.preview
    assert preview["error"] == "" and preview["path"] == ["demo", "main", "customers"]
    assert len(preview["rows"]) == 20
    assert [c["name"] for c in preview["columns"]] == [c["fieldName"] for c in conn.get_columns("demo", "main", "customers")]
    page = browser._repr_mimebundle_()[0]["text/html"]
    assert "demo.main.customers" in page and page.count("<tr>") == 11  # header + 10 rows


def test_preview_of_a_missing_table_is_an_error_line(conn, engine):
    browser = SchemaBrowser(conn)
    browser.preview_table("demo", "main", 'no_such"table')
    assert browser.preview["rows"] == [] and 'no_such"table' in browser.preview["error"]
    assert "\n" not in browser.preview["error"]
    assert engine.token not in str(browser.get_state())  # the state is sent to the browser and saved in notebooks


def test_a_closed_connection_is_reported_not_raised(engine):
    connection = e6magic.connect(host="127.0.0.1", port=engine.port, username="widgets@example.com",
                                 password=engine.token)
    connection.close()
    browser = SchemaBrowser(connection)
    assert browser.error.startswith("could not list catalogs: ") and "\n" not in browser.error
    assert browser.nodes == {}


def test_path_keys_do_not_collide():
    assert SEP.join(["a.b", "c"]) != SEP.join(["a", "b.c"])
