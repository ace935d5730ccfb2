"""Shared fixtures: a real local engine on 127.0.0.1 for the whole session, and fresh ones on demand."""
from __future__ import annotations

from typing import Callable, Iterator

import pytest

from e6magic.engine import LocalEngine


@pytest.fixture(scope="session")
def engine() -> Iterator[LocalEngine]:
    """The demo-catalog engine most tests share; tests must clear what they run."""
    with LocalEngine(host="127.0.0.1", port=0) as running:
        yield running


@pytest.fixture
def engine_factory() -> Iterator[Callable[..., LocalEngine]]:
    """Start engines a test may flip, suspend or stop; every one is stopped afterwards."""
    started: list[LocalEngine] = []

    def start(**options) -> LocalEngine:
        options.setdefault("host", "127.0.0.1")
        options.setdefault("port", 0)
        running = LocalEngine(**options).start()
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop(grace=0.2)

