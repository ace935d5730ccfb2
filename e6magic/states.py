"""The one vocabulary of query states, shared by the client, the magic and the widgets."""
from __future__ import annotations

from enum import Enum


class QueryState(str, Enum):
    """A query's state; each member is its own string, so ``state == "finished"``, JSON and widget traits keep
    working with the plain words (``str`` and ``format`` give the word, not the member's name)."""

    PREPARED = "prepared"
    RUNNING = "running"
    FETCHING = "fetching"
    FINISHED = "finished"
    CANCELLED = "cancelled"
    FAILED = "failed"

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


FINAL_STATES = frozenset({QueryState.FINISHED, QueryState.CANCELLED, QueryState.FAILED})
