"""QuickChart's series from a real result (local engine), checked against DuckDB; bad choices stay in the widget."""
from __future__ import annotations

import pytest

from e6magic.widgets import QuickChart, ResultGrid
from e6magic.widgets._chart import MAX_POINTS


@pytest.fixture
def orders(conn):
    cur = conn.cursor()
    cur.execute("SELECT * FROM demo.main.orders")
    table = cur.fetch_arrow()
    cur.close()
    return table


def test_bar_sums_y_per_x_like_duckdb(orders, demo):
    chart = QuickChart(orders, kind="bar", x="status", y="quantity")
    expected = demo.sql("SELECT coalesce(status, 'NULL'), sum(quantity) s FROM demo.main.orders GROUP BY 1 "
                        "ORDER BY s DESC").fetchall()
    got = sorted(zip(chart.data["labels"], chart.data["values"], strict=True), key=lambda p: -p[1])
    assert sorted(got) == sorted((k, float(v)) for k, v in expected) and chart.error == ""
    chart.y = ""  # the row count
    assert dict(zip(chart.data["labels"], chart.data["values"], strict=True))["shipped"] == 250_000


def test_histogram_counts_every_row(orders):
    chart = QuickChart(orders, kind="histogram", x="amount")
    assert sum(chart.data["bins"]) == orders.num_rows and chart.data["lo"] == 0.0


def test_line_and_scatter_are_sampled_and_sorted(orders):
    chart = QuickChart(orders, kind="line", x="ordered_at", y="amount")
    assert len(chart.data["xs"]) == MAX_POINTS and chart.data["xs"] == sorted(chart.data["xs"]) and chart.data["time"]
    chart.kind = "scatter"
    assert len(chart.data["ys"]) == MAX_POINTS


def test_a_grid_is_charted_as_filtered(orders, demo):
    grid = ResultGrid(orders)
    grid.filter_by({"status": "=placed"})
    chart = QuickChart(grid, kind="bar", x="status")
    assert chart.data["labels"] == ["placed"] and chart.data["values"] == [200_000.0]
    grid.close()


@pytest.mark.parametrize(("kind", "x", "y", "error"), [
    ("pie", "status", "", "no chart kind 'pie': one of bar, line, histogram, scatter"),
    ("bar", "nope", "", "no column named 'nope'"),
    ("line", "amount", "", "a line chart needs a y column"),
])
def test_bad_choices_are_one_line_errors(orders, kind, x, y, error):
    chart = QuickChart(orders, kind=kind, x=x, y=y)
    assert chart.error == error and chart.data == {}


def test_the_grids_chart_button_charts_the_filtered_rows_beside_it(orders, frontend):
    grid = ResultGrid(orders, page_size=20)
    frontend.send(grid, {"kind": "chart"})
    grid.wait_explored()
    assert isinstance(grid.chart, QuickChart) and grid.chart.x == "order_id"
    grid.chart.x = "status"
    grid.filter_by({"status": "=placed"})
    assert grid.chart.data["labels"] == ["placed"] and grid.chart.data["values"] == [200_000.0]
    frontend.send(grid, {"kind": "chart"})  # the button again closes it
    grid.wait_explored()
    assert grid.chart is None
    grid.close()
