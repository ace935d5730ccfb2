"""%%e6sql in a real IPython shell against the local engine over gRPC: options, variables, errors."""
from __future__ import annotations

import _thread
import pickle
import socket
import threading
import time

import pandas as pd
import pytest
from IPython.core.error import UsageError

from e6magic.client.exceptions import (CancelNotConfirmed, CredentialsRefused, DatabaseError, ObjectNotFound,
                                       OperationalError, ProgrammingError, QueryCancelled)
from e6magic.magic import errors

LONG_QUERY = "SELECT sum(hash(range)) AS h FROM range(1000000000000)"  # hours of work: only a cancel ends it


def _wait_no_queries(engine, timeout=10.0):
    """The engine's registry once the magic's cancel/clear has reached it (polled, not timed)."""
    deadline = time.monotonic() + timeout
    while engine.queries() and time.monotonic() < deadline:
        time.sleep(0.05)
    return engine.queries()


class TestResults:
    def test_cell_shows_rows_and_keeps_the_last_query(self, ip, engine, capsys):
        ip.run_cell("%%e6sql\nSELECT 41 + 1 AS answer, 'hi' AS word")
        last = ip.user_ns["_e6"]
        assert last.to_pandas().to_dict("records") == [{"answer": 42, "word": "hi"}]
        assert last.row_count == 1
        assert last.query_id
        assert last.sql == "SELECT 41 + 1 AS answer, 'hi' AS word"
        assert set(last.timings) >= {"parse", "execution", "fetch", "total"}
        out = capsys.readouterr().out
        assert "answer" in out and "1 row" in out

    def test_output_variable_forms_give_dataframes_with_the_right_dtypes(self, ip):
        sql = "SELECT 1::BIGINT AS i, 2.5::DOUBLE AS f, 'x' AS s, DATE '2024-01-02' AS d, TRUE AS b"
        ip.run_cell(f"%%e6sql df <<\n{sql}")
        ip.run_cell(f"%%e6sql -o df2\n{sql}")
        ip.run_cell(f"df3 = %e6sql {sql}")
        for name in ("df", "df2", "df3"):
            df = ip.user_ns[name]
            assert isinstance(df, pd.DataFrame), name
            assert str(df["i"].dtype) == "int64"
            assert str(df["f"].dtype) == "float64"
            assert str(df["b"].dtype) == "bool"
            assert df["s"].tolist() == ["x"]
            assert df.shape == (1, 5)

    @pytest.mark.parametrize("shown", ["%%e6sql", "%%e6sql --limit 10"], ids=["shown", "limited"])
    @pytest.mark.parametrize("output", ["pandas", "polars", "arrow"])
    def test_e6_to_pandas_is_the_frame_df_assignment_gives(self, ip, output, shown):
        # one conversion: decimals float64, dates and timestamps datetime64, whatever route the result took
        sql = ("SELECT i, (i / 100)::DECIMAL(18, 2) AS amount, 12.5::DECIMAL(5, 1) AS small, DATE '2024-01-02' + "
               "i::INTEGER AS d, TIMESTAMP '2024-01-02 03:04:05' AS ts, TIMESTAMPTZ '2024-01-02 03:04:05+00' AS tz, "
               "'r' || i AS label, i % 2 = 0 AS even, [i] AS a FROM range(10) t(i) ORDER BY i")
        ip.run_cell(f"%%e6sql df <<\n{sql}").raise_error()
        expected = ip.user_ns["df"]
        assert [str(t) for t in expected.dtypes[["amount", "small", "d", "ts"]]] == [
            "float64", "float64", "datetime64[ms]", "datetime64[us]"]
        ip.run_cell(f"%config E6Magic.output = '{output}'")
        ip.run_cell(f"{shown}\n{sql}").raise_error()
        pd.testing.assert_frame_equal(ip.user_ns["_e6"].to_pandas(), expected)
        ip.run_cell(f"%%e6sql again <<\n{sql}").raise_error()
        pd.testing.assert_frame_equal(ip.user_ns["_e6"].to_pandas(), expected)

    def test_assigned_dataframe_is_the_only_copy_kept(self, ip):
        sql = ("SELECT i, (i / 100)::DECIMAL(18, 2) AS amount, 'r' || i AS label FROM range(300000) t(i)")
        ip.run_cell(f"%%e6sql df <<\n{sql}").raise_error()
        df, last = ip.user_ns["df"], ip.user_ns["_e6"]
        assert last.table is None and last.to_pandas() is df  # no Arrow copy of the result left in the kernel
        assert last.row_count == 300_000 and last.state == "finished"
        assert str(df["amount"].dtype) == "float64" and df["amount"].iloc[-1] == 2999.99
        assert last.to_arrow().column("label")[-1].as_py() == "r299999"

    @pytest.mark.parametrize("cell", ["%%e6sql", "%%e6sql df <<"], ids=["shown", "assigned"])
    def test_e6_columns_name_the_sql_types(self, ip, cell):
        sql = "SELECT c_bigint, c_smallint, c_decimal, c_timestamptz FROM demo.main.all_types"
        ip.run_cell(f"{cell}\n{sql}").raise_error()
        assert ip.user_ns["_e6"].columns == [
            ("c_bigint", "BIGINT"), ("c_smallint", "SMALLINT"), ("c_decimal", "DECIMAL(18,2)"),
            ("c_timestamptz", "TIMESTAMP WITH TIME ZONE")]

    def test_arrow_output(self, ip):
        ip.run_cell("%config E6Magic.output = 'arrow'")
        ip.run_cell("%%e6sql t <<\nSELECT 7 AS seven")
        assert ip.user_ns["t"].to_pylist() == [{"seven": 7}]

    def test_several_statements_return_the_last(self, ip):
        ip.run_cell("%%e6sql out <<\nSELECT 1 AS first; -- a comment; with a semicolon\nSELECT 'a;b' AS last_one;")
        assert ip.user_ns["out"].to_dict("records") == [{"last_one": "a;b"}]

    def test_demo_catalog_is_there(self, ip):
        ip.run_cell("%%e6sql n <<\nSELECT count(*) AS n FROM demo.main.customers")
        assert int(ip.user_ns["n"]["n"][0]) > 0

    def test_limit_caps_the_fetch_and_frees_the_engine(self, ip, engine):
        ip.run_cell("%%e6sql --limit 10 df <<\nSELECT * FROM range(5000000)")
        assert len(ip.user_ns["df"]) == 10
        assert _wait_no_queries(engine) == {}

    def test_autolimit_and_display_limit(self, ip, capsys):
        ip.run_cell("%config E6Magic.autolimit = 25")
        ip.run_cell("%config E6Magic.display_limit = 3")
        ip.run_cell("%%e6sql\nSELECT * FROM range(100)")
        assert ip.user_ns["_e6"].row_count == 25
        assert "first 3 shown · 25 rows · 1 column · " in capsys.readouterr().out

    def test_sql_file(self, ip, tmp_path):
        (tmp_path / "q.sql").write_text("-- from a file\nSELECT 3 AS three;\n")
        ip.run_cell(f"%e6sql -f {tmp_path / 'q.sql'} -o x")
        assert ip.user_ns["x"]["three"].tolist() == [3]

    def test_catalog_and_database_options(self, ip):
        ip.run_cell("%%e6sql --catalog demo --database main n <<\nSELECT count(*) AS n FROM customers")
        assert int(ip.user_ns["n"]["n"][0]) > 0


class TestParameters:
    @pytest.mark.parametrize("hostile", [
        "x'); DROP TABLE customers; --",
        "' OR '1'='1",
        "\\'; SELECT 1; --",
        "100% :other {{ x }} $x",
        "line\nbreak'\"`",
    ])
    def test_a_hostile_value_comes_back_as_itself(self, ip, hostile):
        ip.user_ns["value"] = hostile
        ip.run_cell("%%e6sql r <<\nSELECT :value AS v")
        assert ip.user_ns["r"]["v"].tolist() == [hostile]
        ip.run_cell("%%e6sql c <<\nSELECT count(*) AS n FROM demo.main.customers")
        assert int(ip.user_ns["c"]["n"][0]) > 0

    def test_numbers_and_none_bind_by_type(self, ip):
        ip.user_ns.update(n=5, f=0.5, nothing=None)
        ip.run_cell("%%e6sql r <<\nSELECT :n + 1 AS n1, :f * 2 AS f2, :nothing IS NULL AS isnull")
        assert ip.user_ns["r"].to_dict("records") == [{"n1": 6, "f2": 1.0, "isnull": True}]

    def test_casts_strings_and_comments_are_not_parameters(self, ip):
        ip.run_cell("%%e6sql r <<\nSELECT '1'::INTEGER AS a, ':nope' AS b -- :nope\n")
        assert ip.user_ns["r"].to_dict("records") == [{"a": 1, "b": ":nope"}]

    def test_undefined_parameter_fails_before_running(self, ip, engine):
        with pytest.raises(UsageError, match="parameter :missing is not defined"):
            ip.run_cell("%%e6sql\nSELECT :missing")

    def test_templating_only_with_j(self, ip):
        ip.user_ns["table"] = "demo.main.customers"
        ip.run_cell("%%e6sql -j r <<\nSELECT count(*) AS n FROM {{ table }}")
        assert int(ip.user_ns["r"]["n"][0]) > 0
        with pytest.raises(Exception):  # without -j the braces reach the engine as SQL
            ip.run_cell("%%e6sql\nSELECT count(*) FROM {{ table }}")

    def test_show_sql_shows_placeholders_and_runs_nothing(self, ip, capsys):
        ip.user_ns["who"] = "o'brien"
        ip.run_cell("%%e6sql --show-sql\nSELECT :who AS w")
        out = capsys.readouterr().out
        assert "SELECT %(who)s AS w;" in out
        assert "-- :who = \"o'brien\"" in out
        assert "_e6" not in ip.user_ns


class TestErrors:
    def test_unknown_table_shows_the_engine_text_the_query_id_once_and_the_table_hint(self, ip):
        with pytest.raises(DatabaseError) as excinfo:
            ip.run_cell("%%e6sql\nSELECT * FROM no_such_table")
        text = str(excinfo.value)
        qid = ip.user_ns["_e6"].query_id
        assert text.splitlines() == [
            f"Catalog Error: Table with name no_such_table does not exist! (query id: {qid})",
            'Did you mean "pg_tables"?',
            errors.HINT_TABLE,
        ]
        assert excinfo.value._render_traceback_() == [f"\x1b[0;31m{type(excinfo.value).__name__}\x1b[0m: {text}"]

    def test_a_syntax_error_keeps_its_caret_line_under_the_word_and_gets_no_misfit_hint(self, ip):
        with pytest.raises(ProgrammingError) as excinfo:
            ip.run_cell("%%e6sql\nSELECT 1 FROM range(3) WHERE select")
        lines = str(excinfo.value).splitlines()
        assert lines[0].startswith('Parser Error: syntax error at or near "select" (query id: ')
        assert str(excinfo.value).count("query id") == 1
        where, caret = lines[1], lines[2]
        assert where == "LINE 1: SELECT 1 FROM range(3) WHERE select"
        assert caret.strip() == "^^^^^^" and caret.index("^") == where.index("select")  # points at the word
        assert "hint" not in str(excinfo.value)  # a reserved word: nothing to do with :name or ::

    @pytest.mark.parametrize("sql", ["SELECT 1 :", "SELECT 1 ::", "SELECT {{x}}"])
    def test_the_parameter_hint_where_the_parser_stopped_at_a_colon_or_brace(self, ip, sql):
        with pytest.raises(ProgrammingError) as excinfo:
            ip.run_cell(f"%%e6sql\n{sql}")
        assert str(excinfo.value).splitlines()[-1] == errors.HINT_SYNTAX

    def test_the_short_error_is_the_clients_own_class_and_pickles(self, ip):
        try:
            ip.run_cell("%%e6sql\nSELECT * FROM no_such_table")
        except ObjectNotFound as caught:  # user code's `except` on the client's class
            error = caught
        assert type(error) is ObjectNotFound and type(error).__module__ == "e6magic.client.exceptions"
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is ObjectNotFound
        assert (str(back), back.query_id) == (str(error), ip.user_ns["_e6"].query_id)
        assert back._render_traceback_() == error._render_traceback_()

    def test_full_traceback_when_asked(self, ip):
        ip.run_cell("%config E6Magic.short_errors = False")
        with pytest.raises(DatabaseError) as excinfo:
            ip.run_cell("%%e6sql\nSELECT * FROM no_such_table")
        assert not hasattr(excinfo.value, "_render_traceback_")

    def test_failed_query_assigns_nothing(self, ip):
        with pytest.raises(DatabaseError):
            ip.run_cell("%%e6sql bad <<\nSELECT * FROM no_such_table")
        assert "bad" not in ip.user_ns

    @pytest.mark.parametrize(("line", "message"), [
        ("--limit x", "--limit needs a whole number, got 'x'."),
        ("--bogus", "unknown option --bogus."),
    ])
    def test_bad_options_fail_the_cell(self, ip, line, message):
        with pytest.raises(UsageError, match=message):
            ip.run_cell(f"%%e6sql {line}\nSELECT 1")


class TestInterrupt:
    def test_interrupt_cancels_the_query_on_the_engine(self, ip, engine):
        timer = threading.Timer(1.0, _thread.interrupt_main)
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                ip.run_cell(f"%%e6sql big <<\n{LONG_QUERY}")
        finally:
            timer.cancel()
        assert "big" not in ip.user_ns
        assert _wait_no_queries(engine) == {}

    def test_cancel_from_another_thread_fails_the_cell_with_query_cancelled(self, ip, engine):
        def cancel_when_running():
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                last = ip.user_ns.get("_e6")
                if last is not None and last.handle is not None:
                    last.cancel()  # what the Cancel button does
                    return
                time.sleep(0.05)

        clicker = threading.Thread(target=cancel_when_running)
        clicker.start()
        with pytest.raises(QueryCancelled) as excinfo:
            ip.run_cell(f"%%e6sql big <<\n{LONG_QUERY}")
        clicker.join()
        assert "cancelled" in str(excinfo.value)
        assert type(excinfo.value) in (QueryCancelled, CancelNotConfirmed)  # the client's class, not a copy
        assert type(pickle.loads(pickle.dumps(excinfo.value))) is type(excinfo.value)
        assert "big" not in ip.user_ns
        assert _wait_no_queries(engine) == {}


class TestExtras:
    def test_explain_shows_the_plan_and_keeps_it(self, ip, capsys):
        ip.run_cell("%%e6sql --explain\nSELECT count(*) AS n FROM demo.main.orders")
        plan = ip.user_ns["_e6"].plan()
        assert isinstance(plan, dict) and plan

    def test_dry_run_answers_without_running(self, ip, engine, capsys):
        ip.run_cell("%%e6sql --dry-run\nSELECT * FROM demo.main.customers")
        assert capsys.readouterr().out.strip()
        assert "_e6" not in ip.user_ns

    def test_background_returns_at_once_and_fills_the_variable(self, ip):
        ip.run_cell("%%e6sql --background df <<\nSELECT * FROM range(200000)")
        last = ip.user_ns["_e6"]
        assert last.wait(60)
        assert len(ip.user_ns["df"]) == 200000

    def test_rerun_and_to_pandas(self, ip):
        ip.user_ns["k"] = 1
        ip.run_cell("%%e6sql\nSELECT :k AS k")
        ip.user_ns["k"] = 2
        ip.user_ns["_e6"].rerun()
        assert ip.user_ns["_e6"].to_pandas()["k"].tolist() == [2]


class TestConnections:
    def test_first_query_starts_the_embedded_engine_and_says_so(self, bare_ip, capsys):
        bare_ip.run_cell("%config E6Magic.widgets = False")
        bare_ip.run_cell("%%e6sql n <<\nSELECT count(*) AS n FROM demo.main.customers")
        out = capsys.readouterr().out
        notes = [line for line in out.splitlines() if "embedded local engine" in line]
        assert len(notes) == 1
        assert int(bare_ip.user_ns["n"]["n"][0]) > 0

    def test_connect_on_the_line_and_no_token_anywhere(self, bare_ip, engine, capsys):
        bare_ip.run_cell("%config E6Magic.widgets = False")
        bare_ip.run_cell(f"%e6sql --connect --host 127.0.0.1 --port {engine.port} --token {engine.token.reveal()}")
        bare_ip.run_cell("%%e6sql x <<\nSELECT 1 AS one")
        with pytest.raises(DatabaseError) as excinfo:
            bare_ip.run_cell("%%e6sql\nSELECT * FROM nowhere")
        seen = capsys.readouterr()
        session = bare_ip.magics_manager.registry["E6SqlMagics"].session
        for text in (seen.out, seen.err, repr(bare_ip.user_ns["_e6"]), str(excinfo.value),
                     repr(session.connections.endpoint)):
            assert engine.token.reveal() not in text

    def test_profile_file_and_alias(self, bare_ip, engine, tmp_path, monkeypatch):
        path = tmp_path / "profiles.toml"
        path.write_text(f'[local]\nhost = "127.0.0.1"\nport = {engine.port}\ntoken = "{engine.token.reveal()}"\n')
        bare_ip.run_cell("%config E6Magic.widgets = False")
        bare_ip.run_cell(f"%config E6Magic.profiles_path = {str(path)!r}")
        bare_ip.run_cell("%%e6sql -c local x <<\nSELECT 5 AS five")
        assert bare_ip.user_ns["x"]["five"].tolist() == [5]

    def test_missing_token_is_asked_for_with_a_hidden_prompt(self, bare_ip, engine, monkeypatch, capsys):
        prompts = []
        # getpass needs a terminal; ipykernel swaps in a frontend prompt the same way
        monkeypatch.setattr("getpass.getpass", lambda prompt: prompts.append(prompt) or engine.token.reveal())
        bare_ip.run_cell("%config E6Magic.widgets = False")
        bare_ip.run_cell(f"%e6sql --connect --host 127.0.0.1 --port {engine.port} --username ana")
        bare_ip.run_cell("%%e6sql x <<\nSELECT 1 AS one")
        assert prompts == ["e6data token for ana@127.0.0.1: "]
        assert bare_ip.user_ns["x"]["one"].tolist() == [1]
        assert engine.token.reveal() not in capsys.readouterr().out

    def test_wrong_token_is_one_line_of_the_clients_own_class(self, bare_ip, engine):
        bare_ip.run_cell("%config E6Magic.widgets = False")
        with pytest.raises(CredentialsRefused) as excinfo:
            bare_ip.run_cell(f"%e6sql --connect --host 127.0.0.1 --port {engine.port} --token wrong-token")
        error = excinfo.value
        assert type(error) is CredentialsRefused  # the module's promise: `except <client class>` works
        assert "\n" not in str(error) and "wrong-token" not in str(error)
        assert str(error).startswith(f"cannot connect to 127.0.0.1:{engine.port}")
        assert error._render_traceback_() == [f"\x1b[0;31mCredentialsRefused\x1b[0m: {error}"]
        assert "wrong-token" not in pickle.dumps(error).decode("latin-1")

    def test_nothing_listening_is_the_clients_unreachable_error(self, bare_ip):
        bare_ip.run_cell("%config E6Magic.widgets = False")
        with socket.socket() as probe:  # a port nobody listens on: bound, then closed
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        with pytest.raises(OperationalError) as excinfo:
            bare_ip.run_cell(f"%e6sql --connect --host 127.0.0.1 --port {port} --token t")
        assert not isinstance(excinfo.value, UsageError)
        assert str(excinfo.value).startswith(f"cannot connect to 127.0.0.1:{port}")
        assert len(excinfo.value._render_traceback_()) == 1


class TestCompletion:
    def _complete(self, ip, text):
        from IPython.core.completer import provisionalcompleter

        with provisionalcompleter():
            return [c.text for c in ip.Completer.completions(text, len(text))]

    def test_table_name_completes_in_a_cell(self, ip):
        ip.run_cell("%%e6sql\nSELECT 1")  # opens the connection; completion never opens one itself
        assert "customers" in self._complete(ip, "%%e6sql\nSELECT * FROM cust")

    def test_dotted_and_column_names(self, ip):
        ip.run_cell("%%e6sql\nSELECT 1")
        assert "demo.main.orders" in self._complete(ip, "%%e6sql\nSELECT * FROM demo.main.ord")
        assert "region" in self._complete(ip, "%%e6sql\nSELECT * FROM demo.main.customers WHERE reg")
        assert "customers.region" in self._complete(ip, "%%e6sql\nSELECT customers.reg")
        assert "demo.main" in self._complete(ip, "%e6sql SELECT * FROM demo.ma")

    def test_refresh_reads_names_again(self, ip):
        ip.run_cell("%%e6sql\nSELECT 1")
        assert self._complete(ip, "%%e6sql\nSELECT * FROM cust")
        ip.run_cell("%e6sql --refresh")
        assert ip.magics_manager.registry["E6SqlMagics"].session.schema._cache == {}

    def test_nothing_outside_e6sql_cells(self, ip):
        ip.run_cell("%%e6sql\nSELECT 1")
        assert "customers" not in self._complete(ip, "cust")


class TestShutdown:
    def test_unloading_cancels_a_background_query(self, ip, engine):
        ip.run_cell(f"%%e6sql --background big <<\n{LONG_QUERY}")
        last = ip.user_ns["_e6"]
        assert engine.query_state(last.query_id) in ("prepared", "running")
        ip.run_cell("%unload_ext e6magic")  # what the kernel's atexit hook runs too
        assert last.wait(10)
        assert "big" not in ip.user_ns
        assert _wait_no_queries(engine) == {}
        ip.run_cell("%load_ext e6magic")  # the fixture unloads it again
