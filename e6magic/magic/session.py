"""One kernel's `%%e6sql` state and the plan of a cell: connect, bind, submit, wait, collect, show."""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from IPython.core.error import UsageError

from e6magic.magic import errors, runner
from e6magic.magic.command import Command, parse
from e6magic.magic.config import E6Magic
from e6magic.magic.connections import (
    Connections,
    Endpoint,
    profiles_path,
    resolve,
    with_token,
)
from e6magic.magic.display import Display, Interrupted
from e6magic.magic.last import LastQuery, pandas_frame
from e6magic.magic.params import render_template, to_client_params
from e6magic.magic.runner import Plan, Work
from e6magic.magic.sqltext import split_statements
from e6magic.magic.summary import Outcome
from e6magic.states import FINAL_STATES, QueryState

FINAL = FINAL_STATES
WINDOW_ROWS = 10_000  # a result too big to keep shows at least this many rows without asking the engine again
WINDOW_PAGES = 20


def connect_endpoint(endpoint: Endpoint) -> Any:
    """Open a client connection to ``endpoint`` (blocking; runs on a worker)."""
    from e6magic.client import connect

    connection = connect(host=endpoint.host, port=endpoint.port, username=endpoint.username or "e6magic",
                         password=endpoint.token, catalog=endpoint.catalog, database=endpoint.database,
                         cluster_name=endpoint.cluster, secure=endpoint.secure)
    try:
        connection.session_id  # the client authenticates lazily: a wrong token should fail here, not later
    except BaseException:
        connection.close()
        raise
    return connection


def start_local_engine() -> Any:
    """Start the embedded local engine on a free loopback port, with the demo catalog."""
    from e6magic.engine import LocalEngine

    return LocalEngine(host="127.0.0.1", port=0, demo=True).start()


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
        return known if not kept and batch.nbytes / batch.num_rows * known > keep_bytes else None
    if sum(b.nbytes for b in kept) + batch.nbytes > keep_bytes:
        return int(handle.wait_row_count())
    return None


def collect(cursor: Any, handle: Any, limit: int | None, into: list[Any] | None = None,
            keep_bytes: int | None = None, window_rows: int = 0) -> tuple[Any, int | None]:
    """Read the whole result (or its first ``limit`` rows, then cancel the rest). Blocking.

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


class Session:
    """The kernel's connections, options and last query; runs parsed commands as plans."""

    def __init__(self, shell: Any, config: E6Magic) -> None:
        self.shell = shell
        self.config = config
        self.display = Display(config, shell)
        self.connections = Connections(connect_endpoint, start_local_engine)
        self.last: LastQuery | None = None
        self.schema: Any = None  # the completer's SchemaCache, set when it is installed
        self._plan_slot: Any = None  # --explain: the output above the grid that the plan fills
        # this shell's workers: another shell in the process (or its shutdown) never touches them
        self.pool = runner.WorkerPool()

    # -- entry points -------------------------------------------------------------------
    def run(self, line: str, cell: str | None) -> Any:
        """The blocking magic: Ctrl-C / Interrupt cancels the query on the engine."""
        command = parse(line, cell)
        return runner.drive(self.plan(command, line, cell), self.pool)

    async def run_async(self, line: str, cell: str | None) -> Any:
        """The rewritten top-level cell: awaited in the kernel loop, so Cancel clicks get through."""
        command = parse(line, cell)
        return await runner.drive_async(self.plan(command, line, cell), self.pool)

    def connection(self) -> Any:
        """The connection a query would use now (opening it, or the embedded engine, if needed)."""
        return runner.drive(self._connection(Command()), self.pool)

    def shutdown(self) -> None:
        """Cancel and clear this shell's queries (closing its connections does: they track their live queries)
        and let its workers go; other shells in the process keep theirs."""
        self.connections.close()
        self.pool.shutdown()

    # -- the plan -----------------------------------------------------------------------
    def plan(self, cmd: Command, line: str, cell: str | None) -> Plan[Any]:
        ns = self.shell.user_ns
        if cmd.close:
            self.connections.close()
            self.display.note("e6sql: connections closed.")
            return None
        if cmd.refresh and getattr(self, "schema", None) is not None:
            self.schema.refresh()
            self.display.note("e6sql: schema names will be read again for completion.")
        if cmd.schema:
            if cmd.sql.strip():
                raise UsageError("--schema browses the connection; run the SQL in its own cell.")
            connection = yield from self._connection(cmd)
            tree = self.display.schema(connection)
            if tree is not None:  # no widgets: list the names on a worker, then print them
                self.display.text((yield Work(tree)))
            return None
        if not cmd.sql.strip() and cmd.connect is None and cmd.alias is None:
            return None
        connection = yield from self._connection(cmd)
        if not cmd.sql.strip():
            return None
        statements = self._bound_statements(cmd, ns)
        if cmd.show_sql:
            self.display.sql([(sent, params) for _, sent, params in statements])
            return None
        if cmd.dry_run:
            if any(params for _, _, params in statements):
                raise UsageError("--dry-run cannot bind :name parameters; try --show-sql to see them.")
            for text, _, _ in statements:
                answer = yield Work(lambda t=text: connection.dry_run(t))
                self.display.value(answer)
            return None
        if cmd.background and len(statements) > 1:
            raise UsageError("--background runs one statement; split the cell or drop --background.")
        last = None
        for index, (written, text, params) in enumerate(statements):
            last = yield from self._one(connection, cmd, written, text, params, line, cell,
                                        is_last=index == len(statements) - 1)
        return self._finish(cmd, last, ns, cell is None)

    def _connection(self, cmd: Command) -> Plan[Any]:
        if cmd.connect is not None or cmd.alias is not None:
            endpoint = resolve(cmd.connect, cmd.alias, profiles=profiles_path(self.config.profiles_path))
            if endpoint is None:  # pragma: no cover - resolve always answers when asked
                raise UsageError("nothing to connect to")
            endpoint = with_token(endpoint)
            if cmd.connect is None:
                return (yield Work(lambda: self.connections.for_alias(endpoint, str(cmd.alias))))
            connection = yield Work(lambda: self.connections.open(endpoint))
            self.display.note(f"e6sql: connected to {endpoint.describe()}.")
            return connection
        connection = self.connections.current
        if connection is not None:
            return connection
        endpoint = resolve(None, None, profiles=profiles_path(self.config.profiles_path))
        if endpoint is not None:
            endpoint = with_token(endpoint)  # the prompt runs here, on the main thread
            connection = yield Work(lambda: self.connections.open(endpoint))
            self.display.note(f"e6sql: connected to {endpoint.describe()}.")
            return connection
        local = yield Work(self.connections.start_embedded)
        connection = yield Work(lambda: self.connections.open(local))
        self.display.note(self.connections.embedded_note())
        return connection

    def _bound_statements(self, cmd: Command, ns: Mapping[str, Any]) -> list[tuple[str, str, dict[str, Any] | None]]:
        """(as written, as sent, params) for each statement."""
        sql = render_template(cmd.sql, ns) if cmd.jinja else cmd.sql
        statements = split_statements(sql)
        if not statements:
            raise UsageError("no SQL to run after rendering the template.")
        if not self.config.bind_params:
            return [(text, text, None) for text in statements]
        return [(text, *to_client_params(text, ns)) for text in statements]

    def _cursor(self, connection: Any, cmd: Command) -> Any:
        if cmd.catalog is None and cmd.database is None:
            return connection.cursor()
        return connection.cursor(catalog=cmd.catalog, database=cmd.database)

    def _one(self, connection: Any, cmd: Command, written: str, text: str, params: dict[str, Any] | None,
             line: str, cell: str | None, *, is_last: bool) -> Plan[LastQuery]:
        cursor = self._cursor(connection, cmd)
        last = LastQuery(written, cursor=cursor, rerun=lambda: self.run(line, cell),
                         output=lambda table: to_output(table, self.config.output))
        self._replace_last(last)
        started = time.perf_counter()

        def cancel_submit() -> None:
            if cursor.handle is not None:  # set before prepare returns: a cancel reaches the engine
                cursor.handle.cancel()

        try:
            handle = yield Work(lambda: cursor.submit(text, params, timeout=self.config.timeout or None),
                                cancel=cancel_submit, cancel_result=True)
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            last.error = self._error(exc)
            last.finished()
            raise last.error from None
        last.handle = handle
        limit = cmd.limit if cmd.limit is not None else (self.config.autolimit or None)
        if cmd.background:
            self._background(cmd, last, handle, limit, started, is_last)
            return last
        status = None
        # A result is only shown where it is the last statement of a cell that assigns no variable: the grid
        # streams there, and a result too big to keep whole keeps its first rows.
        shown = is_last and cell is not None and cmd.target is None
        # --explain: the plan's place comes first, above the status and the grid, and is filled at the end
        self._plan_slot = self.display.plan_slot() if cmd.explain and is_last else None
        stream = self.display.stream(handle) if shown else None

        def tick() -> None:
            if status is not None:
                status.refresh()
            if stream is not None:
                stream.pump()

        try:
            status = last.status = self.display.status(handle)
            into = stream.batches if stream is not None else None
            straight = self._straight(cursor, cmd, limit, is_last)
            if straight is not None:  # assigned: never streamed to a grid
                last.value = yield Work(straight, cancel=handle.cancel, tick=tick)
            else:
                keep = int(self.config.grid_keep_mb * 2**20) if shown and self.config.grid_keep_mb > 0 else None
                window_rows = max(WINDOW_ROWS, WINDOW_PAGES * max(1, self.config.display_limit))
                last.table, last.total_rows = yield Work(
                    lambda: collect(cursor, handle, limit, into, keep, window_rows), cancel=handle.cancel, tick=tick)
        except KeyboardInterrupt:
            handle.cancel()
            line = self._cancelled(status, stream, handle, started)
            self.display.no_plan(self._plan_slot)
            raise Interrupted(line.text(), shown=status is not None) from None
        except Exception as exc:
            from e6magic.client import QueryCancelled

            self.display.no_plan(self._plan_slot)
            last.error = self._error(exc)
            if isinstance(exc, QueryCancelled) or (status is not None and status.cancel_requested):
                line = self._cancelled(status, stream, handle, started)
                last.error = errors.shorten(exc, line.text())
                last.error.e6_shown = status is not None  # type: ignore[union-attr]
            else:
                self.display.conclude(status, None)  # the error, shown once, says what happened
                if stream is not None:
                    stream.abandon()
            raise last.error from None
        finally:
            last.finished()
        if stream is not None:
            window = None
            if last.total_rows is not None:  # only a window was kept: other pages are read from the engine
                window = (lambda: self._cursor(connection, cmd), handle.sql, last.total_rows)
            last.grid = stream.done(last.table, window)
        last.timings.update(_timings(handle, started))
        self.display.conclude(status, self._outcome(last))
        if cmd.explain and is_last:
            last._plan = yield Work(cursor.explain_analyse)
        elif last.total_rows is not None:
            # Only a window is kept here, and the grid reads other pages with queries of its own: the engine's
            # copy of the whole result goes now (in the embedded engine that copy is in this very kernel).
            from e6magic.client import Error as ClientError

            try:
                last._plan = yield Work(cursor.explain_analyse)
            except ClientError:
                pass  # the window is shown all the same; _e6.plan() then says the query is gone
        if last.total_rows is not None:
            yield Work(last.release)
        if not is_last:
            cursor.close()  # clears it on the engine; only the last query stays for _e6.plan()
        return last

    def _cancelled(self, status: Any, stream: Any, handle: Any, started: float) -> Outcome:
        """A cancel, whoever asked for it: the status line says so in one wording; a partial grid goes."""
        line = Outcome(QueryState.CANCELLED, time.perf_counter() - started, str(handle.query_id),
                       rows=int(getattr(handle, "rows_fetched", 0) or 0), thousands=self.config.thousands)
        self.display.conclude(status, line)
        if stream is not None:
            stream.abandon()
        return line

    def _outcome(self, last: LastQuery) -> Outcome:
        """The finished line: the result's own counts (a --limit's, a window's whole), not the rows read."""
        value = last.table if last.table is not None else last.value
        columns = None
        if value is not None:
            columns = value.num_columns if hasattr(value, "num_columns") else len(getattr(value, "columns", ()))
        kept = last.table.num_rows if last.total_rows is not None and last.table is not None else None
        return Outcome(QueryState.FINISHED, last.timings.get("total", 0.0), last.query_id, last.row_count, columns, kept,
                       thousands=self.config.thousands)

    def _replace_last(self, last: LastQuery) -> None:
        previous, self.last = self.last, last
        self.shell.user_ns["_e6"] = last
        if previous is not None and previous is not last:
            runner.in_background(self.pool, previous.release)  # a clear RPC: not on the new query's path

    def _finish(self, cmd: Command, last: LastQuery | None, ns: dict[str, Any], line_mode: bool) -> Any:
        if last is None or cmd.background:
            return last if cmd.background and cmd.target is None else None
        started = time.perf_counter()
        value = last.result() if last.complete else None  # a shown-only window is never converted
        last.timings["convert"] = time.perf_counter() - started
        if cmd.target is not None:
            ns[cmd.target] = value
            if self.config.feedback >= 1:
                rows = last.row_count or 0
                shape = f"{rows:,} row{'' if rows == 1 else 's'}"
                self.display.note(f"e6sql: {cmd.target} = {shape} (query {last.query_id}).")
        elif not line_mode and last.grid is None:
            self.display.result(last.table, last.timings.get("total"), last.query_id, last.total_rows)
        if cmd.explain:
            self.display.plan(last.plan(), self._plan_slot)
        if line_mode and cmd.target is None:
            return value
        return None

    def _background(self, cmd: Command, last: LastQuery, handle: Any, limit: int | None,
                    started: float, is_last: bool) -> None:
        status = last.status = self.display.status(handle)
        ns = self.shell.user_ns

        cursor = last._cursor
        straight = self._straight(cursor, cmd, limit, is_last)

        def work() -> Any:
            return straight() if straight is not None else collect(cursor, handle, limit)[0]

        def done(future: Any) -> None:
            try:
                if straight:
                    last.value = future.result()
                else:
                    last.table = future.result()
                last.timings.update(_timings(handle, started))
                if is_last and cmd.target is not None:
                    ns[cmd.target] = last.result()  # filled only with the complete result
                self.display.conclude(status, self._outcome(last))
            except BaseException as exc:  # noqa: BLE001 - kept on the handle for _e6
                last.error = self._error(exc)
                self.display.conclude(status, Outcome(QueryState.FAILED, time.perf_counter() - started, last.query_id,
                                                      note=errors.message(exc)))
            finally:
                last.finished()

        runner.run_in_background(self.pool, work, done)
        self.display.note(f"e6sql: query {handle.query_id} runs in the background"
                          + (f"; {cmd.target} is set when it finishes" if cmd.target else "")
                          + " (_e6.wait(), _e6.cancel()).")

    def _straight(self, cursor: Any, cmd: Command, limit: int | None, is_last: bool) -> Callable[[], Any] | None:
        """How a whole result bound for a pandas or polars variable is read straight into it: pandas column by
        column as it arrives (the client's `fetch_df`), polars from the client's Arrow stream (`fetch_polars`),
        so the kernel never holds it twice; `_e6` then keeps that frame. None: read as an Arrow table."""
        if not (is_last and cmd.target is not None and limit is None):
            return None
        if self.config.output == "pandas":
            return cursor.fetch_df
        if self.config.output == "polars":
            return lambda: _polars(cursor.fetch_polars)
        return None

    def _error(self, exc: BaseException) -> BaseException:
        """The error the cell ends with: one line unless `short_errors` is off."""
        if isinstance(exc, UsageError) or not self.config.short_errors:
            return exc
        return errors.shorten(exc)


def _timings(handle: Any, started: float) -> dict[str, float]:
    """The client's phase times under the names `_e6.timings` documents."""
    measured = dict(getattr(handle, "timings", {}) or {})
    names = {"prepare": "parse", "execution": "execution", "fetch": "fetch"}
    out = {names[k]: float(v) for k, v in measured.items() if k in names}
    out["total"] = time.perf_counter() - started
    return out
