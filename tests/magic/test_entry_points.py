"""The schema browser entry points and how bound strings are quoted for each kind of endpoint."""
from __future__ import annotations

import pytest
from IPython.core.error import UsageError

import e6magic
from e6magic.client import connect


def _session(shell):
    return shell.magics_manager.registry["E6SqlMagics"].session


class TestSchemaBrowser:
    def test_browse_a_client_connection_lists_the_demo_catalog(self, engine):
        conn = connect(host="127.0.0.1", port=engine.port, username="t@example.com", password=engine.token)
        try:
            browser = e6magic.browse(conn)
            browser.wait()  # the catalogs load on the browser's worker, off the kernel's thread
            assert "demo" in [node["name"] for node in browser.nodes[""]]
            assert "orders" in [node["name"] for node in browser.expand(["demo", "main"])]
        finally:
            conn.close()

    def test_browse_without_a_connection_uses_the_magics_current_one(self, ip):
        ip.run_cell("%%e6sql\nSELECT 1 AS one")
        browser = e6magic.browse()
        assert browser._conn is _session(ip).connections.current
        browser.wait()  # the catalogs load on the browser's worker, off the kernel's thread
        assert "demo" in [node["name"] for node in browser.nodes[""]]

    def test_browse_outside_ipython_asks_for_a_connection(self, monkeypatch):
        import IPython

        monkeypatch.setattr(IPython, "get_ipython", lambda: None)
        with pytest.raises(RuntimeError, match="pass conn="):
            e6magic.browse()

    def test_terminal_schema_prints_the_tree(self, ip, capsys):
        ip.run_cell("%e6sql --schema")
        out = capsys.readouterr().out
        lines = out.splitlines()
        assert "demo" in lines and "  main" in lines and "    orders" in lines

    def test_schema_with_nothing_configured_starts_the_embedded_engine(self, bare_ip, capsys):
        bare_ip.run_cell("%e6sql --schema")
        out = capsys.readouterr().out
        assert "embedded local engine" in out and "    orders" in out
        assert _session(bare_ip).connections.engine is not None

    def test_schema_and_sql_together_is_a_usage_error(self, ip):
        with pytest.raises(UsageError, match="--schema"):
            ip.run_cell("%e6sql --schema SELECT 1")


BACKSLASHED = "C:\\temp\\'; SELECT 1; --\n\\'"


class TestOneWayToBindStrings:
    """Strings are bound one way for every endpoint (the local engine reads e6data's literals), so a value
    comes back as itself whether the cell runs on the embedded engine or on an endpoint from the environment."""

    def test_embedded_engine(self, bare_ip):
        bare_ip.user_ns["value"] = BACKSLASHED
        bare_ip.run_cell("%%e6sql r <<\nSELECT :value AS v")
        assert bare_ip.user_ns["r"]["v"].tolist() == [BACKSLASHED]

    def test_environment_endpoint(self, ip):
        ip.user_ns["value"] = BACKSLASHED
        ip.run_cell("%%e6sql r <<\nSELECT :value AS v")
        assert ip.user_ns["r"]["v"].tolist() == [BACKSLASHED]

    def test_the_old_switch_is_gone(self, ip, engine):
        with pytest.raises(UsageError, match="no-backslash-escapes"):
            ip.run_cell(f"%e6sql --connect --host 127.0.0.1 --port {engine.port} --no-backslash-escapes")


def test_schema_in_a_kernel_shows_the_browser_widget(ip, monkeypatch):
    import e6magic.widgets

    shown = []

    class RecordedBrowser(e6magic.widgets.SchemaBrowser):
        def show(self):
            shown.append(self)
            super().show()

    monkeypatch.setattr(ip, "kernel", object(), raising=False)
    monkeypatch.setattr(e6magic.widgets, "SchemaBrowser", RecordedBrowser)
    ip.run_cell("%config E6Magic.widgets = True")
    ip.run_cell("%e6sql --schema")
    [browser] = shown
    assert browser._conn is _session(ip).connections.current
    browser.wait()  # the catalogs load on the browser's worker, off the kernel's thread
    assert "demo" in [node["name"] for node in browser.nodes[""]]
