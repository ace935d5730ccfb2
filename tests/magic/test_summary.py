"""The one summary line a finished statement leaves: counts that match the result, ms for fast queries, plurals."""
from __future__ import annotations

import re

import pytest

from e6magic.magic.summary import Outcome, duration, plural


@pytest.mark.parametrize(("seconds", "text"), [(0.0, "0.0 ms"), (0.0032, "3.2 ms"), (0.42, "420 ms"),
                                               (2.04, "2.0 s"), (125, "2 min 5 s")])
def test_durations_never_read_zero_seconds(seconds, text):
    assert duration(seconds) == text


@pytest.mark.parametrize(("n", "text"), [(0, "0 rows"), (1, "1 row"), (2, "2 rows"), (1_000_000, "1,000,000 rows")])
def test_plurals(n, text):
    assert plural(n, "row") == text


def test_the_query_id_is_short_in_the_line_and_whole_behind_its_copy_button():
    qid = "5a96d0c1e2f34a5b8c7d6e5f4a3b2860"
    line = Outcome("finished", 2.0, qid, rows=1_000_000, columns=7)
    assert line.short_text() == "1,000,000 rows · 7 columns · 2.0 s · query 5a96…860"
    assert line.text().endswith(f"query {qid}")  # a terminal has nothing to click
    assert f'data-id="{qid}"' in line.html() and line.html().count(qid) == 2  # the title and the button


def test_thousands_separators_can_be_turned_off():
    assert Outcome("finished", 1, rows=1_000_000, thousands=False).short_text() == "1000000 rows · 1.0 s"


def _footer(capsys) -> list[str]:
    return [line for line in capsys.readouterr().out.splitlines() if " · " in line]


def test_limit_counts_the_rows_the_result_has_not_the_rows_the_engine_sent(ip, capsys):
    ip.run_cell("%config E6Magic.display_limit = 20")
    ip.run_cell("%%e6sql --limit 100\nSELECT i FROM range(100000) t(i)").raise_error()
    [line] = _footer(capsys)
    assert ip.user_ns["_e6"].row_count == 100
    assert re.fullmatch(r"first 20 shown · 100 rows · 1 column · [\d.]+ m?s · query [0-9a-f]{32}", line), line


def test_a_cells_last_statement_counts_its_own_rows(ip, capsys):
    ip.run_cell("%%e6sql\nSELECT 1 AS one;\nSELECT i, i * 2 AS twice FROM range(5) t(i)").raise_error()
    [line] = _footer(capsys)  # a terminal shows the last statement's result (each line is the browser test's)
    assert re.fullmatch(r"5 rows · 2 columns · [\d.]+ ms · query [0-9a-f]{32}", line), line  # ms, never 0.0 s


def test_a_terminal_gets_text_never_an_object_repr(ip, capsys):
    ip.run_cell("%config E6Magic.display_limit = 3")
    ip.run_cell("%%e6sql --explain\nSELECT i % 3 AS g, count(*) AS n FROM range(10000) t(i) GROUP BY g").raise_error()
    ip.run_cell("%e6sql --show-sql SELECT 1 AS one").raise_error()
    ip.run_cell("%%e6sql\nSELECT i FROM range(10) t(i)").raise_error()
    out = capsys.readouterr().out
    assert "<IPython.core.display" not in out and " object at 0x" not in out
    assert re.search(r"^plan: .*total [\d.]+ ms", out, re.M)  # the plan's headline, then its operators
    assert re.search(r"^\s+\S*(GROUP_BY|AGGREGATE)\S*\s+[\d.]+ ms", out, re.M), out
    assert "SELECT 1 AS one;" in out
    assert re.search(r"^first 3 shown · 10 rows · 1 column · [\d.]+ ms · query [0-9a-f]{32}$", out, re.M)
