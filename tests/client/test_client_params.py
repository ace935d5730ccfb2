"""Parameter binding: hostile values round-trip exactly through the real engine and never start a 2nd statement."""
from __future__ import annotations

import datetime as dt
import decimal

import pytest

from e6magic.client import ProgrammingError

HOSTILE = [
    "O'Reilly", "''", "'; DROP TABLE customers; --", "back\\slash\\", "\\'; SELECT 1; --", "line\nbreak\r\n",
    "tab\tend", "ünïcødé ✓ 日本 🎉", "%s %(x)s %%", "\"double\"", "$$dollar$$", "/* not a comment */", "",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_string_round_trips(conn, value):
    cur = conn.cursor()
    cur.execute("SELECT %(v)s AS v, length(%(v)s) AS n", {"v": value})
    assert cur.fetchall() == [(value, len(value))]
    cur.execute("SELECT %s AS v", (value,))
    assert cur.fetchone() == (value,)
    cur.execute("SELECT count(*) FROM customers")  # the table a hostile value tried to drop is still there
    assert cur.fetchone() == (10000,)


def test_nul_is_refused_with_a_clear_error(conn):
    with pytest.raises(ProgrammingError, match="NUL"):
        conn.cursor().execute("SELECT %s", ("a\x00b",))


@pytest.mark.parametrize("value", [
    None, True, False, 0, -(2**63), 2**63 - 1, 1.5, -0.25, decimal.Decimal("-12345.6789"),
    dt.date(2024, 2, 29), dt.datetime(1999, 12, 31, 23, 59, 59, 999999),
])
def test_typed_values_round_trip(conn, value):
    cur = conn.cursor()
    cur.execute("SELECT %(v)s AS v", {"v": value})
    assert cur.fetchone() == (value,)


def test_sequences_and_errors(conn):
    cur = conn.cursor()
    cur.execute("SELECT count(*) FROM customers WHERE region IN %(r)s", {"r": ("North", "O'South")})
    assert cur.fetchone() == (2000,)
    with pytest.raises(ProgrammingError, match="no value"):
        cur.execute("SELECT %(missing)s", {"other": 1})
    with pytest.raises(ProgrammingError):
        cur.execute("SELECT %s, %s", (1,))
    with pytest.raises(ProgrammingError, match="cannot bind"):
        cur.execute("SELECT %s", (object(),))


def _lex_e6data_string(sql: str) -> tuple[str, int]:
    """Reads one single-quoted literal as e6data's lexer does (backslash escapes and doubled quotes, wire doc
    5.6); returns (value, chars used)."""
    assert sql[0] == "'"
    out, i = [], 1
    while i < len(sql):
        ch = sql[i]
        if ch == "\\":
            out.append({"n": "\n", "r": "\r", "t": "\t"}.get(sql[i + 1], sql[i + 1]))
            i += 2
        elif ch == "'" and sql[i + 1:i + 2] == "'":
            out.append("'")
            i += 2
        elif ch == "'":
            return "".join(out), i + 1
        else:
            out.append(ch)
            i += 1
    raise AssertionError("the literal never ends")


@pytest.mark.parametrize("value", [v for v in HOSTILE if v] + ["\\", "\\\\'", "a\\", "'\\'"])
def test_e6data_reads_the_literal_to_its_last_quote(value):
    # one binding for every endpoint: e6data's lexer must stop exactly at the literal's closing quote and give the
    # value back (the local engine reads it the same way: tests/engine/test_literals.py)
    from e6magic.client.params import literal

    text = literal(value)
    decoded, used = _lex_e6data_string(text + ", 'tail'")
    assert (decoded, used) == (value, len(text))


@pytest.mark.parametrize("value", [1.5, -0.25, 0.0, 1e20, 5e-324, 2.0**53 + 2])
def test_a_bound_float_reads_back_as_a_double(conn, value):
    cur = conn.cursor()
    cur.execute("SELECT %(v)s AS v, typeof(%(v)s) AS t", {"v": value})
    assert cur.fetchone() == (value, "DOUBLE")
    cur.close()
