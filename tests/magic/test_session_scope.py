"""Kernel-scoped state: two %%e6sql sessions in one process keep their queries and workers apart."""
from __future__ import annotations

import time
import types

from e6magic.magic.config import E6Magic
from e6magic.magic.session import Session

LONG_QUERY = "SELECT sum(hash(range)) AS h FROM range(1000000000000)"  # hours of work: only a cancel ends it


def _shell(ip):
    """A second shell's view: its own namespace, the real shell's display machinery."""
    return types.SimpleNamespace(user_ns={}, display_pub=ip.display_pub, displayhook=ip.displayhook,
                                 kernel=None, config=ip.config)


def _running(session, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        handle = session.last.handle if session.last is not None else None
        if handle is not None and handle.state == "running":
            return handle
        time.sleep(0.05)
    raise AssertionError(f"the query did not start: {handle and handle.state}")


def test_closing_one_session_leaves_the_other_sessions_query_running(ip, engine):
    sessions = [Session(_shell(ip), E6Magic(parent=ip, widgets=False, progress=False)) for _ in range(2)]
    try:
        for session in sessions:
            session.run("--background", LONG_QUERY)
        first, second = (_running(s) for s in sessions)
        sessions[0].shutdown()
        assert first.state == "cancelled"
        time.sleep(0.3)  # a wrongly shared shutdown would have cancelled it by now
        assert second.state == "running"
        assert second.query_id in engine.queries()
        assert sessions[0].pool is not sessions[1].pool
    finally:
        sessions[1].shutdown()
    assert second.state == "cancelled"


def test_a_shut_down_session_takes_no_more_work(ip):
    session = Session(_shell(ip), E6Magic(parent=ip, widgets=False, progress=False))
    session.shutdown()
    try:
        session.pool.submit(lambda: None)
    except RuntimeError as exc:
        assert "shut down" in str(exc)
    else:
        raise AssertionError("a shut-down pool accepted work")
