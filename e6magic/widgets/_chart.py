"""QuickChart: a bar, line, histogram or scatter chart of a result's rows, drawn as plain SVG (no network, no build)."""
from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import traitlets as t

from e6magic.widgets._base import STATIC, E6Widget, esc
from e6magic.widgets._profile import as_float, kind_of, text_of

KINDS = ("bar", "line", "histogram", "scatter")
MAX_BARS = 30
MAX_POINTS = 2000
BINS = 20


class QuickChart(E6Widget):
    """Chart the rows of a result: ``QuickChart(_e6.grid)``, ``QuickChart(df)`` or ``QuickChart(table)``.

    ``bar``: the sum of ``y`` (or the row count when ``y`` is empty) per value of ``x``, the largest
    ``MAX_BARS``; ``line`` and ``scatter``: ``y`` against ``x`` (at most ``MAX_POINTS`` points, evenly
    sampled, a line sorted by ``x``); ``histogram``: ``x`` in ``BINS`` bins. A grid is charted as it is
    shown: after its filter, and only the rows it keeps when the rest is read from the engine.
    The view exports the chart as SVG or PNG.
    """

    _esm = STATIC / "chart.js"

    kind = t.Unicode("bar").tag(sync=True)
    x = t.Unicode("").tag(sync=True)
    y = t.Unicode("").tag(sync=True)
    columns: t.List[Any] = t.List().tag(sync=True)  # [{"name", "kind"}]
    data = t.Dict().tag(sync=True)      # what the view draws (see _series)
    note = t.Unicode("").tag(sync=True)
    error = t.Unicode("").tag(sync=True)

    def __init__(self, source: Any, kind: str = "bar", x: str = "", y: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._source = source
        table = self._table()
        self.columns = [{"name": f.name, "kind": kind_of(f.type)} for f in table.schema]
        names = table.schema.names
        self.x = x or (names[0] if names else "")
        self.y = y
        self.kind = kind
        self.observe(lambda _c: self.redraw(), names=["kind", "x", "y"])
        self.redraw()

    def redraw(self) -> None:
        table = self._table()
        try:
            if self.kind not in KINDS:
                raise ValueError(f"no chart kind {self.kind!r}: one of {', '.join(KINDS)}")
            self.data, self.error = _series(table, self.kind, self.x, self.y), ""
        except (ValueError, KeyError, pa.ArrowException) as exc:
            self.data, self.error = {}, str(exc).splitlines()[0][:300]
        kept = getattr(self._source, "kept_rows", -1)
        self.note = f"the {table.num_rows:,} rows kept in the kernel" if kept >= 0 else f"{table.num_rows:,} rows"

    def _table(self) -> pa.Table:
        source = self._source
        if isinstance(source, pa.Table):
            return source
        if hasattr(source, "table") and isinstance(source.table, pa.Table):
            return source.table
        if type(source).__module__.startswith("pandas"):
            return pa.Table.from_pandas(source, preserve_index=False)
        raise TypeError(f"QuickChart needs a ResultGrid, a pyarrow Table or a DataFrame, not {type(source).__name__}")

    def fallback_text(self) -> str:
        return f"chart: {self.kind} of {self.y or 'rows'} by {self.x} ({self.note})"

    def fallback_html(self) -> str:
        return f'<div class="e6-chart"><p>{esc(self.fallback_text())}</p></div>'


def _series(table: pa.Table, kind: str, x: str, y: str) -> dict[str, Any]:
    if x not in table.schema.names:
        raise ValueError(f"no column named {x!r}")
    if y and y not in table.schema.names:
        raise ValueError(f"no column named {y!r}")
    if kind == "histogram":
        values = as_float(table.column(x))
        if not len(values):
            return {"kind": kind, "bins": [], "lo": None, "hi": None}
        counts, edges = np.histogram(values, bins=BINS)
        return {"kind": kind, "bins": [int(c) for c in counts], "lo": float(edges[0]), "hi": float(edges[-1]),
                "time": kind_of(table.schema.field(x).type) == "time"}
    if kind == "bar":
        keys = table.column(x)
        if y:
            grouped = pa.table({"k": keys, "v": pc.cast(table.column(y), pa.float64())}).group_by("k").aggregate(
                [("v", "sum")])
            value = "v_sum"
        else:
            grouped = pa.table({"k": keys}).group_by("k").aggregate([("k", "count")])
            value = "k_count"
        grouped = grouped.sort_by([(value, "descending")]).slice(0, MAX_BARS)
        return {"kind": kind, "labels": [text_of(v) if v is not None else "NULL" for v in grouped["k"].to_pylist()],
                "values": [float(v or 0) for v in grouped[value].to_pylist()], "y": y or "rows"}
    if not y:
        raise ValueError(f"a {kind} chart needs a y column")
    pair = pa.table({"x": table.column(x), "y": table.column(y)}).drop_null()
    if kind == "line":
        pair = pair.sort_by("x")
    if pair.num_rows > MAX_POINTS:
        pair = pair.take(np.linspace(0, pair.num_rows - 1, MAX_POINTS).astype(np.int64))
    return {"kind": kind, "xs": as_float(pair.column("x")).tolist(), "ys": as_float(pair.column("y")).tolist(),
            "time": kind_of(table.schema.field(x).type) == "time"}
