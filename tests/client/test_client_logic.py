"""The client's decisions over the in-process transport (no port, no thread): retry, blue/green, 456, cancel.

Each test drives the real `Connection`, `Cursor` and `QueryHandle`; only the channel is `InProcessEngine`, and
the fetcher and the background cancel run when the test runs them (`Deferred`)."""
from __future__ import annotations

import pytest

from e6magic.client.exceptions import (
    CancelNotConfirmed,
    DeadlineExceeded,
    EngineUnreachable,
    InterfaceError,
    QueryCancelled,
)
from e6magic.client.query import QueryHandle
from e6magic.states import QueryState
from tests.client.in_process import InProcessEngine, in_process


def unsent(method: str) -> EngineUnreachable:
    error = EngineUnreachable("no connection to the engine", method=method)
    error.request_sent = False
    return error


def test_a_refused_colour_signs_in_on_the_other_and_the_query_runs_there():
    engine = InProcessEngine(serving="green")
    conn, deferred, _pauses = in_process(engine)
    cur = conn.cursor()
    handle = cur.submit("SELECT n")
    assert engine.calls[:3] == [("authenticate", "blue"), ("authenticate", "green"), ("prepareStatementV2", "green")]
    assert handle.colour == "green" and handle.engine_ip == "10.0.0.7"
    deferred.run("e6-fetch-")
    assert cur.fetchall() == [(1,), (2,), (3,)] and handle.state == QueryState.FINISHED
    assert {colour for method, colour in engine.calls if method != "authenticate"} == {"green"}


def test_a_flip_between_sign_in_and_prepare_is_retried_once_on_the_new_colour():
    engine = InProcessEngine(serving="blue")
    conn, deferred, _pauses = in_process(engine)
    first = conn.session_id
    engine.serving = "green"  # flipped with no announcement: the next prepare meets `status: 456`
    handle = conn.cursor().submit("SELECT n")
    assert engine.methods()[1:] == ["prepareStatementV2", "authenticate", "prepareStatementV2", "executeStatementV2"]
    assert len(engine.queries) == 1 and handle.colour == "green" and conn.session_id != first
    deferred.run("e6-fetch-")
    handle.close()
    assert engine.queries == {}


def test_an_announced_colour_waits_for_the_pinned_query_to_be_cleared():
    engine = InProcessEngine(serving="blue")
    conn, deferred, _pauses = in_process(engine)
    session = conn._session
    cur = conn.cursor()
    handle = cur.submit("SELECT n")
    engine.announce, engine.serving = "green", "green"
    deferred.run("e6-fetch-")  # the result's responses announce green; the query stays on blue
    assert cur.fetchall() == [(1,), (2,), (3,)]
    assert session.strategy.pending() == "green" and session.strategy.active() == "blue"
    assert [c for m, c in engine.calls if m == "getNextResultBatch"] == ["blue", "blue"]
    cur.clear()
    assert engine.calls[-1] == ("clearOrCancelQuery", "blue") and handle.state == QueryState.FINISHED
    assert session.strategy.active() == "green" and session.strategy.pinned() == {}
    cur.submit("SELECT n")
    assert engine.calls[-2:] == [("prepareStatementV2", "green"), ("executeStatementV2", "green")]
    cur.close()


def test_an_expired_session_is_made_again_and_the_call_repeated():
    engine = InProcessEngine()
    conn, deferred, _pauses = in_process(engine)
    old = conn.session_id
    engine.sessions.clear()  # the engine forgot every session
    cur = conn.cursor()
    cur.submit("SELECT n")
    assert engine.methods()[1:4] == ["prepareStatementV2", "authenticate", "prepareStatementV2"]
    assert conn.session_id != old
    deferred.run("e6-fetch-")
    assert cur.fetchall() == [(1,), (2,), (3,)]
    cur.close()


def test_retry_repeats_only_what_cannot_have_run_with_the_backoff_between():
    engine = InProcessEngine()
    conn, deferred, pauses = in_process(engine)
    engine.fail("executeStatementV2", unsent("executeStatementV2"), unsent("executeStatementV2"))
    cur = conn.cursor()
    handle = cur.submit("SELECT n")  # never reached the engine twice: tried again, 0.25 s then 0.5 s apart
    assert engine.methods().count("executeStatementV2") == 3 and pauses == [0.25, 0.5]
    deferred.run("e6-fetch-")
    assert handle.result().num_rows == 3
    engine.fail("executeStatementV2", EngineUnreachable("connection reset", method="executeStatementV2"))
    with pytest.raises(EngineUnreachable):
        cur.submit("SELECT n")  # it may have run: never sent again, and the query is cleared
    assert engine.methods().count("executeStatementV2") == 4 and engine.methods()[-1] == "clearOrCancelQuery"
    cur.close()
    assert engine.queries == {}


def test_retries_stop_at_the_policy_limit():
    engine = InProcessEngine()
    conn, _deferred, pauses = in_process(engine)
    limit = conn._session.retry.attempts
    engine.fail("authenticate", *[unsent("authenticate") for _ in range(limit + 1)])
    with pytest.raises(EngineUnreachable):
        conn.cursor().submit("SELECT n")
    assert engine.methods() == ["authenticate"] * limit and len(pauses) == limit - 1


def test_an_unconfirmed_cancel_ends_the_query_and_keeps_asking_in_the_background():
    engine = InProcessEngine()
    conn, deferred, _pauses = in_process(engine)
    handle = conn.cursor().submit("SELECT n")
    engine.fail("cancelQuery", DeadlineExceeded("no answer", method="cancelQuery"))
    handle.cancel()
    assert handle.state == QueryState.CANCELLED and handle.cancel_confirmed is False
    assert isinstance(handle.error, CancelNotConfirmed) and "did not confirm" in str(handle.error)
    assert [name for name, _ in deferred.started if name.startswith("e6-cancel-")] == [f"e6-cancel-{handle.query_id}"]
    deferred.run("e6-cancel-")  # the next try is answered
    assert handle.cancel_confirmed is True and engine.queries[handle.query_id] == "cancelled"
    assert type(handle.error) is QueryCancelled and "confirmed late" in str(handle.error)
    deferred.run("e6-fetch-")  # the fetcher, started before the cancel, stops at once and clears the query
    assert handle.query_id not in engine.queries
    with pytest.raises(QueryCancelled):
        handle.result()


def test_a_cancel_before_prepare_answered_never_executes():
    engine = InProcessEngine()
    conn, _deferred, _pauses = in_process(engine)
    early = QueryHandle(conn._session, "SELECT n", catalog="demo", schema="main")
    early.cancel()  # asked while the query is not prepared yet: it is prepared, never executed, and cleared
    with pytest.raises(QueryCancelled):
        early.start()
    assert engine.methods() == ["authenticate", "prepareStatementV2", "clearOrCancelQuery"]
    assert early.state == QueryState.CANCELLED and engine.queries == {}


def test_a_result_shorter_than_announced_fails_and_is_never_handed_out_whole():
    engine = InProcessEngine()
    engine.announced_rows = 5
    conn, deferred, _pauses = in_process(engine)
    cur = conn.cursor()
    handle = cur.submit("SELECT n")
    deferred.run("e6-fetch-")
    assert handle.state == QueryState.FAILED
    with pytest.raises(InterfaceError, match="announced 5 rows but sent 3"):
        handle.result()
    assert handle.query_id not in engine.queries  # a failed query is cleared at once
    cur.close()


def test_close_clears_what_is_live_and_closes_the_channel():
    engine = InProcessEngine()
    conn, _deferred, _pauses = in_process(engine)
    conn.cursor().submit("SELECT n")  # the cursor dropped, its query not read
    conn.close()
    assert engine.queries == {} and engine.closed
    with pytest.raises(InterfaceError, match="closed"):
        conn.cursor()
    with pytest.raises(InterfaceError, match="closed"):
        conn.get_tables()
