"""Client fixtures: a connection to the shared local engine that must leave no query behind."""
from __future__ import annotations

import time
from typing import Callable, Iterator

import pytest

from e6magic.client import Connection, connect
from e6magic.engine import LocalEngine


def open_connection(engine: LocalEngine, **options) -> Connection:
    options.setdefault("catalog", "demo")
    options.setdefault("database", "main")
    return connect(host=engine.host, port=engine.port, username="tester", password=engine.token, **options)


def settle(engine: LocalEngine, timeout: float = 5.0) -> dict[str, str]:
    """The engine's uncleared queries, after giving in-flight clears a moment to land."""
    deadline = time.monotonic() + timeout
    while engine.queries() and time.monotonic() < deadline:
        time.sleep(0.05)
    return engine.queries()


@pytest.fixture
def conn(engine: LocalEngine) -> Iterator[Connection]:
    connection = open_connection(engine)
    yield connection
    connection.close()
    assert settle(engine) == {}, "a test left queries on the engine"


@pytest.fixture
def connect_to() -> Iterator[Callable[..., Connection]]:
    opened: list[Connection] = []

    def make(engine: LocalEngine, **options) -> Connection:
        connection = open_connection(engine, **options)
        opened.append(connection)
        return connection

    yield make
    for connection in opened:
        connection.close()
