"""Everything `%%e6sql` shows: widgets when enabled and importable, else plain HTML; decided here only."""
from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from typing import Any

import IPython.display

from e6magic.magic.summary import Outcome
from e6magic.states import QueryState

display: Callable[..., Any] = IPython.display.display  # IPython's own, typed here: it carries no annotations


def _widgets() -> Any:
    try:
        import e6magic.widgets as widgets
    except ImportError:
        return None
    return widgets


def schema_tree(connection: Any) -> str:
    """Catalogs > databases > tables as indented text (the terminal's schema browser). Blocking."""
    lines = []
    for catalog in sorted(c["name"] for c in connection.get_catalogs()):
        lines.append(catalog)
        for database in sorted(connection.get_schema_names(catalog)):
            lines.append(f"  {database}")
            lines.extend(f"    {table}" for table in sorted(connection.get_tables(catalog, database)))
    return "\n".join(lines) if lines else "(no catalogs)"


_FIRST_TABLE = re.compile(r"\bFROM\s+((?:\"[^\"]+\"|[A-Za-z_][\w$]*)(?:\.(?:\"[^\"]+\"|[A-Za-z_][\w$]*))*)", re.I)


def download_stem(sql: str) -> str:
    """A download's name from its query: the first table it reads (``demo.main.orders`` -> ``orders``), or ""."""
    match = _FIRST_TABLE.search(sql)
    if not match:
        return ""
    last = match.group(1).split(".")[-1].strip('"')
    return "" if last.lower() in ("range", "read_csv", "read_parquet", "generate_series") else last


def plan_text(plan: Any, max_nodes: int = 40) -> str:
    """A plan as text (the terminal's plan view): the timings, then the operator tree with time and rows."""
    from e6magic.widgets._plan_shape import PlanShapeError, find_tree, parse_plan, summary_of

    try:
        outer, data = parse_plan(plan)
        summary = summary_of(outer, data)
        root = find_tree(data)
    except (ValueError, TypeError, PlanShapeError):
        return f"plan (not an operator tree):\n{str(plan)[:2000]}"
    labels = (("parse_ms", "parse"), ("queue_ms", "queue"), ("execution_ms", "execution"), ("total_ms", "total"))
    timings = ", ".join(f"{label} {summary[key]:.1f} ms" for key, label in labels if key in summary)
    lines = [f"plan: {timings or 'no timings'}"]
    stack = [(root, 0)]
    while stack and len(lines) <= max_nodes:
        op, depth = stack.pop()
        took = "" if op.time_ms is None else f"  {op.time_ms:.1f} ms"
        rows = "" if op.rows is None else f"  {op.rows:,} rows"
        lines.append(f"{'  ' * depth}{op.name}{took}{rows}")
        stack.extend((child, depth + 1) for child in reversed(op.children))
    if stack:
        lines.append("  ...")
    return "\n".join(lines)


class HtmlTable:
    """A plain table of the first rows, with row count and timing; the no-widget fallback."""

    def __init__(self, table: Any, limit: int, seconds: float | None, query_id: str | None,
                 total_rows: int | None = None) -> None:
        self.table, self.limit, self.seconds, self.query_id = table, limit, seconds, query_id
        self.total_rows = total_rows  # the result's row count when the table holds only its first rows

    def outcome(self) -> Outcome:
        rows = self.table.num_rows if self.total_rows is None else self.total_rows
        return Outcome(QueryState.FINISHED, self.seconds or 0.0, self.query_id, rows, self.table.num_columns)

    def footer(self) -> str:
        rows = self.table.num_rows if self.total_rows is None else self.total_rows
        shown = f"first {min(self.table.num_rows, self.limit):,} shown · " if rows > self.limit else ""
        return shown + self.outcome().text()

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(str(name))}</th>" for name in self.table.column_names)
        rows = self.table.num_rows if self.total_rows is None else self.total_rows
        shown = f"first {min(self.table.num_rows, self.limit):,} shown · " if rows > self.limit else ""
        body = []
        for row in self.table.slice(0, self.limit).to_pylist():
            cells = "".join(f"<td>{html.escape('NULL' if v is None else str(v))}</td>" for v in row.values())
            body.append(f"<tr>{cells}</tr>")
        return (f'<table class="e6-table"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
                f'<div class="e6-footer"><small>{html.escape(shown)}</small>{self.outcome().html()}</div>')

    def __repr__(self) -> str:
        return str(self.table.slice(0, self.limit).to_pandas().to_string()) + "\n" + self.footer()


class Display:
    """Shows status, results, plans and notes, following the `E6Magic` options."""

    def __init__(self, config: Any, shell: Any = None) -> None:
        self.config = config
        self.shell = shell

    def _use_widgets(self) -> Any:
        """The widgets module, only in a kernel (a terminal would get their one-line text form)."""
        if not self.config.widgets or getattr(self.shell, "kernel", None) is None:
            return None
        return _widgets()

    def status(self, handle: Any) -> Any:
        """The live status line for a submitted query (None when progress is off)."""
        if not self.config.progress:
            return None
        widgets = self._use_widgets()
        if widgets is None:
            return None
        status = widgets.QueryStatus(handle)
        status.show()
        return status

    def conclude(self, status: Any, outcome: Outcome | None) -> bool:
        """The live status line becomes ``outcome``'s static line (None: it goes, the error says it all).

        Returns whether a line now shows the outcome (so the cell's error need not repeat it).
        """
        if status is None:
            return False
        status.finish(outcome.state if outcome is not None else QueryState.FAILED)
        status.conclude(_Final(outcome))
        return outcome is not None

    def stream(self, handle: Any = None) -> StreamedGrid | None:
        """A grid fed while rows arrive (kernel with widgets only), else None; its downloads are named after
        the first table ``handle``'s SQL reads, else its query id."""
        widgets = self._use_widgets()
        if widgets is None:
            return None
        qid = str(getattr(handle, "query_id", "") or "")
        stem = download_stem(str(getattr(handle, "sql", "") or "")) or (f"query-{qid[:8]}" if qid else "")
        return StreamedGrid(widgets.ResultGrid, max(1, self.config.display_limit), stem, self.config.thousands)

    def result(self, table: Any, seconds: float | None, query_id: str | None, total_rows: int | None = None) -> None:
        widgets = self._use_widgets()
        if widgets is not None:
            page_size = max(1, self.config.display_limit)
            widgets.ResultGrid(table, page_size=page_size, thousands=self.config.thousands).show()
        else:
            display(HtmlTable(table, self.config.display_limit, seconds, query_id, total_rows))

    def schema(self, connection: Any) -> Callable[[], str] | None:
        """`--schema`: the SchemaBrowser in a kernel; else a blocking call that lists a text tree."""
        widgets = self._use_widgets()
        if widgets is not None:
            widgets.SchemaBrowser(connection).show()
            return None
        return lambda: schema_tree(connection)

    def plan_slot(self) -> Any:
        """`--explain` in a kernel: a place above the result, headed "Plan", that `plan` fills once the query ends.

        Two outputs, as every widget has (see widgets/_base.py): the saved twin first, then the live view.
        """
        if self._use_widgets() is None:
            return None
        return (display(_Text("Plan: shown when the query has finished"), display_id=True),
                display(_Text(""), display_id=True))

    def no_plan(self, slot: Any) -> None:
        """The query did not finish: its plan's place says so instead of promising a plan."""
        if slot is not None:
            slot[0].update(_Text("Plan: none, the query did not finish"))

    def plan(self, plan: Any, slot: Any = None) -> None:
        widgets = self._use_widgets()
        if widgets is not None:
            view = widgets.PlanView(plan, title="Plan")
            if slot is None:
                view.show()
            else:
                twin, live = slot
                view.show_in(twin, live)
        else:
            display(_Text(plan_text(plan), "e6-plan"))

    def sql(self, statements: list[tuple[str, Mapping[str, Any] | None]]) -> None:
        """`--show-sql`: the SQL as it would be sent, with bound values listed apart (never pasted)."""
        parts = []
        for text, params in statements:
            bound = "".join(f"\n-- :{name} = {value!r}" for name, value in (params or {}).items())
            parts.append(text + ";" + bound)
        display(_Text("\n".join(parts)))

    def note(self, text: str) -> None:
        """A one-line message (feedback >= 1)."""
        if self.config.feedback >= 1:
            print(text, flush=True)

    def text(self, text: str) -> None:
        """Plain text asked for (printed whatever `feedback` is)."""
        print(text, flush=True)

    def value(self, obj: Any) -> None:
        display(obj)


class StreamedGrid:
    """A ResultGrid that grows while a query's batches arrive.

    The worker appends each record batch to ``batches`` (the same list the result is built from, so
    the grid holds references, not a copy); ``pump`` runs on the main thread, between the waits
    of the cell, and hands new batches to the widget there (widgets are not touched from workers).
    """

    def __init__(self, grid_class: Any, page_size: int, name: str | None = None, thousands: bool = True) -> None:
        self.name = name
        self.thousands = thousands
        self.batches: list[Any] = []
        self.grid: Any = None
        self._grid_class = grid_class
        self._page_size = page_size
        self._handed = 0

    def pump(self) -> None:
        arrived = len(self.batches)  # list.append is atomic: read a length, then only those items
        if arrived == self._handed:
            return
        new, self._handed = self.batches[self._handed:arrived], arrived
        if self.grid is None:
            self.grid = self._grid_class(new[0].schema, page_size=self._page_size, download_name=self.name or "",
                                         thousands=self.thousands)
            self.grid.show()
        for batch in new:
            self.grid.append(batch)

    def done(self, table: Any, window: tuple[Callable[[], Any], str, int] | None = None) -> Any:
        """All rows are in: the grid is complete (made from ``table`` if no batch came).

        ``window`` = (cursor factory, SQL, total rows) when ``table`` holds only the first rows of the
        result: the grid then reads other pages and sorts from the engine.
        """
        self.pump()
        if self.grid is None:
            self.grid = self._grid_class(table, page_size=self._page_size, download_name=self.name or "",
                                         thousands=self.thousands)
            self.grid.show()
            return self.grid
        if window is not None:
            from e6magic.widgets import EnginePager

            cursor, sql, total = window
            self.grid.page_from(EnginePager(cursor, sql), total)
        else:
            self.grid.done()  # the grid's twin, the saved form, now shows the first page and every row's count
        return self.grid

    def abandon(self) -> None:
        """The query failed or was cancelled: the partial grid goes (the status line or the error says why)."""
        if self.grid is None:
            return
        self.grid.withdraw()
        self.grid = None


class _Text:
    """Text shown as ``<pre>`` where HTML is read and as itself in a terminal (never an object repr)."""

    def __init__(self, text: str, css_class: str = "e6-sql") -> None:
        self.text = text
        self.css_class = css_class

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        return f"<pre class='{self.css_class}'>{html.escape(self.text)}</pre>"


class _Final:
    """A statement's final line, static (no widget): what stays in the output and in a saved notebook."""

    def __init__(self, outcome: Outcome | None) -> None:
        self.outcome = outcome

    def _repr_mimebundle_(self, **_kwargs: Any) -> dict[str, str]:
        if self.outcome is None:
            return {"text/html": "", "text/plain": ""}
        return {"text/html": self.outcome.html(), "text/plain": self.outcome.text()}


class Interrupted(KeyboardInterrupt):
    """The stop button (or Ctrl-C) cancelled a query: one line, the cancel's, and no traceback.

    Still a ``KeyboardInterrupt``, so Run All stops and ``except KeyboardInterrupt`` still catches it.
    ``e6_shown`` is True when the status line already shows that line.
    """

    def __init__(self, line: str, shown: bool = False) -> None:
        super().__init__(line)
        self.e6_shown = shown

    def _render_traceback_(self) -> list[str]:
        return [f"e6sql: {self}"]


def show_exception(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: int | None = None) -> None:
    """IPython's custom exception hook for e6magic's outcomes: an outcome its status line already shows
    (a cancel) prints nothing more; the cell still fails, so Run All stops. Anything else shows as usual."""
    if getattr(value, "e6_shown", False):
        return None
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset, running_compiled_code=True)
    return None


def install_exception_hook(shell: Any) -> None:
    """Route cancels the status line has shown to ``show_exception``, unless the shell has its own hook.
    Called by each query, not by ``%load_ext``: the hook needs the client's classes, and loading the client
    (grpc, pyarrow) is what a query does anyway."""
    from e6magic.client import QueryCancelled

    if shell.custom_exceptions in ((), None):
        shell.set_custom_exc((Interrupted, QueryCancelled), show_exception)


def uninstall_exception_hook(shell: Any) -> None:
    if Interrupted in (shell.custom_exceptions or ()):
        shell.set_custom_exc((), None)
