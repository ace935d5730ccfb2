"""JupySQL on the dialect, in a real IPython shell: `%sql e6magic://...`, whole results, `%sqlcmd tables/columns`."""
from __future__ import annotations

import pathlib
import sys

import pytest
from e6_urls import e6_url

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "magic"))
from magic_shell import TestingShell as Shell

pytest.importorskip("sql")  # JupySQL

ALIAS = "e6test"


@pytest.fixture
def jupysql(engine, e6):
    """A shell with JupySQL loaded and connected through `e6magic://` (e6: the engine must be clean after)."""
    shell = Shell.instance()
    shell.run_cell("%load_ext sql")
    shell.run_cell("%config SqlMagic.displaylimit = 5")
    shell.run_cell(f"%sql {e6_url(engine)} --alias {ALIAS}")
    yield shell
    shell.run_cell(f"%sql --close {ALIAS}")


def test_a_100k_row_result_arrives_whole(jupysql):
    # JupySQL reads the first rows with fetchmany() and the rest with fetchall() (the official connector lost
    # the first chunk's other rows there)
    jupysql.run_cell("result = %sql SELECT i FROM range(100000) t(i) ORDER BY i")
    result = jupysql.user_ns["result"]
    assert len(result) == 100_000
    assert result.DataFrame().i.tolist() == list(range(100_000))
    assert [tuple(row) for row in list(result)[:3]] == [(0,), (1,), (2,)]


def test_rows_are_tuples_and_bound_variables_are_values(jupysql):
    jupysql.run_cell('%config SqlMagic.named_parameters = "enabled"')
    jupysql.user_ns["wanted"] = "shipped' OR 'x'='x"  # bound by SQLAlchemy and the client: a value, never SQL
    jupysql.run_cell("rows = %sql SELECT order_id, status FROM orders WHERE status = :wanted ORDER BY 1")
    assert list(jupysql.user_ns["rows"]) == []
    jupysql.user_ns["wanted"] = "shipped"
    jupysql.run_cell("rows = %sql SELECT order_id, status FROM orders WHERE status = :wanted AND order_id < 5 "
                     "ORDER BY 1")
    assert [tuple(r) for r in jupysql.user_ns["rows"]] == [(1, "shipped")]
    jupysql.run_cell('%config SqlMagic.named_parameters = "warn"')


def test_sqlcmd_tables_and_columns(jupysql):
    jupysql.run_cell("tables = %sqlcmd tables")
    assert [row[0] for row in jupysql.user_ns["tables"]._table.rows] == ["all_types", "customers", "orders",
                                                                       "products"]
    jupysql.run_cell("columns = %sqlcmd columns --table all_types")
    text = str(jupysql.user_ns["columns"])
    for name, type_name in [("c_decimal", "DECIMAL(18, 2)"), ("c_double", "DOUBLE"), ("c_bigint", "BIGINT"),
                            ("c_blob", "BINARY"), ("c_list", "ARRAY"), ("c_boolean", "BOOLEAN")]:
        assert any(name in line and type_name in line for line in text.splitlines()), (name, type_name)


def test_the_token_is_never_printed(jupysql, engine, capsys):
    jupysql.run_cell("%sql --connections")
    jupysql.run_cell("%sql SELECT 1 AS one")
    jupysql.run_cell("%sql " + ALIAS)
    out = capsys.readouterr()
    assert ALIAS in out.out + out.err
    assert engine.token.reveal() not in out.out + out.err
