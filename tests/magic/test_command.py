"""Parsing a %e6sql line / %%e6sql cell into a Command: options, targets, SQL kept intact."""
from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from e6magic.magic.command import Command, parse
from e6magic.magic.options import USAGE


@pytest.mark.parametrize(
    ("line", "cell", "expected"),
    [
        pytest.param("", "SELECT 1", Command(sql="SELECT 1"), id="plain-cell"),
        pytest.param("df <<", "SELECT 1", Command(sql="SELECT 1", target="df"), id="target-on-line"),
        pytest.param("", "df << SELECT 1", Command(sql="SELECT 1", target="df"), id="target-in-cell"),
        pytest.param("-o out", "SELECT 1", Command(sql="SELECT 1", target="out"), id="dash-o"),
        pytest.param("--out=out", "SELECT 1", Command(sql="SELECT 1", target="out"), id="out-equals"),
        pytest.param("--limit 5 --catalog demo --database main", "SELECT 1",
                     Command(sql="SELECT 1", limit=5, catalog="demo", database="main"), id="limit-catalog"),
        pytest.param("--explain --dry-run --show-sql --background -j", "SELECT 1",
                     Command(sql="SELECT 1", explain=True, dry_run=True, show_sql=True, background=True,
                             jinja=True), id="flags"),
        pytest.param("-c prod x <<", "SELECT 1", Command(sql="SELECT 1", alias="prod", target="x"), id="alias"),
        pytest.param("SELECT 1 -- a comment", None, Command(sql="SELECT 1 -- a comment"), id="line-comment"),
        pytest.param("x << SELECT 1", None, Command(sql="SELECT 1", target="x"), id="line-target"),
        pytest.param("--limit 3 SELECT '%' -> 1", None, Command(sql="SELECT '%' -> 1", limit=3), id="line-opts"),
    ],
)
def test_parse(line, cell, expected):
    assert parse(line, cell) == expected


def test_sql_comments_arrows_and_percent_survive_in_a_cell():
    body = "-- leading comment\nSELECT j->'a' AS a, 10 % 3 AS m /* block; with semicolon */\nFROM t -- trailing\n"
    cmd = parse("--limit 2", body)
    assert cmd.sql == body.strip()
    assert cmd.statements == [body.strip()]


def test_several_statements_split_outside_quotes_and_comments():
    cmd = parse("", "SELECT ';' AS a; -- one; two\nSELECT \"x;y\" FROM t;\n/* ; */ SELECT 3;")
    assert cmd.statements == ["SELECT ';' AS a", "-- one; two\nSELECT \"x;y\" FROM t", "/* ; */ SELECT 3"]


def test_connect_request_keeps_the_token_out_of_the_repr():
    cmd = parse("--connect --host 10.0.0.1 --port 9000 --cluster c1 --secure --token s3cret-token", None)
    assert cmd.connect is not None
    assert (cmd.connect.host, cmd.connect.port, cmd.connect.cluster, cmd.connect.secure) == ("10.0.0.1", 9000, "c1", True)
    assert cmd.connect.token == "s3cret-token"
    assert "s3cret" not in repr(cmd)


def test_bare_token_asks_for_a_prompt():
    cmd = parse("--connect --host h --token", None)
    assert cmd.connect.token == ""


def test_file_option_reads_sql(tmp_path):
    path = tmp_path / "q.sql"
    path.write_text("SELECT 42 AS answer;\n")
    assert parse(f"-f {path}", "").statements == ["SELECT 42 AS answer"]


@pytest.mark.parametrize(
    ("line", "cell", "message"),
    [
        pytest.param("--nope", "SELECT 1", f"unknown option --nope. {USAGE}", id="unknown"),
        pytest.param("--limit", "SELECT 1", f"--limit needs a value. {USAGE}", id="missing-value"),
        pytest.param("--limit ten", "SELECT 1", f"--limit needs a whole number, got 'ten'. {USAGE}", id="not-int"),
        pytest.param("--limit -3", "SELECT 1", f"--limit must not be negative, got -3. {USAGE}", id="negative-spaced"),
        pytest.param("--limit=-3", "SELECT 1", f"--limit must not be negative, got -3. {USAGE}", id="negative"),
        pytest.param("", "", f"no SQL to run. {USAGE}", id="empty"),
        pytest.param("", "-- only a comment", "the cell holds only comments: no SQL to run.", id="only-comment"),
        pytest.param("a << -o b", "SELECT 1", f"unexpected text on the %%e6sql line: '-o b'. {USAGE}", id="order"),
        pytest.param("-o b a <<", "SELECT 1", f"two output variables given (a << and -o b); use one. {USAGE}", id="two-targets"),
        pytest.param("-o 1x", "SELECT 1", f"-o needs a Python variable name, got '1x'. {USAGE}", id="bad-name"),
        pytest.param("--host h", "SELECT 1", f"--host only work with --connect. {USAGE}", id="host-no-connect"),
        pytest.param("-f /no/such/file.sql", "", "-f /no/such/file.sql: cannot read it (No such file or directory).", id="no-file"),
        pytest.param("SELECT 1", "SELECT 2", f"unexpected text on the %%e6sql line: 'SELECT 1'. {USAGE}", id="sql-on-line"),
    ],
)
def test_bad_input_is_one_clear_line(line, cell, message):
    with pytest.raises(UsageError) as excinfo:
        parse(line, cell)
    assert str(excinfo.value) == message
    assert "\n" not in str(excinfo.value)
