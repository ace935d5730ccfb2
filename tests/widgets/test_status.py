"""QueryStatus against the real local engine: live refresh, Cancel from the view cancels on the engine, fallback."""
from __future__ import annotations

import threading

import pytest

import e6magic
from e6magic.widgets import QueryStatus, cancel_support

# 52.8 s through the local engine here (measured once); every test that starts it cancels it
LONG_SQL = "SELECT count(*) FROM range(10000000000) t(i) WHERE i % 7 = 3"


@pytest.fixture
def long_query(conn):
    handle = conn.cursor().submit(LONG_SQL)
    yield handle
    handle.cancel()
    handle.wait(10)


def test_cancel_from_the_view_cancels_on_the_engine(long_query, engine, frontend):
    status = QueryStatus(long_query)
    assert status.query_id == long_query.query_id and status.state == "running"
    frontend.clear(status)
    frontend.send(status, {"kind": "cancel"})
    assert status.state == "cancelled"  # at once, not when the engine's stream ends
    assert {"state": "cancelled"} in [{k: v for k, v in u.items() if k == "state"} for u in frontend.updates(status)]
    assert [m["kind"] for m in frontend.customs(status)] == ["cancel_ack"]
    assert long_query.wait(10)
    assert long_query.state == "cancelled"
    assert engine.query_state(long_query.query_id) in ("cancelled", "cleared")
    status.refresh()
    status.finish()
    assert status.state == "cancelled" and status.message == "cancelled from the Cancel button"


def test_cancel_from_a_subshell_thread_while_the_main_thread_refreshes(long_query, engine, frontend):
    """ipykernel 7.0-7.3 runs the click handler on a subshell thread while the cell polls."""
    status = QueryStatus(long_query)
    clicker = threading.Timer(0.3, frontend.send, args=(status, {"kind": "cancel"}))
    clicker.start()
    while not long_query.wait(0.05):
        status.refresh()
    clicker.join()
    status.finish()
    assert status.state == "cancelled" and long_query.state == "cancelled"
    assert engine.query_state(long_query.query_id) in ("cancelled", "cleared")


def test_refresh_follows_a_query_to_the_end(conn):
    handle = conn.cursor().submit("SELECT * FROM demo.main.orders LIMIT 200000")
    status = QueryStatus(handle)
    reader = threading.Thread(target=handle.result)
    reader.start()
    seen = {status.state}
    while not handle.wait(0.02):
        status.refresh()
        seen.add(status.state)
    reader.join()
    status.finish()
    assert seen <= {"running", "finished"}
    assert status.state == "finished" and status.rows == 200_000 and status.elapsed > 0
    assert status.fallback_text() == f"query {handle.query_id} · finished · {status.elapsed:.1f} s · 200,000 rows"


def test_cancel_after_the_end_changes_nothing(conn, engine, frontend):
    handle = conn.cursor().submit("SELECT 42 AS answer")
    handle.result()
    status = QueryStatus(handle)
    assert status.state == "finished"
    frontend.send(status, {"kind": "cancel"})
    assert status.state == "finished" and not status.cancel_requested
    assert engine.query_state(handle.query_id) != "cancelled"


def test_a_failing_query_says_failed_with_its_message(conn):
    handle = conn.cursor().submit("SELECT CAST(s AS INTEGER) FROM (VALUES ('1'), ('not a number')) t(s)")
    with pytest.raises(e6magic.DatabaseError) as caught:
        handle.result()
    status = QueryStatus(handle)
    status.finish(message=str(caught.value))
    assert status.state == "failed"
    assert "not a number" in status.message and "\n" not in status.message
    page = status.fallback_html()
    assert 'class="e6-status e6-state-failed"' in page and handle.query_id in page


@pytest.mark.parametrize(("version", "reachable", "hint"), [
    ("7.4.0", True, ""),
    ("7.3.0", True, "Cancel needs JupyterLab comm subshells on ipykernel 7.3.0; if it does not respond, use the "
                    "kernel's stop button (Interrupt), which always cancels the query."),
    ("6.31.0", False, "Cancel cannot reach a busy ipykernel 6.31.0 (< 7.4); use the kernel's stop button "
                      "(Interrupt), which always cancels the query."),
])
def test_cancel_support_by_ipykernel_version(monkeypatch, version, reachable, hint):
    import ipykernel

    monkeypatch.setattr(ipykernel, "__version__", version)
    assert cancel_support() == (reachable, hint)


def test_an_unreachable_cancel_is_disabled_with_a_hint(long_query):
    status = QueryStatus(long_query, cancel_reachable=False)
    assert not status.cancel_enabled and "stop button" in status.cancel_hint


def test_a_cancel_that_cannot_be_sent_says_so_and_can_be_retried(frontend):
    """The real client swallows engine errors on cancel; this stands in for a failure below it."""

    class BrokenTransport:
        query_id, state, rows_fetched, elapsed = "q-broken", "running", 10, 1.5

        def cancel(self) -> None:
            raise RuntimeError("connection reset\nsecond line")

    status = QueryStatus(BrokenTransport())
    frontend.send(status, {"kind": "cancel"})
    status._canceller.join(5)  # the RPC runs off the kernel's event loop
    assert status.state == "running" and status.message == "cancel failed: connection reset"
    assert not status.cancel_requested
    assert frontend.customs(status)[-1]["ok"] is False
