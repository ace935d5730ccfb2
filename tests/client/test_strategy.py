"""The strategy cache against the engine: probe order, pinning, announcements, `status: 456` recovery, TTL."""
from __future__ import annotations

import threading

from e6magic.client import strategy as strategies


def test_cache_is_one_per_endpoint_and_thread_safe():
    strategies.reset_all()
    found = []
    threads = [threading.Thread(target=lambda: found.append(strategies.strategy_for("H", 1, "C"))) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(s) for s in found}) == 1 and found[0] is strategies.strategy_for("h", 1, "c")
    assert strategies.strategy_for("h", 2, "c") is not found[0]


def test_first_connection_finds_green_after_blue_is_refused(engine_factory, connect_to):
    engine = engine_factory()
    engine.set_strategy("green")
    conn = connect_to(engine)
    cur = conn.cursor()
    cur.execute("SELECT 1")
    assert cur.fetchall() == [(1,)] and conn._session.strategy.active() == "green"
    other = connect_to(engine)  # the cached colour: its first sign-in goes straight to green
    assert other._session.session_and_colour()[1] == "green"


def test_running_query_stays_pinned_across_a_flip(engine_factory, connect_to):
    engine = engine_factory(chunk_rows=100)
    conn = connect_to(engine)
    cur = conn.cursor()
    cur.execute("SELECT i FROM range(5000) t(i)")
    first = cur.fetchmany(10)
    assert conn._session.strategy.pinned() == {cur.query_id: "blue"}
    engine.flip_strategy()
    rest = cur.fetchall()  # still read from blue; the response announces green
    assert [r[0] for r in first + rest] == list(range(5000))
    assert conn._session.strategy.pending() == "green" and conn._session.strategy.active() == "blue"
    cur.clear()  # nothing left on blue: the announced colour takes over
    assert conn._session.strategy.pinned() == {} and conn._session.strategy.active() == "green"
    cur.execute("SELECT 2")
    assert cur.fetchall() == [(2,)]


def test_wrong_colour_is_reprobed_and_the_query_runs(engine_factory, connect_to):
    engine = engine_factory()
    conn = connect_to(engine)
    cur = conn.cursor()
    cur.execute("SELECT 1")
    engine.flip_strategy()  # no response announced it: the next prepare meets `status: 456`
    cur.execute("SELECT 3")
    assert cur.fetchall() == [(3,)] and conn._session.strategy.active() == "green"
    assert engine.queries() == {cur.query_id: "finished"}  # one run, not two


def test_cache_timeout_and_retry_settings(monkeypatch):
    monkeypatch.setenv("E6DATA_STRATEGY_CACHE_TIMEOUT", "0")
    monkeypatch.setenv("E6DATA_MAX_RETRY_ATTEMPTS", "2")
    cache = strategies.EndpointStrategy(("h", 1, ""))
    cache.confirm("green")
    assert cache.active() is None  # expired at once: the next sign-in probes again
    cache.confirm("green")
    cache.pin("q", "green")
    assert cache.active() == "green"  # never expires under a pinned query
    assert strategies.max_retry_attempts() == 2
    monkeypatch.delenv("E6DATA_STRATEGY_CACHE_TIMEOUT")
    assert strategies.cache_timeout() == 300
