"""The result grid is shown at the first batch and grows while the rest arrives (kernel-side, real engine)."""
from __future__ import annotations

import time

import duckdb
import pytest
from IPython.core.error import UsageError

import e6magic.widgets
from e6magic.client import QueryCancelled

ROWS = 2_000_000  # about a second over loopback: several 100 ms ticks of the cell
SQL = f"SELECT range AS i, range % 7 AS k FROM range({ROWS})"
LONG_RESULT = "SELECT range AS i FROM range(20000000)"  # seconds of streaming: the cancel lands mid-way


@pytest.fixture
def kernel_ip(ip, monkeypatch):
    """The shell as a kernel with widgets on (comms are inert outside a frontend); grids are recorded."""
    monkeypatch.setattr(ip, "kernel", object(), raising=False)
    ip.run_cell("%config E6Magic.widgets = True")
    grids = []

    class RecordedGrid(e6magic.widgets.ResultGrid):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.seen = []  # (row_count, complete, query state) after each append
            self.on_append = None
            grids.append(self)

        def append(self, batch):
            super().append(batch)
            self.seen.append((self.row_count, self.complete, ip.user_ns["_e6"].state))
            if self.on_append is not None:
                self.on_append(self)

    monkeypatch.setattr(e6magic.widgets, "ResultGrid", RecordedGrid)
    ip.grids = grids
    return ip


def test_grid_grows_while_rows_arrive_and_ends_complete(kernel_ip):
    kernel_ip.run_cell(f"%%e6sql\n{SQL}")
    [grid] = kernel_ip.grids
    counts = [count for count, _, _ in grid.seen]
    assert len(counts) > 2, "the result came in one piece: nothing was streamed"
    assert counts == sorted(counts) and counts[-1] == ROWS
    assert grid.seen[0][1] is False and grid.seen[0][0] < ROWS  # shown before the last rows arrived
    assert grid.complete and grid.row_count == ROWS
    last = kernel_ip.user_ns["_e6"]
    assert last.grid is grid
    expected = duckdb.sql(SQL).df()
    assert last.to_pandas().equals(expected)
    # one copy of the data: the result table and the grid hold the very same buffers
    def data_addresses(table):
        return {b.column(0).buffers()[1].address for b in table.to_batches()}

    assert data_addresses(last.table) <= data_addresses(grid.table)


def test_limit_stops_the_grid_at_the_limit(kernel_ip):
    kernel_ip.run_cell(f"%%e6sql --limit 5000\n{SQL}")
    [grid] = kernel_ip.grids
    assert grid.complete and grid.row_count == 5000
    assert kernel_ip.user_ns["_e6"].row_count == 5000


def test_empty_result_still_shows_a_complete_grid(kernel_ip):
    kernel_ip.run_cell("%%e6sql\nSELECT range AS i FROM range(10) WHERE range > 100")
    [grid] = kernel_ip.grids
    assert grid.complete and grid.row_count == 0
    assert [c["name"] for c in grid.columns] == ["i"]


def test_assigned_result_shows_no_grid(kernel_ip):
    kernel_ip.run_cell(f"%%e6sql df <<\n{SQL}")
    assert kernel_ip.grids == []
    assert len(kernel_ip.user_ns["df"]) == ROWS


def test_cancelled_query_discards_the_grid_and_fails_the_cell(kernel_ip, capsys):
    def cancel_after_first(grid):
        if len(grid.seen) == 1:
            kernel_ip.user_ns["_e6"].cancel()

    real_init = e6magic.widgets.ResultGrid.__init__

    def init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        self.on_append = cancel_after_first

    e6magic.widgets.ResultGrid.__init__ = init
    try:
        with pytest.raises((QueryCancelled, UsageError)):
            kernel_ip.run_cell(f"%%e6sql\n{LONG_RESULT}")
    finally:
        e6magic.widgets.ResultGrid.__init__ = real_init
    [grid] = kernel_ip.grids
    assert grid.row_count > 0 and not grid.complete
    assert grid.comm is None  # the widget is closed: no partial result stays on screen
    last = kernel_ip.user_ns["_e6"]
    assert last.grid is None and last.table is None
    assert "rows read, discarded" in capsys.readouterr().out  # the status line, in the one cancel wording


def test_result_too_big_to_keep_shows_a_window_and_reads_other_pages_from_the_engine(kernel_ip, engine):
    kernel_ip.run_cell("%config E6Magic.grid_keep_mb = 1")  # 2M rows x 2 int64 = 32 MB: far over
    kernel_ip.run_cell(f"%%e6sql\n{SQL}").raise_error()
    [grid] = kernel_ip.grids
    last = kernel_ip.user_ns["_e6"]
    assert last.state == "finished" and last.row_count == ROWS and not last.complete
    assert grid.row_count == ROWS and grid.complete and 10_000 <= grid.kept_rows < ROWS // 10
    assert last.table.num_rows == grid.kept_rows
    assert last.handle.rows_fetched < ROWS // 4  # the rest was never sent over
    grid.goto(-1)
    assert [int(r[0]) for r in grid.rows] == list(range(ROWS - 50, ROWS))
    grid.sort_by("k", descending=True)
    assert {r[1] for r in grid.rows} == {"6"} and grid.sorted_rows == ROWS
    with pytest.raises(RuntimeError, match=r"returned 2,000,000 rows.*Assign it"):
        last.to_pandas()
    # the engine no longer holds the whole result (the embedded engine would hold it in this kernel), and the
    # plan was kept before it went
    assert last.query_id not in engine.queries()
    assert last.plan()["planner"]
    kernel_ip.run_cell(f"%%e6sql df <<\n{SQL}").raise_error()  # assigned: kept whole, whatever its size
    assert len(kernel_ip.user_ns["df"]) == ROWS


def test_small_results_are_kept_whole_under_the_limit(kernel_ip):
    kernel_ip.run_cell("%config E6Magic.grid_keep_mb = 64")
    kernel_ip.run_cell(f"%%e6sql\n{SQL}").raise_error()
    [grid] = kernel_ip.grids
    assert grid.kept_rows == -1 and kernel_ip.user_ns["_e6"].complete


def test_without_widgets_a_result_too_big_to_keep_keeps_its_first_rows_and_says_how_many_there_are(ip, engine, capsys):
    """A terminal or a frontend without widgets prints the first rows: it no longer reads the whole result for them."""
    ip.run_cell("%config E6Magic.grid_keep_mb = 1")
    ip.run_cell(f"%%e6sql\n{SQL}").raise_error()
    last = ip.user_ns["_e6"]
    assert last.state == "finished" and last.row_count == ROWS and not last.complete
    assert 10_000 <= last.table.num_rows < ROWS // 10
    assert last.handle.rows_fetched < ROWS // 4  # the rest was never sent over
    assert "first 50 shown · 2,000,000 rows · 2 columns" in capsys.readouterr().out
    assert last.query_id not in engine.queries() and last.plan()["planner"]
    with pytest.raises(RuntimeError, match=r"returned 2,000,000 rows.*Assign it"):
        last.to_pandas()


def test_a_window_is_shown_even_when_the_engine_cannot_give_its_plan(ip, engine, monkeypatch):
    from e6magic.client import OperationalError
    from e6magic.client.cursor import Cursor

    def no_plan(self):
        raise OperationalError("engine 127.0.0.1 dropped the connection", query_id=self.query_id)

    monkeypatch.setattr(Cursor, "explain_analyse", no_plan)  # the one call the window adds; the rest is real
    ip.run_cell("%config E6Magic.grid_keep_mb = 1")
    ip.run_cell(f"%%e6sql\n{SQL}").raise_error()
    last = ip.user_ns["_e6"]
    assert last.state == "finished" and not last.complete and last.table.num_rows >= 10_000
    assert last.query_id not in engine.queries()
    with pytest.raises(RuntimeError, match="no longer kept on the engine"):
        last.plan()
