"""e6data functions on the local engine (TIMESTAMP_ADD, DATE_FORMAT, FROM_UNIXTIME, TO_TIMESTAMP, TRUNC) read as e6data reads them."""
from __future__ import annotations

import datetime as dt
import decimal

import pytest
from peers import VERSIONS, run_peer

from e6magic.client import ProgrammingError, connect

T = "TIMESTAMP '2024-05-17 13:45:30.250'"


@pytest.fixture
def one(engine):
    connection = connect(host=engine.host, port=engine.port, username="u", password=engine.token,
                         catalog="demo", database="main")
    cur = connection.cursor()

    def value(expression: str):
        cur.execute(f"SELECT {expression} AS v")
        return cur.fetchall()[0][0]

    yield value
    connection.close()


@pytest.mark.parametrize(("expression", "expected"), [
    ("timestamp_add('year', 2, DATE '2024-02-29')", dt.datetime(2026, 2, 28)),  # month-end clamps, as intervals do
    ("timestamp_add('month', -3, DATE '2024-05-31')", dt.datetime(2024, 2, 29)),
    (f"timestamp_add('day', 10, {T})", dt.datetime(2024, 5, 27, 13, 45, 30, 250000)),
    (f"timestamp_add('hour', 36, {T})", dt.datetime(2024, 5, 19, 1, 45, 30, 250000)),
    (f"timestamp_add('minute', 15, {T})", dt.datetime(2024, 5, 17, 14, 0, 30, 250000)),
    (f"timestamp_add('second', -30, {T})", dt.datetime(2024, 5, 17, 13, 45, 0, 250000)),
    (f"timestamp_add('week', 1, {T})", dt.datetime(2024, 5, 24, 13, 45, 30, 250000)),
    (f"timestamp_add('quarter', 1, {T})", dt.datetime(2024, 8, 17, 13, 45, 30, 250000)),
    (f"timestamp_add('millisecond', 750, {T})", dt.datetime(2024, 5, 17, 13, 45, 31)),
    (f"timestamp_add('YRS', 1, {T})", dt.datetime(2025, 5, 17, 13, 45, 30, 250000)),  # e6data's abbreviations
    (f"timestamp_add('mins', 1, {T})", dt.datetime(2024, 5, 17, 13, 46, 30, 250000)),
    ("timestamp_add('day', 1, NULL)", None),
], ids=lambda v: v if isinstance(v, str) else None)
def test_timestamp_add(one, expression, expected):
    assert one(expression) == expected


def test_timestamp_add_as_the_connector_tests_call_it(one):
    got = one("timestamp_add('year', 2, current_date())")
    today = dt.date.today()
    assert isinstance(got, dt.datetime) and got.date().year == today.year + 2 and got.time() == dt.time(0)


@pytest.mark.parametrize(("fmt", "expected"), [
    ("yyyy-MM-dd", "2024-05-17"), ("yyyy-MM-dd HH:mm:ss", "2024-05-17 13:45:30"), ("dd/MM/yy", "17/05/24"),
    ("MMM d, yyyy", "May 17, 2024"), ("MMMM", "May"), ("EEE EEEE", "Fri Friday"), ("hh:mm a", "01:45 PM"),
    ("HH:mm:ss.SSS", "13:45:30.250"), ("D", "138"), ("M/d H:m:s", "5/17 13:45:30"),
    ("%Y-%m-%d", "2024-05-17"), ("%Y-%m-01", "2024-05-01"),  # strftime, as the connector's tests write it
    ("yyyy/MM/dd", "2024/05/17"),
])
def test_date_format(one, fmt, expected):
    assert one(f"DATE_FORMAT({T}, '{fmt}')") == expected


def test_date_format_of_a_date_and_of_a_column(one):
    assert one("DATE_FORMAT(DATE '2024-01-02', 'yyyyMMdd')") == "20240102"
    assert one("max(DATE_FORMAT(ordered_at, 'yyyy')) FROM demo.main.orders") == "2024"


@pytest.mark.parametrize(("expression", "expected"), [
    ("FROM_UNIXTIME(1609459200)", dt.datetime(2021, 1, 1)),  # the connector's own test value
    ("FROM_UNIXTIME(0)", dt.datetime(1970, 1, 1)),
    ("FROM_UNIXTIME(-86400)", dt.datetime(1969, 12, 31)),
    ("FROM_UNIXTIME(1609459200.5)", dt.datetime(2021, 1, 1, 0, 0, 0, 500000)),
    ("FROM_UNIXTIME(1609459200, 'yyyy-MM-dd HH:mm')", "2021-01-01 00:00"),
    ("FROM_UNIXTIME(NULL)", None),
])
def test_from_unixtime(one, expression, expected):
    assert one(expression) == expected


@pytest.mark.parametrize(("expression", "expected"), [
    ("TO_TIMESTAMP('2023-01-01 12:00:00')", dt.datetime(2023, 1, 1, 12)),
    ("TO_TIMESTAMP('2023-01-01')", dt.datetime(2023, 1, 1)),
    ("TO_TIMESTAMP('17/05/2024 13:45', 'dd/MM/yyyy HH:mm')", dt.datetime(2024, 5, 17, 13, 45)),
    ("TO_TIMESTAMP('2024-05-17T13:45:30', '%Y-%m-%dT%H:%M:%S')", dt.datetime(2024, 5, 17, 13, 45, 30)),
    ("TO_TIMESTAMP(1609459200)", dt.datetime(2021, 1, 1)),
    ("TO_TIMESTAMP(NULL)", None),
])
def test_to_timestamp(one, expression, expected):
    assert one(expression) == expected


def test_to_timestamp_refuses_text_that_is_no_timestamp(one):
    with pytest.raises(ProgrammingError):
        one("TO_TIMESTAMP('not a time')")


@pytest.mark.parametrize(("expression", "expected"), [
    (f"TRUNC({T}, 'DD')", dt.datetime(2024, 5, 17)), (f"TRUNC({T}, 'MM')", dt.datetime(2024, 5, 1)),
    (f"TRUNC({T}, 'YYYY')", dt.datetime(2024, 1, 1)),  # the connector's tests, Oracle-style
    (f"TRUNC('month', {T})", dt.datetime(2024, 5, 1)), (f"TRUNC('quarter', {T})", dt.datetime(2024, 4, 1)),
    (f"TRUNC('week', {T})", dt.datetime(2024, 5, 13)), (f"TRUNC('hour', {T})", dt.datetime(2024, 5, 17, 13)),
    (f"TRUNC('minute', {T})", dt.datetime(2024, 5, 17, 13, 45)),
    ("TRUNC('year', DATE '2024-05-17')", dt.datetime(2024, 1, 1)),  # e6data's order: unit first
    ("TRUNC(-2.7)", decimal.Decimal(-2)), ("TRUNC(2.7::DOUBLE)", 2.0),  # numbers keep their meaning
])
def test_trunc(one, expression, expected):
    assert one(expression) == expected


def test_an_unknown_unit_is_a_clear_error(one):
    with pytest.raises(ProgrammingError, match="unknown date unit fortnight"):
        one(f"timestamp_add('fortnight', 1, {T})")


@pytest.mark.parametrize("version", VERSIONS)
def test_the_official_connectors_run_them(engine, version):
    got = run_peer('''
        c = connect(); cur = c.cursor()
        cur.execute("""SELECT timestamp_add('year', 2, DATE '2024-02-29') AS a, DATE_FORMAT(TIMESTAMP '2024-05-17 13:45:30',
                       'yyyy-MM-dd HH:mm') AS b, FROM_UNIXTIME(1609459200) AS c,
                       TO_TIMESTAMP('2023-01-01 12:00:00') AS d, TRUNC(TIMESTAMP '2024-05-17 13:45:30', 'MM') AS e""")
        emit(plain(cur.fetchall())); cur.clear(); c.close()
    ''', version=version, host=engine.host, port=engine.port, token=engine.token.reveal())
    # both connectors hand DATETIME values out as ISO text with a UTC offset
    assert got == [["2026-02-28T00:00:00.000+00:00", "2024-05-17 13:45", "2021-01-01T00:00:00.000+00:00",
                    "2023-01-01T12:00:00.000+00:00", "2024-05-01T00:00:00.000+00:00"]]
