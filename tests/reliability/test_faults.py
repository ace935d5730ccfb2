"""The client under network faults (a proxy on 127.0.0.1): error type, time bound, no re-run, nothing left."""
from __future__ import annotations

import collections
import inspect
import threading
import time

import pytest

from e6magic.client.exceptions import DeadlineExceeded, EngineUnreachable, Error
from e6magic.client.retry import RetryPolicy
from e6magic.engine import LocalEngine
from tests.client.conftest import open_connection, settle
from tests.reliability.fault_proxy import (
    BLACKHOLE,
    PASS,
    REFUSE,
    SLOW,
    STALL,
    FaultProxy,
)

LONG = "SELECT count(*) AS n FROM range({n}) t(i) WHERE i % 7 = 3"  # a few seconds at n = 3e8 here
BIG = "SELECT i, i * 2 AS j FROM range(2000000) t(i)"  # many batches: a fault can land mid-fetch
# the budget of retries after a lost link: the policy's backoffs plus a little for the tries themselves
RETRY_BUDGET = RetryPolicy().total_backoff() + 3.0


@pytest.fixture(scope="module")
def engine():
    """An engine of this module's own, whose prepares are counted (a re-run would be a second prepare)."""
    with LocalEngine(host="127.0.0.1", port=0) as running:
        counts: collections.Counter[str] = collections.Counter()
        registry = running._registry
        prepare = registry.prepare

        signature = inspect.signature(prepare)

        def counting(*args, **kwargs):
            counts[signature.bind(*args, **kwargs).arguments["sql"]] += 1
            return prepare(*args, **kwargs)

        registry.prepare = counting
        running.prepares = counts  # type: ignore[attr-defined]
        yield running


@pytest.fixture
def proxy(engine):
    with FaultProxy((engine.host, engine.port)) as running:
        yield running
    assert settle(engine, 15) == {}, "a fault left a query on the engine"


def tagged(sql: str) -> str:
    """`sql` made unique, so its prepares can be counted on the engine."""
    return f"{sql} /* {time.monotonic_ns()} */"


def timed(call):
    started = time.monotonic()
    try:
        return call(), time.monotonic() - started
    except Error as exc:
        return exc, time.monotonic() - started


def later(seconds: float, action) -> threading.Timer:
    timer = threading.Timer(seconds, action)
    timer.start()
    return timer


def test_a_reset_while_the_query_runs_is_survived_without_a_rerun(engine, proxy):
    """getResultMetadata changes nothing, so it is asked again on a new link: the answer, computed once."""
    sql = tagged(LONG.format(n=200_000_000))
    conn = proxy.connect(engine)
    try:
        cur = conn.cursor()
        timer = later(1.0, proxy.reset)
        outcome, _ = timed(lambda: (cur.execute(sql), cur.fetchall())[1])
        timer.join()
        assert outcome == [(200_000_000 // 7 + (1 if 200_000_000 % 7 > 3 else 0),)], outcome
        assert engine.prepares[sql] == 1
    finally:
        conn.close()


def test_a_reset_mid_fetch_fails_whole_and_never_hands_out_part(engine, proxy):
    sql = tagged(BIG)
    conn = proxy.connect(engine)
    try:
        handle = conn.cursor().submit(sql)
        rows = 0
        with pytest.raises(EngineUnreachable) as caught:
            for batch in handle.batches():
                rows += batch.num_rows
                if rows and proxy.open_connections():
                    proxy.reset()
                time.sleep(0.05)  # slow reader: the reset lands while batches are still to come
        assert rows < 2_000_000, "the whole result came although the link was reset"
        assert f"127.0.0.1:{proxy.port}" in str(caught.value) and handle.query_id in str(caught.value)
        assert handle.state == "failed" and engine.prepares[sql] == 1
    finally:
        conn.close()


def test_refused_connections_fail_fast_as_unreachable(engine, proxy):
    proxy.set(REFUSE)
    conn = proxy.connect(engine)
    try:
        outcome, took = timed(lambda: conn.cursor().execute(tagged("SELECT 1")))
        assert isinstance(outcome, EngineUnreachable), outcome
        assert not outcome.request_sent, "a refused connection cannot have sent the query"
        assert took < RETRY_BUDGET, f"{took:.1f} s for a refused connection"
        assert f"127.0.0.1:{proxy.port}" in str(outcome)
    finally:
        proxy.set(PASS)
        conn.close()


def test_a_blackholed_engine_ends_at_the_connection_deadline(engine, proxy):
    proxy.set(BLACKHOLE)
    conn = proxy.connect(engine, timeout=2)
    try:
        outcome, took = timed(lambda: conn.cursor().execute(tagged("SELECT 1")))
        assert isinstance(outcome, (DeadlineExceeded, EngineUnreachable)), outcome
        assert took < 2 + 2.5, f"{took:.1f} s against a 2 s deadline"
        assert f"127.0.0.1:{proxy.port}" in str(outcome)
        if isinstance(outcome, DeadlineExceeded):
            assert outcome.method and outcome.method in str(outcome) and " 2 s" in str(outcome)
    finally:
        proxy.set(PASS)
        conn.close()


def test_a_stalled_engine_ends_at_the_query_deadline_and_the_query_is_cleared(engine, proxy):
    sql = tagged(LONG.format(n=3_000_000_000))
    conn = proxy.connect(engine)
    try:
        cur = conn.cursor()
        timer = later(0.5, lambda: proxy.set(STALL))
        outcome, took = timed(lambda: cur.execute(sql, timeout=2))
        timer.join()
        assert isinstance(outcome, DeadlineExceeded), outcome
        assert took < 2 + 2.5, f"{took:.1f} s against a 2 s deadline"
        assert f"127.0.0.1:{proxy.port}" in str(outcome) and "deadline of 2 s" in str(outcome)
        assert outcome.method == "getResultMetadata" and outcome.method in str(outcome)
        assert engine.prepares[sql] == 1
        proxy.set(PASS)  # the clean-up (cancel, clear) gets through once the engine answers again
    finally:
        proxy.set(PASS)
        conn.close()


def test_slow_bytes_give_the_same_answer(engine, proxy):
    sql = "SELECT i, i * 3 AS j, repeat('x', (i % 50)::INT) AS s FROM range(30000) t(i) ORDER BY i"
    direct = open_connection(engine)
    try:
        cur = direct.cursor()
        cur.execute(sql)
        expected = cur.fetchall()
    finally:
        direct.close()
    proxy.slow_bytes, proxy.slow_delay = 4096, 0.0005
    proxy.set(SLOW)
    conn = proxy.connect(engine)
    try:
        cur = conn.cursor()
        cur.execute(sql)
        assert cur.fetchall() == expected
    finally:
        proxy.set(PASS)
        conn.close()
