"""The handle API the magic and widgets use: submit, progress, cancel from any thread, clean ends."""
from __future__ import annotations

import threading
import time

import pytest

from e6magic.client import QueryCancelled
from tests.client.conftest import settle

SLOW = "SELECT sum(hash(i)) AS h FROM range(20000000000) t(i)"  # runs for minutes unless cancelled


def wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_submit_gives_query_id_at_once_and_progress(conn, engine):
    seen = []
    handle = conn.cursor().submit("SELECT i FROM range(300000) t(i)", on_progress=lambda h: seen.append(h.rows_fetched))
    assert handle.query_id and handle.state in ("running", "fetching", "finished")
    assert engine.query_state(handle.query_id) is not None
    table = handle.result()
    assert table.num_rows == 300000 and handle.state == "finished"
    assert handle.rows_fetched == 300000 and handle.batches_fetched == len(seen) >= 2
    assert seen == sorted(seen) and seen[-1] == 300000
    assert handle.elapsed > 0


def test_cancel_running_query(conn, engine):
    handle = conn.cursor().submit(SLOW)
    assert wait_for(lambda: engine.query_state(handle.query_id) == "running")
    handle.cancel()
    assert handle.state == "cancelled"
    with pytest.raises(QueryCancelled) as info:
        handle.result()
    assert info.value.query_id == handle.query_id
    assert wait_for(lambda: engine.query_state(handle.query_id) == "cancelled")
    handle.close()
    assert handle.query_id not in engine.queries()
    assert conn._session.strategy.pinned() == {}


def test_cancel_from_another_thread_mid_fetch(conn, engine):
    cur = conn.cursor()
    handle = cur.submit("SELECT * FROM orders")  # a million rows, read slowly
    rows = cur.fetchmany(10)
    assert len(rows) == 10
    canceller = threading.Thread(target=handle.cancel)
    got = []
    with pytest.raises(QueryCancelled):
        for i, row in enumerate(cur):
            got.append(row)
            if i == 1000:
                canceller.start()
    canceller.join()
    assert 1000 < len(got) < 1_000_000 - 10  # never a half result passed off as whole
    assert handle.state == "cancelled"
    assert wait_for(lambda: not handle._fetcher.is_alive())  # the prefetch thread stopped
    short = handle.query_id[:8]
    assert not [t for t in threading.enumerate() if short in t.name]  # and the call it ran ahead with
    cur.close()
    assert handle.query_id not in settle(engine)


def test_cancel_before_execute_and_after_end(conn, engine):
    cur = conn.cursor()
    handle = cur.submit("SELECT 1")
    assert handle.result().num_rows == 1
    handle.cancel()  # after the end: harmless, the result stays valid
    assert handle.state == "finished" and handle.error is None
    handle.cancel()
    cur.close()
    # before execute: cancel lands while prepare runs in the submitting thread
    from e6magic.client.query import QueryHandle

    early = QueryHandle(conn._session, "SELECT 42", catalog="demo", schema="main")
    early.cancel()
    with pytest.raises(QueryCancelled):
        early.start()
    assert early.state == "cancelled"
    assert early.query_id and engine.query_state(early.query_id) in ("prepared", "cancelled")  # never ran
    assert early.query_id not in settle(engine)


def test_cancel_races_many_threads(conn, engine):
    handles = [conn.cursor().submit("SELECT * FROM orders") for _ in range(3)]
    threads = [threading.Thread(target=h.cancel) for h in handles for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for handle in handles:
        assert handle.wait(10) and handle.state in ("cancelled", "finished")
        handle.close()
        assert not handle._fetcher.is_alive()
    assert settle(engine) == {}


def test_batches_and_wait(conn):
    handle = conn.cursor().submit("SELECT i FROM range(200000) t(i)")
    total = sum(b.num_rows for b in handle.batches())
    assert total == 200000 and handle.wait(5) and handle.state == "finished"
    with pytest.raises(Exception, match="already read"):
        handle.result()
    handle.close()


def test_one_call_at_a_time_per_query(engine_factory, connect_to):
    """The fetcher runs the next call ahead of the decoder, but never two calls at once for one query."""
    import grpc

    class Overlap(grpc.UnaryUnaryClientInterceptor):
        def __init__(self) -> None:
            self.in_flight, self.most, self.calls = 0, 0, 0
            self.lock = threading.Lock()

        def intercept_unary_unary(self, continuation, details, request):
            if not details.method.endswith("getNextResultBatchV2"):
                return continuation(details, request)
            with self.lock:
                self.in_flight += 1
                self.calls += 1
                self.most = max(self.most, self.in_flight)
            outcome = continuation(details, request)
            outcome.result()
            with self.lock:
                self.in_flight -= 1
            return outcome

    engine = engine_factory(chunk_rows=2000)
    conn = connect_to(engine)
    overlap = Overlap()
    conn._session.transport.bind(grpc.intercept_channel(conn._session.transport.channel, overlap))
    cur = conn.cursor()
    cur.execute("SELECT i, 'x' || i AS s FROM range(300000) t(i)")
    table = cur.fetch_arrow()
    assert table.num_rows == 300000 and table.column("i").to_pylist()[-1] == 299999
    assert overlap.calls > 2 and overlap.most == 1


def test_stop_reading_ends_finished_and_keeps_the_query_until_close(conn, engine):
    rows = 5_000_000  # ~77 batches: the fetcher must stop long before the end
    handle = conn.cursor().submit(f"SELECT i FROM range({rows}) t(i)")
    first = next(handle.batches())
    handle.stop_reading()
    assert handle.state == "finished" and handle.error is None
    assert first.num_rows < rows and handle.rows_fetched < rows // 4  # it stopped, it did not read on
    fetched = handle.rows_fetched
    time.sleep(0.3)
    assert handle.rows_fetched == fetched  # and it stays stopped
    assert handle.query_id in engine.queries()  # kept on the engine (its plan can still be asked for)
    assert handle.explain_analyse()
    handle.close()
    assert wait_for(lambda: handle.query_id not in engine.queries())
