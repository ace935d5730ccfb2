"""Honest cancel: against a stalled engine cancel returns fast, says "cancel not confirmed", and keeps trying."""
from __future__ import annotations

import time

import pytest

from e6magic.client.exceptions import CancelNotConfirmed, QueryCancelled
from e6magic.client.query import CANCEL_TIMEOUT
from tests.client.conftest import settle
from tests.client.test_handle import SLOW, wait_for
from tests.reliability.fault_proxy import PASS, STALL, FaultProxy


@pytest.fixture
def proxy(engine):
    with FaultProxy((engine.host, engine.port)) as running:
        yield running


def test_cancel_against_a_stalled_engine_returns_fast_and_is_not_confirmed(engine, proxy):
    conn = proxy.connect(engine)
    try:
        handle = conn.cursor().submit(SLOW)
        assert wait_for(lambda: engine.query_state(handle.query_id) == "running")
        proxy.set(STALL)
        started = time.monotonic()
        handle.cancel()
        took = time.monotonic() - started
        assert took < CANCEL_TIMEOUT + 1.5, f"cancel held the caller {took:.1f} s"
        assert handle.state == "cancelled" and handle.cancel_confirmed is False
        assert isinstance(handle.error, CancelNotConfirmed)
        assert "cancel not confirmed" in str(handle.error) and f"127.0.0.1:{proxy.port}" in str(handle.error)
        with pytest.raises(CancelNotConfirmed):
            handle.result()
        assert engine.query_state(handle.query_id) == "running"  # the engine never heard of it
        handle.cancel()  # a second click neither blocks nor changes the story
        assert handle.cancel_confirmed is False
        proxy.set(PASS)
        # the client kept asking: the engine cancels it once it hears again
        assert wait_for(lambda: engine.query_state(handle.query_id) in ("cancelled", "cleared", None), 15)
        assert handle.wait_cancel_confirmed(15) and handle.cancel_confirmed is True
        assert isinstance(handle.error, QueryCancelled) and not isinstance(handle.error, CancelNotConfirmed)
    finally:
        proxy.set(PASS)
        conn.close()
    assert settle(engine, 15) == {}, "the stalled query was left on the engine"


def test_cancel_confirmed_at_once_when_the_engine_answers(engine, proxy):
    conn = proxy.connect(engine)
    try:
        handle = conn.cursor().submit(SLOW)
        assert wait_for(lambda: engine.query_state(handle.query_id) == "running")
        handle.cancel()
        assert handle.cancel_confirmed is True and type(handle.error) is QueryCancelled
        assert engine.query_state(handle.query_id) in ("cancelled", "cleared")
    finally:
        conn.close()
    assert settle(engine) == {}


def test_the_cancel_button_never_waits_for_a_stalled_engine(engine, proxy):
    """The click handler runs on the kernel's event loop: it answers at once, and the line tells the truth."""
    from e6magic.widgets import QueryStatus

    conn = proxy.connect(engine)
    try:
        handle = conn.cursor().submit(SLOW)
        assert wait_for(lambda: engine.query_state(handle.query_id) == "running")
        status = QueryStatus(handle)
        proxy.set(STALL)
        started = time.monotonic()
        status._handle_msg({"content": {"data": {"method": "custom", "content": {"kind": "cancel"}}}, "buffers": []})
        # waiting for the stalled RPC would take its whole CANCEL_TIMEOUT; half of it leaves room for a loaded machine
        assert time.monotonic() - started < CANCEL_TIMEOUT / 2, "the click waited for the cancel RPC"
        assert status.state == "cancelled"
        assert wait_for(lambda: "cancel not confirmed" in status.message, CANCEL_TIMEOUT + 3)
        assert status.detail == "cancel not confirmed" and "cancel not confirmed" in status.fallback_text()
        proxy.set(PASS)
        assert wait_for(lambda: "confirmed late" in status.message, 15)
        assert engine.query_state(handle.query_id) in ("cancelled", "cleared", None)
    finally:
        proxy.set(PASS)
        conn.close()
    assert settle(engine, 15) == {}
