"""ResultGrid: kernel-side paging and sorting over a result that may still be streaming in."""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import traitlets as t

from e6magic.widgets import _export
from e6magic.widgets._base import STATIC, E6Widget, esc, one_line
from e6magic.widgets._cells import is_numeric, table_rows, type_label
from e6magic.widgets._explore import Explore

MAX_PAGE_SIZE = 1000

# (start, size, sort column position or None, descending) -> that page's rows
Pager = Callable[[int, int, "int | None", bool], pa.Table]


class ResultGrid(Explore, E6Widget):
    """Page and sort a result in the kernel; the page holds only ``page_size`` rows as text.

    Parameters
    ----------
    source
        A ``pa.Table`` (complete), a ``pandas.DataFrame``, a ``pa.Schema`` or a query handle
        (both start empty: feed them with ``append(batch)`` and close with ``done()``).
    page_size
        Rows per page, 1-1000.

    The grid keeps references to the result's record batches (no copy) and, while sorted,
    one int64 index per row; the browser only ever holds the current page. A grid given a pager
    (``page_from``) keeps only a window of first rows: other pages and every sort come from the pager,
    so its memory does not grow with the result.
    """

    _esm = STATIC / "grid.js"

    query_id = t.Unicode("").tag(sync=True)
    columns: t.List[Any] = t.List().tag(sync=True)  # [{"name", "type", "numeric"}]
    row_count = t.Int(0).tag(sync=True)
    complete = t.Bool(False).tag(sync=True)
    page = t.Int(0).tag(sync=True)          # zero-based
    page_size = t.Int(50).tag(sync=True)
    sort_column = t.Unicode("").tag(sync=True)  # "" = arrival order
    sort_descending = t.Bool(False).tag(sync=True)
    sorted_rows = t.Int(0).tag(sync=True)   # rows the current sort covers (less while streaming)
    rows: t.List[Any] = t.List().tag(sync=True)  # the current page, display strings or None
    error = t.Unicode("").tag(sync=True)
    kept_rows = t.Int(-1).tag(sync=True)    # rows held in the kernel when pages come from a pager; -1: all
    download_name = t.Unicode("").tag(sync=True)  # the file's stem: the output variable, else the query
    thousands = t.Bool(True).tag(sync=True)  # numbers shown as 1,000,000 (the view only; data stays plain)

    def __init__(self, source: Any = None, page_size: int = 50, **kwargs: Any) -> None:
        super().__init__(page_size=_clamp_page_size(page_size), **kwargs)
        self._lock = threading.RLock()
        self._batches: list[pa.RecordBatch] = []
        self._schema: pa.Schema | None = None
        self._table: pa.Table | None = None
        self._order: pa.Array | None = None
        self._offsets: np.ndarray | None = None  # first row of each batch, for the sorted page gather
        self._pager: Pager | None = None
        self._pager_worker: ThreadPoolExecutor | None = None
        if source is not None and type(source).__module__.startswith("pandas"):
            source = pa.Table.from_pandas(source, preserve_index=False)
        if isinstance(source, pa.Table):
            self._set_schema(source.schema)
            self._batches = [b for b in source.to_batches() if b.num_rows]
            self.done()
        elif isinstance(source, pa.Schema):
            self._set_schema(source)
        elif source is not None and hasattr(source, "query_id"):
            self.query_id = str(source.query_id)
        elif source is not None:
            msg = ("ResultGrid needs a pyarrow Table, a DataFrame, a Schema or a query handle, "
                   f"not {type(source).__name__}")
            raise TypeError(msg)

    # -- feeding ---------------------------------------------------------------------------
    def append(self, batch: pa.RecordBatch | pa.Table) -> None:
        """Add rows that just arrived; the visible page fills in if it was not yet full."""
        batches = batch.to_batches() if isinstance(batch, pa.Table) else [batch]
        with self._lock:
            first_schema = batches[0].schema if batches else batch.schema
            if self._schema is None or (not self._batches and not first_schema.equals(self._schema)):
                # the first rows know better than the metadata (a decimal's scale, a timestamp's zone)
                self._set_schema(first_schema)
            for b in batches:
                if b.num_rows:
                    self._batches.append(b if b.schema.equals(self._schema) else b.cast(self._schema))
            self._table = None
            shown_before = self.row_count
            with self.hold_sync():
                self.row_count = sum(b.num_rows for b in self._batches)
                page_end = (self.page + 1) * self.page_size
                if self._order is None and shown_before < page_end:
                    self._render_page()

    def done(self) -> None:
        """All rows are in: a sort made while streaming is redone over the whole result."""
        with self._lock, self.hold_sync():
            self._table = None
            self.row_count = sum(b.num_rows for b in self._batches)
            self.complete = True
            if self.sort_column:
                self._sort()
            self._render_page()
        self._refresh_fallback()

    def page_from(self, pager: Pager, total_rows: int) -> None:
        """The rows held are the first of ``total_rows``: other pages and every sort come from ``pager``.

        Requests from the view then run on a worker thread, so the kernel stays free while a page is read.
        """
        with self._lock, self.hold_sync():
            self._pager = pager
            self._table = None
            self.kept_rows = sum(b.num_rows for b in self._batches)
            self.row_count = max(int(total_rows), self.kept_rows)
            self.complete = True
            self._sort()  # with a pager: no index in the kernel, the engine sorts every row
            self._render_page()
        self._refresh_fallback()

    @property
    def table(self) -> pa.Table:
        """Every row received so far, in arrival order (zero-copy over the batches)."""
        with self._lock:
            if self._table is None:
                schema = self._schema if self._schema is not None else pa.schema([])
                self._table = pa.Table.from_batches(self._batches, schema=schema)
            return self._table

    # -- navigation (also reachable from the view through custom messages) ----------------
    @property
    def page_count(self) -> int:
        return max(1, math.ceil(self.row_count / self.page_size))

    def goto(self, page: int) -> None:
        """Show page ``page`` (zero-based, clamped; ``-1`` is the last page)."""
        with self._lock, self.hold_sync():
            before = self.page
            self.page = self.page_count - 1 if page < 0 else min(max(0, int(page)), self.page_count - 1)
            if not self._render_page():
                self.page = before

    def sort_by(self, column: str | None, descending: bool = False) -> None:
        """Sort the whole result by one column (nulls last, ties in arrival order); None unsorts."""
        with self._lock, self.hold_sync():
            if column and (self._schema is None or column not in self._schema.names):
                self.error = f"no column named {column!r}"
                return
            before = (self.sort_column, self.sort_descending, self.page)
            self.error = ""
            self.sort_column = column or ""
            self.sort_descending = bool(descending) and bool(column)
            self._sort()
            self.page = 0
            if not self._render_page():
                self.sort_column, self.sort_descending, self.page = before
                self._sort()

    def set_page_size(self, page_size: int) -> None:
        with self._lock, self.hold_sync():
            first_row = self.page * self.page_size
            self.page_size = _clamp_page_size(page_size)
            self.page = first_row // self.page_size
            self._render_page()

    def _msg_page(self, content: dict[str, Any]) -> None:
        self._from_view(self.goto, _int(content.get("page"), 0))

    def _msg_sort(self, content: dict[str, Any]) -> None:
        column = content.get("column")
        self._from_view(self.sort_by, column if isinstance(column, str) else None, bool(content.get("descending")))

    def _msg_page_size(self, content: dict[str, Any]) -> None:
        self._from_view(self.set_page_size, _int(content.get("page_size"), self.page_size))

    def _msg_download(self, content: dict[str, Any]) -> None:
        fmt = content.get("format")
        if fmt in _export.FORMATS:
            self._worker().submit(self.download, fmt)

    def download(self, fmt: str) -> int:
        """Send the whole result to the view as a ``fmt`` file (csv or parquet), in chunks, with progress.

        From the kept rows in the current sort order, or, past the window, read again from the engine; the
        file is never whole in the kernel. Returns the rows written.
        """
        with self._lock:
            total, schema = self.row_count, self._schema if self._schema is not None else pa.schema([])
            if self._pager is not None and hasattr(self._pager, "batches"):
                position = schema.names.index(self.sort_column) if self.sort_column else None
                batches: Any = self._pager.batches(position, self.sort_descending)
            else:
                batches = _export.table_batches(self.table, self._order)
        name = _export.file_name(self.download_name or f"query-{self.query_id[:8] or 'result'}", fmt)
        sink = _export.ChunkSink(lambda chunk: self.send({"kind": "download_chunk"}, [chunk]))
        sent = [0.0]

        def progress(rows: int) -> None:
            now = time.monotonic()
            if now - sent[0] > 0.25:
                sent[0] = now
                self.send({"kind": "download_progress", "rows": rows, "total": total, "bytes": sink.tell()})

        try:
            rows = _export.write(batches, schema, fmt, sink, progress)
        except Exception as exc:  # noqa: BLE001 - shown in the grid's bar; the view stays usable
            self.send({"kind": "download_error", "message": f"download failed: {one_line(exc, 300)}"})
            return 0
        self.send({"kind": "download_done", "name": name, "mime": _export.FORMATS[fmt], "rows": rows,
                   "bytes": sink.tell()})
        return rows

    def _worker(self) -> ThreadPoolExecutor:
        if self._pager_worker is None:
            self._pager_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="e6-grid-page")
        return self._pager_worker

    def _from_view(self, action: Callable[..., None], *args: Any) -> None:
        """Kept rows answer at once; a pager's query runs on the grid's own worker, in request order."""
        if self._pager is None:
            action(*args)
            return
        self._worker().submit(action, *args)

    def wait_idle(self, timeout: float | None = None) -> None:
        """Wait until the pages the view asked for are shown (tests and scripts)."""
        if self._pager_worker is not None:
            self._pager_worker.submit(lambda: None).result(timeout)

    def close(self) -> None:
        if self._pager_worker is not None:
            self._pager_worker.shutdown(wait=False, cancel_futures=True)
        self._close_explore()
        super().close()

    # -- internals -------------------------------------------------------------------------
    def _set_schema(self, schema: pa.Schema) -> None:
        self._schema = schema
        self.columns = [{"name": f.name, "type": type_label(f.type), "numeric": is_numeric(f.type)}
                        for f in schema]

    def _sort(self) -> None:
        if not self.sort_column:
            self._order, self.sorted_rows = None, 0
            return
        if self._pager is not None:
            self._order, self.sorted_rows = None, self.row_count  # the engine sorts every row
            return
        table = self.table
        order = "descending" if self.sort_descending else "ascending"
        try:
            order_ = pc.sort_indices(table, sort_keys=[(self.sort_column, order, "at_end")])
            # half the memory: a uint32 index per row is enough below 4G rows
            self._order = order_.cast(pa.uint32()) if len(order_) < 2**32 else order_
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError):
            kind = table.schema.field(self.sort_column).type
            self.error = f"cannot sort by {self.sort_column} ({kind})"
            self._order, self.sort_column, self.sort_descending = None, "", False
        self.sorted_rows = len(self._order) if self._order is not None else 0

    def _render_page(self) -> bool:
        """Show the current page; False (with ``error`` set, rows kept) when the pager could not read it."""
        self.page = min(self.page, self.page_count - 1)
        start = self.page * self.page_size
        if self._pager is not None and (self.sort_column or start + self.page_size > self.kept_rows):
            try:
                page = self._pager_page(start)
            except Exception as exc:  # noqa: BLE001 - shown in the grid; the view stays usable
                self.error = f"could not read rows {start + 1:,}-{start + self.page_size:,}: {one_line(exc)}"
                return False
            self.error = ""
        else:
            page = self._page_table(start, self.page_size)
        self.rows = table_rows(page)
        return True

    def _pager_page(self, start: int) -> pa.Table:
        assert self._pager is not None and self._schema is not None
        position = self._schema.names.index(self.sort_column) if self.sort_column else None
        size = min(self.page_size, max(0, self.row_count - start))
        page = self._pager(start, max(1, size), position, self.sort_descending)
        if page.schema.names == self._schema.names and not page.schema.equals(self._schema):
            try:
                page = page.cast(self._schema)  # e.g. a decimal's scale as the first batch had it
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                pass  # shown as it came: text cells need no common type
        return page

    def _page_table(self, start: int, size: int) -> pa.Table:
        if self._order is None:
            return self.table.slice(start, size)
        # Gather the page row by row from the batches: Table.take over ~150 chunks costs ~100 ms
        # on 10M rows, this costs well under 1 ms for a page.
        wanted = self._order.slice(start, size).to_numpy()
        offsets = self._batch_offsets()
        which = np.searchsorted(offsets, wanted, side="right") - 1
        rows = [self._batches[b].slice(int(i - offsets[b]), 1) for b, i in zip(which, wanted, strict=True)]
        schema = self._schema if self._schema is not None else pa.schema([])
        return pa.Table.from_batches(rows, schema=schema)

    def _batch_offsets(self) -> np.ndarray:
        if self._offsets is None or len(self._offsets) != len(self._batches):
            self._offsets = np.cumsum([0] + [b.num_rows for b in self._batches[:-1]], dtype=np.int64)
        return self._offsets

    # -- fallback --------------------------------------------------------------------------
    def fallback_text(self) -> str:
        more = "" if self.complete else " so far"
        kept = f" (first {self.kept_rows:,} kept in the kernel)" if 0 <= self.kept_rows < self.row_count else ""
        rows, columns = self.row_count, len(self.columns)
        return (f"{rows:,} {'row' if rows == 1 else 'rows'}{more} × {columns:,} "
                f"{'column' if columns == 1 else 'columns'}{kept}")

    def fallback_html(self) -> str:
        head = "".join(f"<th>{esc(c['name'])}<br><small>{esc(c['type'])}</small></th>" for c in self.columns)
        numeric = [bool(c.get("numeric")) for c in self.columns]
        body = "".join("<tr>" + "".join(_td(v, n) for v, n in zip(row, numeric, strict=True)) + "</tr>"
                       for row in self.rows)
        desc = " desc" if self.sort_descending else ""
        sort = f", sorted by {esc(self.sort_column)}{desc}" if self.sort_column else ""
        start = self.page * self.page_size
        shown = (f"rows {start + 1:,}-{start + len(self.rows):,} of {self.row_count:,}"
                 if len(self.rows) < self.row_count else f"all {self.row_count:,} rows")
        caption = f"{esc(self.fallback_text())}{sort}; {shown}"
        return (f'<div class="e6-grid-static"><table style="border-collapse:collapse;font-size:12px">'
                '<caption style="caption-side:bottom;text-align:left;opacity:0.7;white-space:nowrap">'
                f"{caption}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")


def _td(value: str | None, numeric: bool) -> str:
    if value is None:
        return "<td><i>NULL</i></td>"
    return f'<td style="text-align:right">{esc(value)}</td>' if numeric else f"<td>{esc(value)}</td>"


def _clamp_page_size(page_size: int) -> int:
    return min(max(1, int(page_size)), MAX_PAGE_SIZE)


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
