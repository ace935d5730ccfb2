"""Fixtures for the dialect: SQLAlchemy engines on `e6magic://` URLs to the shared local engine, left clean."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from e6_urls import e6_url

from e6magic.engine import LocalEngine


@pytest.fixture
def make_engine(engine: LocalEngine) -> Iterator[Callable[..., sa.Engine]]:
    """`make_engine(**query)`: an SQLAlchemy engine on the shared local engine; all disposed afterwards."""
    made: list[sa.Engine] = []

    def make(target: LocalEngine | None = None, **query: str) -> sa.Engine:
        made.append(sa.create_engine(e6_url(target or engine, **query)))
        return made[-1]

    yield make
    for sa_engine in made:
        sa_engine.dispose()


@pytest.fixture
def e6(make_engine, engine: LocalEngine) -> Iterator[sa.Engine]:
    """An SQLAlchemy engine on the shared local engine that must leave no query behind."""
    sa_engine = make_engine()
    yield sa_engine
    sa_engine.dispose()
    assert _settled(engine) == {}, "a test left queries on the engine"


def _settled(engine: LocalEngine, timeout: float = 5.0) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while engine.queries() and time.monotonic() < deadline:
        time.sleep(0.05)
    return engine.queries()
