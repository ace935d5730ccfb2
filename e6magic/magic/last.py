"""`_e6`: the last query run by `%%e6sql` (id, SQL, timings, rows, column types, plan, cancel, rerun)."""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from e6magic.states import QueryState


def pandas_frame(table: Any) -> Any:
    """The pandas DataFrame of a result table, the one conversion both `df <<` and `_e6.to_pandas()` use: the
    client's dtypes (decimals as float64, dates as datetime64, as DuckDB's `.df()`); the table survives."""
    from e6magic.client.frame import to_pandas

    return to_pandas(table, keep_table=True)


class LastQuery:
    """The last query of a cell: what ran, how long each phase took, and its result.

    ``timings`` (seconds): ``parse`` (submit until the engine prepared it), ``execution``
    (until the first batch), ``fetch`` (the remaining batches), ``convert`` (Arrow to the
    output type), ``total``. ``queue`` is the engine's own figure when the plan reports it.
    """

    def __init__(self, sql: str, *, handle: Any = None, cursor: Any = None,
                 rerun: Callable[[], Any] | None = None, output: Callable[[Any], Any] | None = None) -> None:
        self.sql = sql
        self.handle = handle
        self._cursor = cursor
        self._rerun = rerun
        self._output = output
        self.timings: dict[str, float] = {}
        self.table: Any = None  # the pyarrow Table once it is complete (None when read straight into `value`)
        self.total_rows: int | None = None  # set when ``table`` holds only the first rows (a shown-only big result)
        self.value: Any = None  # the output value (pandas by default)
        self.error: BaseException | None = None
        self.status: Any = None  # the QueryStatus widget shown for it, when there is one
        self.grid: Any = None  # the ResultGrid streamed while it ran, when there is one
        self.done = threading.Event()
        self._plan: Any = None

    @property
    def query_id(self) -> str | None:
        return None if self.handle is None else str(self.handle.query_id)

    @property
    def state(self) -> str:
        if self.handle is None:
            return QueryState.FAILED if self.error else QueryState.FINISHED
        return str(self.handle.state)

    @property
    def row_count(self) -> int | None:
        if self.total_rows is not None:
            return self.total_rows
        if self.table is None:
            return None if self.value is None else len(self.value)
        return int(self.table.num_rows)

    @property
    def columns(self) -> list[tuple[str, str]]:
        """The result's columns as (name, SQL type), e.g. ``[("order_id", "BIGINT"), ("amount", "DECIMAL(18,2)")]``:
        the grid's and `cursor.description`'s words; [] before the engine described the result."""
        from e6magic.client.sqltypes import sql_type, type_code

        if self.table is not None:
            return [(f.name, sql_type(f.type)) for f in self.table.schema]
        meta = getattr(self.handle, "metadata", None)
        return [] if meta is None else [(c.name, type_code(c.type_name)) for c in meta.columns]

    @property
    def complete(self) -> bool:
        """True when the kernel holds every row of the result (``to_pandas`` and friends work)."""
        return (self.table is not None or self.value is not None) and self.total_rows is None

    def release(self) -> None:
        """Clear this query on the engine once it is done (a running background query keeps going)."""
        if self._cursor is None:
            return
        if self.handle is not None and not self.done.is_set():
            self._release_when_done = True
            return
        cursor, self._cursor = self._cursor, None
        try:
            cursor.close()
        except Exception:  # noqa: BLE001 - an engine that went away has nothing left to clear
            pass

    def finished(self) -> None:
        """Mark the result complete (or failed); release it if a newer query already replaced it."""
        self.done.set()
        if getattr(self, "_release_when_done", False):
            self.release()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a `--background` query to finish; True when it did."""
        return self.done.wait(timeout)

    def cancel(self) -> None:
        """Cancel the query on the engine (idempotent)."""
        if self.handle is not None:
            self.handle.cancel()

    def plan(self) -> Any:
        """The engine's explain-analyse plan (a dict), fetched once on demand.

        Also fills ``timings["queue"]`` (and the engine's own parse time) from it.
        """
        if self._plan is None:
            if self._cursor is None:
                raise RuntimeError("no plan: this query is no longer kept on the engine")
            self._plan = self._cursor.explain_analyse()
        if isinstance(self._plan, dict):
            for key, name in (("queuing_time", "queue"), ("parsing_time", "engine_parse")):
                value = self._plan.get(key)
                if isinstance(value, (int, float)):
                    self.timings[name] = float(value) / 1000.0  # the engine reports milliseconds
        return self._plan

    def to_arrow(self) -> Any:
        self._raise_if_unfinished()
        if self.table is None:  # assigned straight to a DataFrame: only that was kept
            if _is_polars(self.value):
                return self.value.to_arrow()
            import pyarrow as pa

            return pa.Table.from_pandas(self.value, preserve_index=False)
        return self.table

    def to_pandas(self) -> Any:
        self._raise_if_unfinished()
        if self.table is None:
            return pandas_frame(self.value.to_arrow()) if _is_polars(self.value) else self.value
        return pandas_frame(self.table)

    def result(self) -> Any:
        """The value in the configured output type (what an output variable gets)."""
        self._raise_if_unfinished()
        if self.value is None and self._output is not None:
            self.value = self._output(self.table)
        return self.value

    def rerun(self) -> Any:
        """Run the same cell again (same options, parameters read afresh)."""
        if self._rerun is None:
            raise RuntimeError("this query cannot be re-run")
        return self._rerun()

    def _raise_if_unfinished(self) -> None:
        if self.error is not None:
            raise self.error
        if self.table is None and self.value is None:
            raise RuntimeError(f"query {self.query_id} has no result yet (state: {self.state})")
        if self.total_rows is not None:
            raise RuntimeError(
                f"query {self.query_id} returned {self.total_rows:,} rows, more than E6Magic.grid_keep_mb keeps for "
                f"a result that is only shown: the kernel holds its first {self.table.num_rows:,}. "
                "Assign it to keep every row (df << SELECT ...), or raise E6Magic.grid_keep_mb.")

    def __repr__(self) -> str:
        rows = "" if self.row_count is None else f", rows={self.row_count}"
        total = self.timings.get("total")
        took = "" if total is None else f", {total:.3f} s"
        first = self.sql.strip().splitlines()[0][:60] if self.sql.strip() else ""
        return f"<e6 query {self.query_id} {self.state}{rows}{took}: {first!r}>"


def _is_polars(value: Any) -> bool:
    return type(value).__module__.startswith("polars")  # no import: polars is optional
