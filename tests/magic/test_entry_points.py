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
            assert "demo" in [node["name"] for node in browser.nodes[""]]
            assert "orders" in [node["name"] for node in browser.expand(["demo", "main"])]
        finally:
            conn.close()

    def test_browse_without_a_connection_uses_the_magics_current_one(self, ip):
        ip.run_cell("%%e6sql\nSELECT 1 AS one")
        browser = e6magic.browse()
        assert browser._conn is _session(ip).connections.current
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


BACKSLASHED = "C:\\temp\\'; SELECT 1; --"


class TestBackslashEscapes:
    def test_embedded_engine_binds_standard_sql(self, bare_ip):
        bare_ip.user_ns["value"] = BACKSLASHED
        bare_ip.run_cell("%%e6sql r <<\nSELECT :value AS v")
        assert _session(bare_ip).connections.current.backslash_escapes is False
        assert bare_ip.user_ns["r"]["v"].tolist() == [BACKSLASHED]

    def test_environment_endpoint_defaults_to_backslash_escapes(self, ip, monkeypatch):
        monkeypatch.delenv("E6DATA_BACKSLASH_ESCAPES")
        ip.run_cell("%%e6sql\nSELECT 1 AS one")
        assert _session(ip).connections.current.backslash_escapes is True

    def test_environment_can_turn_it_off(self, ip):
        ip.run_cell("%%e6sql\nSELECT 1 AS one")
        assert _session(ip).connections.current.backslash_escapes is False

    def test_the_choice_changes_what_duckdb_reads(self, ip, monkeypatch):
        # DuckDB reads standard SQL, so the doubled backslashes of the cluster mode come back doubled:
        # proof the setting reaches the binding (and the value still cannot end its literal early)
        monkeypatch.setenv("E6DATA_BACKSLASH_ESCAPES", "true")
        ip.user_ns["value"] = "a\\b'c"
        ip.run_cell("%%e6sql r <<\nSELECT :value AS v")
        assert ip.user_ns["r"]["v"].tolist() == ["a\\\\b'c"]

    @pytest.mark.parametrize(("setting", "expected"), [("", True), ("backslash_escapes = false\n", False),
                                                        ("backslash_escapes = true\n", True)])
    def test_profile_key(self, bare_ip, engine, tmp_path, monkeypatch, setting, expected):
        path = tmp_path / "connections.toml"
        path.write_text(f'[default]\nhost = "127.0.0.1"\nport = {engine.port}\ntoken = "{engine.token}"\n'
                        f'catalog = "demo"\n{setting}', encoding="utf-8")
        monkeypatch.setenv("E6MAGIC_PROFILES", str(path))
        bare_ip.run_cell("%%e6sql\nSELECT 1 AS one")
        assert _session(bare_ip).connections.current.backslash_escapes is expected

    def test_profile_key_must_be_a_boolean(self, bare_ip, engine, tmp_path, monkeypatch):
        path = tmp_path / "connections.toml"
        path.write_text(f'[default]\nhost = "127.0.0.1"\nport = {engine.port}\nbackslash_escapes = "maybe"\n',
                        encoding="utf-8")
        monkeypatch.setenv("E6MAGIC_PROFILES", str(path))
        with pytest.raises(UsageError, match="backslash_escapes must be true or false"):
            bare_ip.run_cell("%%e6sql\nSELECT 1 AS one")

    @pytest.mark.parametrize(("option", "expected"), [("", True), ("--no-backslash-escapes", False),
                                                      ("--backslash-escapes", True)])
    def test_connect_option(self, ip, engine, monkeypatch, option, expected):
        monkeypatch.delenv("E6DATA_BACKSLASH_ESCAPES")  # --connect fills in from the environment
        ip.run_cell(f"%e6sql --connect --host 127.0.0.1 --port {engine.port} --token {engine.token} {option}")
        assert _session(ip).connections.current.backslash_escapes is expected

    def test_option_needs_connect(self, ip):
        with pytest.raises(UsageError, match="only work with --connect"):
            ip.run_cell("%e6sql --no-backslash-escapes SELECT 1")


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
    assert "demo" in [node["name"] for node in browser.nodes[""]]
