"""One kernel's `%%e6sql` state and the plan of a cell: options, connection, bound SQL, then each statement."""
from __future__ import annotations

import functools
import time
from collections.abc import Mapping
from typing import Any

from IPython.core.error import UsageError

from e6magic.magic import runner
from e6magic.magic.command import Command, parse
from e6magic.magic.config import E6Magic
from e6magic.magic.connections import (
    Connections,
    Endpoint,
    profiles_path,
    resolve,
    with_token,
)
from e6magic.magic.display import Display
from e6magic.magic.last import LastQuery
from e6magic.magic.params import render_template, to_client_params
from e6magic.magic.runner import Plan, Work
from e6magic.magic.sqltext import split_statements
from e6magic.magic.statement import Bound, Statement
from e6magic.states import FINAL_STATES

FINAL = FINAL_STATES


def connect_endpoint(endpoint: Endpoint) -> Any:
    """Open a client connection to ``endpoint`` (blocking; runs on a worker)."""
    from e6magic.client import connect

    connection = connect(host=endpoint.host, port=endpoint.port, username=endpoint.username or "e6magic",
                         password=endpoint.token, catalog=endpoint.catalog, database=endpoint.database,
                         cluster_name=endpoint.cluster, secure=endpoint.secure)
    try:
        connection.session_id  # noqa: B018 - reading it authenticates (lazy in the client): a wrong token fails here
    except BaseException:
        connection.close()
        raise
    return connection


def start_local_engine() -> Any:
    """Start the embedded local engine on a free loopback port, with the demo catalog."""
    from e6magic.engine import LocalEngine

    return LocalEngine(host="127.0.0.1", port=0, demo=True).start()


class Session:
    """The kernel's connections, options and last query; runs parsed commands as plans."""

    def __init__(self, shell: Any, config: E6Magic) -> None:
        self.shell = shell
        self.config = config
        self.display = Display(config, shell)
        self.connections = Connections(connect_endpoint, start_local_engine)
        self.last: LastQuery | None = None
        self.schema: Any = None  # the completer's SchemaCache, set when it is installed
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
        """The cell as a `runner.Plan`: the options that need no query, the connection, then each statement."""
        ns = self.shell.user_ns
        if cmd.close:
            self.connections.close()
            self.display.note("e6sql: connections closed.")
            return None
        if cmd.refresh and getattr(self, "schema", None) is not None:
            self.schema.refresh()
            self.display.note("e6sql: schema names will be read again for completion.")
        if cmd.schema:
            return (yield from self._schema(cmd))
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
            return (yield from self._dry_run(connection, statements))
        if cmd.background and len(statements) > 1:
            raise UsageError("--background runs one statement; split the cell or drop --background.")
        statement = None
        for index, bound in enumerate(statements):
            statement = self._statement(connection, cmd, bound, line, cell, is_last=index == len(statements) - 1)
            yield from statement.run(self.pool, ns)
        return self._finish(cmd, statement, ns, cell is None)

    def _schema(self, cmd: Command) -> Plan[None]:
        """`--schema`: the browser in a kernel; elsewhere the names are listed on a worker, then printed."""
        if cmd.sql.strip():
            raise UsageError("--schema browses the connection; run the SQL in its own cell.")
        connection = yield from self._connection(cmd)
        tree = self.display.schema(connection)
        if tree is not None:
            self.display.text((yield Work(tree)))

    def _dry_run(self, connection: Any, statements: list[Bound]) -> Plan[None]:
        """`--dry-run`: the engine's answer for each statement, nothing run."""
        if any(params for _, _, params in statements):
            raise UsageError("--dry-run cannot bind :name parameters; try --show-sql to see them.")
        for text, _, _ in statements:
            self.display.value((yield Work(functools.partial(connection.dry_run, text))))

    def _connection(self, cmd: Command) -> Plan[Any]:
        if cmd.connect is not None or cmd.alias is not None:
            endpoint = resolve(cmd.connect, cmd.alias, profiles=profiles_path(self.config.profiles_path))
            if endpoint is None:  # pragma: no cover - resolve always answers when asked
                raise UsageError("nothing to connect to")
            chosen = with_token(endpoint)  # the prompt runs here, on the main thread
            if cmd.connect is None:
                return (yield Work(lambda: self.connections.for_alias(chosen, str(cmd.alias))))
            return (yield from self._open(chosen))
        connection = self.connections.current
        if connection is not None:
            return connection
        endpoint = resolve(None, None, profiles=profiles_path(self.config.profiles_path))
        if endpoint is not None:
            return (yield from self._open(with_token(endpoint)))
        local = yield Work(self.connections.start_embedded)
        connection = yield Work(lambda: self.connections.open(local))
        self.display.note(self.connections.embedded_note())
        return connection

    def _open(self, endpoint: Endpoint) -> Plan[Any]:
        connection = yield Work(lambda: self.connections.open(endpoint))
        self.display.note(f"e6sql: connected to {endpoint.describe()}.")
        return connection

    def _bound_statements(self, cmd: Command, ns: Mapping[str, Any]) -> list[Bound]:
        """(as written, as sent, params) for each statement."""
        sql = render_template(cmd.sql, ns) if cmd.jinja else cmd.sql
        statements = split_statements(sql)
        if not statements:
            raise UsageError("no SQL to run after rendering the template.")
        if not self.config.bind_params:
            return [(text, text, None) for text in statements]
        return [(text, *to_client_params(text, ns)) for text in statements]

    def _statement(self, connection: Any, cmd: Command, bound: Bound, line: str, cell: str | None, *,
                   is_last: bool) -> Statement:
        """One statement's run, its `LastQuery` now `_e6`. A result is only shown where it is the last statement
        of a cell that assigns no variable: the grid streams there, and a result too big to keep keeps a window."""
        shown = is_last and cell is not None and cmd.target is None
        statement = Statement(self.display, self.config, connection, cmd, bound, rerun=lambda: self.run(line, cell),
                              is_last=is_last, shown=shown)
        self._replace_last(statement.last)
        return statement

    def _replace_last(self, last: LastQuery) -> None:
        previous, self.last = self.last, last
        self.shell.user_ns["_e6"] = last
        if previous is not None and previous is not last:
            runner.in_background(self.pool, previous.release)  # a clear RPC: not on the new query's path

    def _finish(self, cmd: Command, statement: Statement | None, ns: dict[str, Any], line_mode: bool) -> Any:
        """The cell's value: its last statement's result set as the variable, shown, or returned (a line magic)."""
        last = None if statement is None else statement.last
        if last is None or statement is None or cmd.background:
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
            self.display.plan(last.plan(), statement.plan_slot)
        if line_mode and cmd.target is None:
            return value
        return None
