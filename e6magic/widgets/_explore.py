"""What the result grid adds to paging and sorting: column profiles, filters and a chart, on a worker thread.

For a kept result both run in the kernel with Arrow; for a grid given a pager (only a window kept) both
run on the engine as SQL over the query, so the kernel's memory stays that of the window.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyarrow as pa
import traitlets as t
from ipywidgets import widget_serialization  # type: ignore[import-untyped]

from e6magic.widgets import _filter, _profile
from e6magic.widgets._base import one_line
from e6magic.widgets._chart import QuickChart


class Explore(t.HasTraits):
    """Mixed into ResultGrid: ``profile()`` and ``filter_by()``, and the view's messages for them."""

    profiles: t.List[Any] = t.List().tag(sync=True)  # one dict per column (see _profile), [] until asked
    profiling = t.Bool(False).tag(sync=True)
    filters = t.Dict().tag(sync=True)         # column -> text typed in its box
    filter_sql = t.Unicode("").tag(sync=True)  # the filter as SQL the user can copy
    filter_error = t.Unicode("").tag(sync=True)
    unfiltered_rows = t.Int(-1).tag(sync=True)  # rows before the filter; -1: no filter
    chart = t.Instance(QuickChart, allow_none=True).tag(sync=True, **widget_serialization)  # beside the grid

    _explore_worker: ThreadPoolExecutor | None = None
    _saved: tuple[list[pa.RecordBatch], Any, int, int] | None = None  # batches, pager, kept, rows before the filter

    # -- profiles ----------------------------------------------------------------------------
    def profile(self) -> list[dict[str, Any]]:
        """Profile every column of the rows shown (after the filter): in the kernel, or on the engine."""
        self.profiling = True
        try:
            pager = self._source_pager()
            if pager is not None:
                sql = _filter.filtered_sql(pager.sql, self._parsed_filters(), self._schema_or_empty())
                found = _profile.profile_engine(pager.run, sql, self._schema_or_empty())
            else:
                found = _profile.profile_table(self.table)  # type: ignore[attr-defined]
            self.profiles, self.error = found, ""
        except Exception as exc:  # noqa: BLE001 - shown in the grid, which stays usable
            self.error = f"could not profile: {one_line(exc, 300)}"
            found = []
        finally:
            self.profiling = False
        return found

    # -- filters -----------------------------------------------------------------------------
    def filter_by(self, filters: dict[str, str]) -> None:
        """Show only the rows that pass ``{column: typed text}`` (see _filter); {} shows every row again."""
        grid: Any = self
        typed = {str(k): str(v) for k, v in filters.items() if str(v).strip()}
        schema = self._schema_or_empty()
        try:
            parsed = [f for f in (_filter.parse(c, v) for c, v in typed.items()) if f is not None]
            where = _filter.where_sql(parsed, schema)
        except _filter.FilterError as exc:
            self.filter_error = str(exc)
            return
        with grid._lock, grid.hold_sync():
            if self._saved is None:
                self._saved = (list(grid._batches), grid._pager, grid.kept_rows, grid.row_count)
            batches, pager, kept, rows = self._saved
            try:
                if pager is not None:
                    self._filter_on_engine(pager, parsed, schema, batches, kept, rows)
                else:
                    table = pa.Table.from_batches(batches, schema=schema)
                    grid._batches = [b for b in _filter.apply(table, parsed).to_batches() if b.num_rows]
                    grid._table, grid._offsets = None, None
                    grid.row_count = sum(b.num_rows for b in grid._batches)
            except (_filter.FilterError, pa.ArrowException) as exc:
                self.filter_error = one_line(exc, 300)
                return
            except Exception as exc:  # noqa: BLE001 - the engine refused the filter: say so, keep the rows
                self.filter_error = f"could not filter: {one_line(exc, 300)}"
                return
            self.filter_error = ""
            self.filters = typed
            self.filter_sql = f"WHERE {where}" if where else ""
            self.unfiltered_rows = rows if parsed else -1
            if not parsed:
                self._saved = None
            self.profiles = []  # they described other rows
            grid.page = 0
            grid._sort()
            grid._render_page()
        if self.chart is not None:
            self.chart.redraw()  # it charts the rows the grid now shows

    def _filter_on_engine(self, pager: Any, parsed: list[_filter.Filter], schema: pa.Schema,
                          batches: list[pa.RecordBatch], kept: int, rows: int) -> None:
        grid: Any = self
        if not parsed:
            grid._pager, grid._batches, grid.kept_rows, grid.row_count = pager, batches, kept, rows
        else:
            sql = _filter.filtered_sql(pager.sql, parsed, schema)
            count = pager.run(f"SELECT count(*) AS n FROM (\n{sql}\n) AS e6_count").column(0)[0].as_py()
            grid._pager = pager.over(sql)
            grid._batches, grid.kept_rows, grid.row_count = [], 0, int(count)  # every page from the engine
        grid._table, grid._offsets = None, None

    # -- chart -------------------------------------------------------------------------------
    def open_chart(self, kind: str = "bar", x: str = "", y: str = "") -> QuickChart:
        """Chart the rows shown (after the filter) beside the grid; its view chooses kind and columns."""
        if self.chart is None:
            self.chart = QuickChart(self, kind=kind, x=x, y=y)
        return self.chart

    def close_chart(self) -> None:
        chart, self.chart = self.chart, None
        if chart is not None:
            chart.close()

    # -- the view's messages: always answered on a worker ---------------------------------------
    def _msg_chart(self, _content: dict[str, Any]) -> None:
        self._explore_post(lambda: self.close_chart() if self.chart is not None else self.open_chart())

    def _msg_profile(self, _content: dict[str, Any]) -> None:
        self.profiling = True
        self._explore_post(self.profile)

    def _msg_filter(self, content: dict[str, Any]) -> None:
        filters = content.get("filters")
        if isinstance(filters, dict):
            self._explore_post(self.filter_by, {str(k)[:200]: str(v)[:_filter.MAX_FILTER_CHARS]
                                                for k, v in list(filters.items())[:200]})

    def _explore_post(self, fn: Any, *args: Any) -> None:
        with _worker_lock:
            if self._explore_worker is None:
                self._explore_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="e6-grid-explore")
        self._explore_worker.submit(fn, *args)

    def wait_explored(self, timeout: float | None = 30) -> None:
        """Wait until profiles and filters asked for so far are shown (tests and scripts)."""
        if self._explore_worker is not None:
            self._explore_worker.submit(lambda: None).result(timeout)

    def _close_explore(self) -> None:
        self.close_chart()
        if self._explore_worker is not None:
            self._explore_worker.shutdown(wait=False, cancel_futures=True)

    def _source_pager(self) -> Any:
        pager = self._saved[1] if self._saved is not None else getattr(self, "_pager", None)
        return pager if pager is not None and hasattr(pager, "run") and hasattr(pager, "sql") else None

    def _parsed_filters(self) -> list[_filter.Filter]:
        return [f for f in (_filter.parse(c, v) for c, v in self.filters.items()) if f is not None]

    def _schema_or_empty(self) -> pa.Schema:
        schema = getattr(self, "_schema", None)
        return schema if schema is not None else pa.schema([])


_worker_lock = threading.Lock()
