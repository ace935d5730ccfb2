"""One statement of a `%%e6sql` cell, phase by phase: submit, show, stream, collect, finish.

`Statement.run` is a `runner.Plan`: a phase that blocks (submit, the fetch, the plan, the clean-up) yields
`Work`, which the driver (`runner.run`) runs on a worker. Everything else here runs on the kernel's main
thread, which alone touches widgets: the status line and the streamed grid are fed by `Statement.stream`,
called between the driver's 100 ms waits.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError

from e6magic.magic import errors, runner
from e6magic.magic.command import Command
from e6magic.magic.config import E6Magic
from e6magic.magic.display import Display, Interrupted, StreamedGrid
from e6magic.magic.last import LastQuery, pandas_frame
from e6magic.magic.runner import Plan, Work
from e6magic.magic.summary import Outcome
from e6magic.states import QueryState

Bound = tuple[str, str, dict[str, Any] | None]  # a statement as written, as sent, and its bound values

WINDOW_ROWS = 10_000  # a result too big to keep shows at least this many rows without asking the engine again
WINDOW_PAGES = 20


class Statement:
    """One statement's query, from submit to its final line (or its one-line error).

    ``shown``: its result is shown (the last statement of a cell that assigns nothing), so a grid streams
    and a result too big to keep whole keeps only its first rows.
    """

    def __init__(self, display: Display, config: E6Magic, connection: Any, cmd: Command, bound: Bound, *,
                 rerun: Callable[[], Any], is_last: bool, shown: bool) -> None:
        self.display, self.config, self.connection, self.cmd = display, config, connection, cmd
        written, self.sql, self.params = bound
        self.is_last, self.shown = is_last, shown
        self.cursor = open_cursor(connection, cmd)
        self.last = LastQuery(written, cursor=self.cursor, rerun=rerun, output=lambda t: to_output(t, config.output))
        self.limit = cmd.limit if cmd.limit is not None else (config.autolimit or None)
        self.started = time.perf_counter()
        self.handle: Any = None  # the client's QueryHandle, once submitted
        self.status: Any = None  # the live status line (None: progress off, or no widgets)
        self.grid: StreamedGrid | None = None  # the grid fed while rows arrive (shown results in a kernel)
        self.plan_slot: Any = None  # --explain: the output above the grid that the plan fills at the end

    def run(self, pool: runner.WorkerPool, ns: dict[str, Any]) -> Plan[LastQuery]:
        """The phases in order; a `--background` query goes on by itself once submitted."""
        self.handle = yield from self.submit()
        if self.cmd.background:
            self.background(pool, ns)
            return self.last
        try:
            self.show()
            yield from self.collect()
        except KeyboardInterrupt:
            raise self._interrupted() from None
        except Exception as exc:  # noqa: BLE001 - every failure ends the cell, in one line unless asked otherwise
            raise self._failed(exc) from None
        finally:
            self.last.finished()
        yield from self.finish()
        return self.last

    # -- the phases -----------------------------------------------------------------------
    def submit(self) -> Plan[Any]:
        """Send the SQL on a worker; a cancel while prepare still runs reaches the engine (the handle exists)."""
        cursor, sql, params, timeout = self.cursor, self.sql, self.params, self.config.timeout or None

        def cancel() -> None:
            if cursor.handle is not None:  # set before prepare returns
                cursor.handle.cancel()

        try:
            handle = yield Work(lambda: cursor.submit(sql, params, timeout=timeout), cancel=cancel,
                                cancel_result=True)
        except Exception as exc:  # noqa: BLE001 - a refused query fails the cell, in one line
            self.last.error = cell_error(exc, self.config)
            self.last.finished()
            raise self.last.error from None
        self.last.handle = handle
        return handle

    def show(self) -> None:
        """What shows while it runs: the plan's place first (--explain), then the status line; the grid streams."""
        if self.cmd.explain and self.is_last:
            self.plan_slot = self.display.plan_slot()
        if self.shown:
            self.grid = self.display.stream(self.handle)  # shows itself at the first batch
        self.status = self.last.status = self.display.status(self.handle)

    def stream(self) -> None:
        """Between the driver's waits, on the main thread: the status line catches up, the grid takes new batches."""
        if self.status is not None:
            self.status.refresh()
        if self.grid is not None:
            self.grid.pump()

    def collect(self) -> Plan[None]:
        """Read the result on a worker: straight into an assigned pandas or polars variable, else as an Arrow
        table whose batches the grid shares (only its first rows when it is too big to keep whole)."""
        handle, last = self.handle, self.last
        straight = self._straight()
        if straight is not None:  # assigned: never streamed to a grid
            last.value = yield Work(straight, cancel=handle.cancel, tick=self.stream)
            return
        cursor, limit = self.cursor, self.limit
        into = self.grid.batches if self.grid is not None else None
        keep = int(self.config.grid_keep_mb * 2**20) if self.shown and self.config.grid_keep_mb > 0 else None
        window_rows = max(WINDOW_ROWS, WINDOW_PAGES * max(1, self.config.display_limit))
        last.table, last.total_rows = yield Work(
            lambda: read_result(cursor, handle, limit, into, keep, window_rows), cancel=handle.cancel, tick=self.stream)

    def finish(self) -> Plan[None]:
        """The grid complete (or paging from the engine), the final line, the plan kept; a window's result and a
        statement that is not the cell's last are cleared on the engine."""
        last = self.last
        if self.grid is not None:
            last.grid = self.grid.done(last.table, self._window())
        last.timings.update(timings(self.handle, self.started))
        self.display.conclude(self.status, outcome(last, self.config.thousands))
        yield from self._keep_plan()
        if last.total_rows is not None:
            yield Work(last.release)
        if not self.is_last:
            self.cursor.close()  # clears it on the engine; only the last query stays for _e6.plan()

    def background(self, pool: runner.WorkerPool, ns: dict[str, Any]) -> None:
        """`--background`: the read goes on on a worker; its end sets the variable and the final line."""
        self.status = self.last.status = self.display.status(self.handle)
        straight, cursor, handle, limit = self._straight(), self.cursor, self.handle, self.limit

        def work() -> Any:
            return straight() if straight is not None else read_result(cursor, handle, limit)[0]

        runner.run_in_background(pool, work, lambda future: self._background_done(future, straight is not None, ns))
        self.display.note(f"e6sql: query {handle.query_id} runs in the background"
                          + (f"; {self.cmd.target} is set when it finishes" if self.cmd.target else "")
                          + " (_e6.wait(), _e6.cancel()).")

    # -- the steps within -----------------------------------------------------------------
    def _background_done(self, future: Any, straight: bool, ns: dict[str, Any]) -> None:
        """A background query's end, on its worker: the result kept, the variable set, the final line."""
        last = self.last
        try:
            if straight:
                last.value = future.result()
            else:
                last.table = future.result()
            last.timings.update(timings(self.handle, self.started))
            if self.is_last and self.cmd.target is not None:
                ns[self.cmd.target] = last.result()  # filled only with the complete result
            self.display.conclude(self.status, outcome(last, self.config.thousands))
        except BaseException as exc:  # noqa: BLE001 - kept on the handle for _e6
            last.error = cell_error(exc, self.config)
            self.display.conclude(self.status, Outcome(QueryState.FAILED, time.perf_counter() - self.started,
                                                       last.query_id, note=errors.message(exc)))
        finally:
            last.finished()

    def _interrupted(self) -> Interrupted:
        """Ctrl-C or Interrupt: the query is cancelled on the engine, and the cell ends in the cancel's line."""
        self.handle.cancel()
        line = self._cancelled()
        self.display.no_plan(self.plan_slot)
        return Interrupted(line.text(), shown=self.status is not None)

    def _failed(self, exc: Exception) -> BaseException:
        """The error the cell ends with: a cancel (the Cancel button, `_e6.cancel()`) in the cancel's line, any
        other failure as itself, shortened (the status line goes: the error says it all)."""
        from e6magic.client import QueryCancelled

        self.display.no_plan(self.plan_slot)
        error = cell_error(exc, self.config)
        if isinstance(exc, QueryCancelled) or (self.status is not None and self.status.cancel_requested):
            error = errors.shorten(exc, self._cancelled().text())
            vars(error)["e6_shown"] = self.status is not None  # the status line shows it: nothing more prints
        else:
            self.display.conclude(self.status, None)
            if self.grid is not None:
                self.grid.abandon()
        self.last.error = error
        return error

    def _cancelled(self) -> Outcome:
        """A cancel, whoever asked for it: the status line says so in one wording; a partial grid goes."""
        line = Outcome(QueryState.CANCELLED, time.perf_counter() - self.started, str(self.handle.query_id),
                       rows=int(getattr(self.handle, "rows_fetched", 0) or 0), thousands=self.config.thousands)
        self.display.conclude(self.status, line)
        if self.grid is not None:
            self.grid.abandon()
        return line

    def _window(self) -> tuple[Callable[[], Any], str, int] | None:
        """How the grid reads pages past a kept window: fresh cursors for the same SQL (None: all rows kept)."""
        if self.last.total_rows is None:
            return None
        connection, cmd = self.connection, self.cmd
        return (lambda: open_cursor(connection, cmd)), str(self.handle.sql), self.last.total_rows

    def _keep_plan(self) -> Plan[None]:
        """--explain fetches the plan. So does a window, whose engine-side result is cleared next: the grid reads
        other pages with queries of its own, and the embedded engine would hold the whole result in this kernel."""
        if self.cmd.explain and self.is_last:
            self.last._plan = yield Work(self.cursor.explain_analyse)
        elif self.last.total_rows is not None:
            from e6magic.client import Error as ClientError

            try:
                self.last._plan = yield Work(self.cursor.explain_analyse)
            except ClientError:
                pass  # the window is shown all the same; _e6.plan() then says the query is gone

    def _straight(self) -> Callable[[], Any] | None:
        """How a whole result bound for a pandas or polars variable is read straight into it: pandas column by
        column as it arrives (the client's `fetch_df`), polars from the client's Arrow stream (`fetch_polars`),
        so the kernel never holds it twice; `_e6` then keeps that frame. None: read as an Arrow table."""
        if not (self.is_last and self.cmd.target is not None and self.limit is None):
            return None
        cursor = self.cursor
        if self.config.output == "pandas":
            return lambda: cursor.fetch_df()
        if self.config.output == "polars":
            return lambda: _polars(cursor.fetch_polars)
        return None


def open_cursor(connection: Any, cmd: Command) -> Any:
    """A cursor of ``connection``, in the cell's --catalog / --database when it names them."""
    if cmd.catalog is None and cmd.database is None:
        return connection.cursor()
    return connection.cursor(catalog=cmd.catalog, database=cmd.database)


def cell_error(exc: BaseException, config: E6Magic) -> BaseException:
    """The error the cell ends with: one line unless `short_errors` is off."""
    if isinstance(exc, UsageError) or not config.short_errors:
        return exc
    return errors.shorten(exc)


def outcome(last: LastQuery, thousands: bool) -> Outcome:
    """The finished line: the result's own counts (a --limit's, a window's whole), not the rows read."""
    value = last.table if last.table is not None else last.value
    columns = None
    if value is not None:
        columns = value.num_columns if hasattr(value, "num_columns") else len(getattr(value, "columns", ()))
    kept = last.table.num_rows if last.total_rows is not None and last.table is not None else None
    return Outcome(QueryState.FINISHED, last.timings.get("total", 0.0), last.query_id, last.row_count, columns,
                   kept, thousands=thousands)


def timings(handle: Any, started: float) -> dict[str, float]:
    """The client's phase times under the names `_e6.timings` documents."""
    measured = dict(getattr(handle, "timings", {}) or {})
    names = {"prepare": "parse", "execution": "execution", "fetch": "fetch"}
    out = {names[k]: float(v) for k, v in measured.items() if k in names}
    out["total"] = time.perf_counter() - started
    return out


def to_output(table: Any, output: str) -> Any:
    """Convert a pyarrow Table to the configured output type."""
    if output == "arrow":
        return table
    if output == "polars":
        from e6magic.client.arrow_stream import to_polars

        return _polars(lambda: to_polars(table))
    return pandas_frame(table)


def _polars(make: Callable[[], Any]) -> Any:
    """The client's polars conversion (its Arrow stream path), its missing-polars error as a usage error."""
    try:
        return make()
    except ImportError as exc:
        raise UsageError(f"E6Magic.output = 'polars': {exc}") from exc


def _too_big_to_keep(handle: Any, batch: Any, kept: list[Any], keep_bytes: int) -> int | None:
    """The result's full row count when it is too big to keep whole (a window is kept), else None. A count in the
    metadata decides at the first batch; a streamed result's (-1 until its end) once the batches kept would pass
    `keep_bytes`, and the count is asked of the engine then."""
    known = handle.row_count
    if known is not None and known >= 0:
        return int(known) if not kept and batch.nbytes / batch.num_rows * known > keep_bytes else None
    if sum(b.nbytes for b in kept) + batch.nbytes > keep_bytes:
        return int(handle.wait_row_count())
    return None


def read_result(cursor: Any, handle: Any, limit: int | None, into: list[Any] | None = None,
                keep_bytes: int | None = None, window_rows: int = 0) -> tuple[Any, int | None]:
    """Read the whole result (or its first ``limit`` rows, then cancel the rest). Blocking: runs on a worker.

    ``into`` receives each record batch as it arrives (the streaming grid reads it from the main
    thread); the table returned is built over those same batches, not a copy. With ``keep_bytes``,
    a result whose first batch says the whole would be bigger keeps only its first ``window_rows``
    rows: reading stops there (the query ends finished, kept on the engine) and the second value is
    the result's full row count; it is None when the table holds the whole result.
    """
    import pyarrow as pa

    if limit is None and into is None and keep_bytes is None:
        return cursor.fetch_arrow(), None
    batches = into if into is not None else []
    rows = 0
    total: int | None = None
    for batch in cursor.fetch_batches():
        if keep_bytes is not None and total is None and batch.num_rows and (limit is None or limit > window_rows):
            total = _too_big_to_keep(handle, batch, batches, keep_bytes)
            if total is not None:
                limit = max(1, window_rows, rows)
        if limit is not None and rows + batch.num_rows > limit:
            batch = batch.slice(0, limit - rows)  # zero-copy: the grid never shows rows past the limit
        batches.append(batch)
        rows += batch.num_rows
        if limit is not None and rows >= limit:
            if total is not None:
                handle.stop_reading()  # the engine keeps the result; pages past the window are read there
            else:
                handle.cancel()  # the rest is not wanted: free the engine now
            break
    if total is not None and total <= rows:
        total = None  # it all fit after all
    if batches:
        return pa.Table.from_batches(batches), total
    if limit is None:
        return cursor.fetch_arrow(), None  # no rows: the result's own (typed) empty table
    names = [d[0] for d in cursor.description or []]
    return pa.table({name: pa.array([], pa.null()) for name in names}), None
