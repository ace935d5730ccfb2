"""The local engine reads e6data string literals (backslash escapes and doubled quotes) as the real engine does."""
from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from peers import VERSIONS, run_peer

from e6magic.client import ProgrammingError, connect
from e6magic.client.params import literal
from e6magic.engine.literals import LiteralError, to_duckdb

# What a user binds: quotes, backslashes in every position, every control character but NUL, emoji, SQL syntax.
VALUES = [
    "it's", "'", "''", "\\", "\\\\", "a\\b", "C:\\temp\\new", "\\'", "'\\", "end\\", "\\n", "\\t",
    "line\nbreak", "tab\there", "cr\rlf\n", "bell\x07 esc\x1b", "".join(chr(c) for c in range(1, 32)) + "\x7f",
    "emoji 🦆 ünïcödé 中文", "%s %(x)s %%", "-- not a comment", "/* nor this */", "'; DROP TABLE t; --",
    '"quoted"', "", " ", "x" * 1_000_000, "\\'" * 10_000,
]
IDS = [repr(v)[:30] if len(v) < 100 else f"{len(v)} chars" for v in VALUES]


@pytest.fixture
def conn(engine):
    connection = connect(host=engine.host, port=engine.port, username="u", password=engine.token)
    yield connection
    connection.close()


def _official_escape(value: str) -> str:
    # the escaping the official connectors apply to a bound str (wire §5.6), written from the wire doc
    out = value.replace("\\", "\\\\").replace("'", "\\'").replace("\r", "\\r").replace("\n", "\\n")
    return "'" + out.replace("\t", "\\t") + "'"


def _duckdb_reads(sql: str) -> object:
    return duckdb.execute(to_duckdb(sql)).fetchall()[0][0]


@pytest.mark.parametrize(("sql", "expected"), [
    pytest.param(r"SELECT 'it\'s'", "it's", id="backslash-quote"),
    pytest.param("SELECT 'it''s'", "it's", id="doubled-quote"),
    pytest.param(r"SELECT 'a\\b'", "a\\b", id="backslash"),
    pytest.param(r"SELECT '\n\t\r\b\Z'", "\n\t\r\b\x1a", id="controls"),
    pytest.param(r"SELECT '\u00e9\"\q'", 'é"q', id="unicode-quote-unknown"),
    pytest.param(r"SELECT '\\'", "\\", id="lone-backslash"),
    pytest.param(r"SELECT 'x\\'' y'", "x\\' y", id="escaped-backslash-then-doubled-quote"),
    pytest.param(r"SELECT 'a_b' LIKE 'a\_b' ESCAPE '\\' AND 'axb' NOT LIKE 'a\_b' ESCAPE '\\'", True,
                 id="like-escapes-kept"),
    pytest.param(r"""SELECT "it\'s" FROM (SELECT 1 AS "it\'s") -- it\'s""", 1, id="identifier-and-comment"),
    pytest.param("SELECT '/* \\' */' /* it\\'s */", "/* ' */", id="block-comment"),
])
def test_literals_read_as_e6data_reads_them(sql, expected):
    assert _duckdb_reads(sql) == expected


def test_text_without_backslash_is_untouched():
    sql = "SELECT 'it''s' AS \"a\"\"b\" -- 'x"
    assert to_duckdb(sql) is sql


@pytest.mark.parametrize("sql", [r"SELECT 'a\0b'", r"SELECT 'a\u0000b'", "SELECT 'a\x00b'"], ids=["\\0", "\\u0000", "raw"])
def test_a_nul_in_a_literal_is_refused(sql):
    with pytest.raises(LiteralError, match="NUL"):
        to_duckdb(sql)


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=60))
def test_any_text_bound_by_either_client_reads_back_exactly(value):
    assert _duckdb_reads("SELECT " + _official_escape(value)) == value
    assert _duckdb_reads("SELECT " + literal(value)) == value


def test_the_engine_refuses_a_nul_with_a_one_line_error(conn):
    cur = conn.cursor()
    with pytest.raises(ProgrammingError, match=r"NUL character.*\(query id: "):
        cur.execute(r"SELECT 'a\0b'")


@pytest.mark.parametrize("value", VALUES, ids=IDS)
def test_e6magic_binds_every_string_the_same_way_and_it_round_trips(conn, value):
    cur = conn.cursor()
    cur.execute("SELECT %(v)s AS v, length(%(v)s) AS n", {"v": value})
    assert cur.fetchall() == [(value, len(value))]
    cur.close()


@pytest.mark.parametrize("version", VERSIONS)
def test_strings_bound_by_the_official_connectors_round_trip(engine, version):
    got = run_peer('''
        values = data()
        c = connect(); out = []
        for value in values:
            cur = c.cursor(); cur.execute("SELECT %(v)s AS v, length(%(v)s) AS n", {"v": value})
            out.append([list(r) for r in cur.fetchall()]); cur.clear()
        try:
            cur = c.cursor(); cur.execute("SELECT %(v)s AS v", {"v": "a\\x00b"}); out.append(cur.fetchall())
        except Exception as exc:
            out.append(type(exc).__name__ + ": " + str(exc))
        c.close(); emit(out)
    ''', version=version, host=engine.host, port=engine.port, token=engine.token.reveal(), data=VALUES)
    assert got[:-1] == [[[value, len(value)]] for value in VALUES]
    assert "NUL character" in got[-1]  # refused, never stored cut short
