"""Widget test fixtures: a comm that records what the kernel sends, and a stand-in for the view's messages."""
from __future__ import annotations

from typing import Any

import comm
import pytest
from comm.base_comm import BaseComm

import e6magic


class RecordingComm(BaseComm):
    """A comm whose messages to the frontend are kept for the test to read."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.published: list[dict[str, Any]] = []
        super().__init__(*args, **kwargs)

    def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None, **keys: Any) -> None:
        self.published.append({"msg_type": msg_type, "data": data, "buffers": buffers})


class Frontend:
    """Plays the browser's side of the widget protocol at the message level."""

    def send(self, widget: Any, content: dict[str, Any]) -> None:
        """What the view's ``model.send(content)`` delivers to the kernel."""
        widget._handle_msg({"content": {"data": {"method": "custom", "content": content}}, "buffers": []})

    def updates(self, widget: Any) -> list[dict[str, Any]]:
        """State updates the kernel sent since the widget opened (``{"method": "update", ...}``)."""
        return [m["data"]["state"] for m in widget.comm.published
                if m["msg_type"] == "comm_msg" and m["data"].get("method") == "update"]

    def customs(self, widget: Any) -> list[dict[str, Any]]:
        return [m["data"]["content"] for m in widget.comm.published
                if m["msg_type"] == "comm_msg" and m["data"].get("method") == "custom"]

    def clear(self, widget: Any) -> None:
        widget.comm.published.clear()


@pytest.fixture(autouse=True)
def recording_comms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(comm, "create_comm", lambda *a, **k: RecordingComm(*a, **k))


@pytest.fixture
def frontend() -> Frontend:
    return Frontend()


@pytest.fixture
def conn(engine):
    """A client connection to the session engine, closed (its queries cleared) after the test."""
    connection = e6magic.connect(host="127.0.0.1", port=engine.port, username="widgets@example.com",
                                 password=engine.token.reveal())
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def demo():
    """DuckDB's own copy of the demo data: what the widgets' answers are checked against."""
    import duckdb

    from e6magic.engine.catalog import build_demo

    con = duckdb.connect()
    build_demo(con)
    yield con
    con.close()
