"""Pages of a query's result read from the engine (ORDER BY / LIMIT / OFFSET): the grid's source past its window."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa


def page_sql(sql: str, start: int, size: int, sort_position: int | None = None, descending: bool = False) -> str:
    """`sql` wrapped to return rows ``start .. start + size`` of its result, sorted by one column if asked.

    The column is named by position (1-based), so any result column can be sorted, whatever its name;
    the newline before the closing parenthesis keeps a trailing ``-- comment`` from eating it.
    """
    if start < 0 or size < 1:
        raise ValueError(f"no page starts at row {start} with {size} rows")
    order = _order_by(sort_position, descending)
    return f"SELECT * FROM (\n{sql}\n) AS e6_page{order} LIMIT {int(size)} OFFSET {int(start)}"


def _order_by(sort_position: int | None, descending: bool) -> str:
    if sort_position is None:
        return ""
    return f" ORDER BY {int(sort_position) + 1} {'DESC' if descending else 'ASC'} NULLS LAST"


class EnginePager:
    """Reads one page of a query's result from the engine, on a cursor of its own each time.

    ``cursor`` makes a client cursor in the query's catalog and database. Each page is a new query on
    the engine, so the result is read again where it lives instead of being kept in the kernel; rows past
    the window come back in the engine's order, which an ORDER BY in the query makes stable.
    """

    def __init__(self, cursor: Callable[[], Any], sql: str) -> None:
        self._cursor = cursor
        self.sql = sql

    def __call__(self, start: int, size: int, sort_position: int | None, descending: bool) -> pa.Table:
        return self.run(page_sql(self.sql, start, size, sort_position, descending))

    def run(self, sql: str) -> pa.Table:
        """Run one query of the grid's own (a page, a profile, a count) and return its whole, small result."""
        cursor = self._cursor()
        try:
            cursor.execute(sql)
            return cursor.fetch_arrow()
        finally:
            cursor.close()  # clears it on the engine

    def over(self, sql: str) -> EnginePager:
        """A pager for another query on the same connection (the filtered result)."""
        return EnginePager(self._cursor, sql)

    def batches(self, sort_position: int | None = None, descending: bool = False) -> Iterator[pa.RecordBatch]:
        """The whole result again from the engine, sorted if asked, a record batch at a time (a download)."""
        cursor = self._cursor()
        try:
            cursor.execute(f"SELECT * FROM (\n{self.sql}\n) AS e6_all{_order_by(sort_position, descending)}")
            yield from cursor.fetch_arrow_reader()
        finally:
            cursor.close()
