"""The widgets in a real JupyterLab in headless Chromium: cancel a running query, page and sort, plans, schema."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from lab import Lab, running_lab

pytestmark = [pytest.mark.browser, pytest.mark.slow]

IMG = Path(__file__).resolve().parents[2] / "docs" / "img"

GRID_SQL = ("SELECT i AS id, CASE WHEN i % 1000 = 0 THEN NULL ELSE (i * 7919) % 100003 END AS k, "
            "'row ' || i AS label FROM range(1000000) t(i)")

PLAN = {"total_query_time": 120, "parsingTime": 4, "executionQueueingTime": 6,
        "root": {"name": "Projection", "time": 100, "rows": 10, "children": [
            {"name": "HashAggregate", "time": 90, "rows": 10, "children": [
                {"name": "Filter", "time": 70, "rows": 5000, "children": [
                    {"name": "TableScan orders", "time": 60, "rows": 1000000, "predicate": "o_total > 10"}]},
                {"name": "TableScan customers", "time": 15, "rows": 100}]}]}}


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with running_lab() as started:
        yield started
    # widget ESM that failed to load or render shows up here, not as a missing element later
    assert not [e for e in started.errors() if "e6" in e.lower() or "anywidget" in e.lower()], started.errors()


def shot(page, name: str, locator) -> None:
    IMG.mkdir(parents=True, exist_ok=True)
    locator.scroll_into_view_if_needed()
    page.screenshot(path=str(IMG / name))


def grid_cells(page, row: str) -> list[str]:
    return page.locator(f".e6-grid tbody tr:{row} td").all_inner_texts()


def test_grid_pages_to_the_end_and_sorts_the_whole_result(lab):
    page = lab.open_notebook("grid.ipynb", [
        f"import duckdb\nfrom e6magic.widgets import ResultGrid\n"
        f"grid = ResultGrid(duckdb.sql({GRID_SQL!r}).to_arrow_table(), page_size=20)\ngrid",
    ])
    Lab.run_cell(page, 0)
    grid = page.locator(".e6-grid")
    grid.wait_for(state="visible", timeout=60000)
    info = page.locator(".e6-grid-info")
    assert "of 1,000,000 rows · 3 columns" in info.inner_text()
    assert grid_cells(page, "first-child")[:2] == ["1", "0"]

    page.locator(".e6-page-last").click()
    page.wait_for_function("document.querySelector('.e6-grid-info').textContent.startsWith('rows 999,981–1,000,000')")
    assert grid_cells(page, "last-child")[:3] == ["1000000", "999999", str(999999 * 7919 % 100003)]
    assert page.locator(".e6-grid tbody tr").count() == 20  # the page holds one page, not the result

    con = duckdb.connect()
    ordered = f"SELECT id, k FROM ({GRID_SQL}) ORDER BY k {{}} NULLS LAST, id"
    first_asc, last_asc = con.sql(ordered.format("ASC")).fetchall()[0::999999]
    first_desc = con.sql(ordered.format("DESC") + " LIMIT 1").fetchall()[0]

    page.locator(".e6-grid th[data-column='k']").click()
    page.locator(".e6-grid th.e6-sorted-asc[data-column='k']").wait_for()
    page.wait_for_function("document.querySelector('.e6-page-input').value === '1'")
    assert grid_cells(page, "first-child")[1:3] == [str(first_asc[0]), str(first_asc[1])]
    page.locator(".e6-page-last").click()
    page.wait_for_function("document.querySelector('.e6-grid-info').textContent.startsWith('rows 999,981')")
    assert grid_cells(page, "last-child")[1:3] == [str(last_asc[0]), "NULL"]  # nulls last, over all 1M rows
    assert last_asc[1] is None

    page.locator(".e6-grid th[data-column='k']").click()
    page.locator(".e6-grid th.e6-sorted-desc[data-column='k']").wait_for()
    assert grid_cells(page, "first-child")[1:3] == [str(first_desc[0]), str(first_desc[1])]
    shot(page, "grid.png", grid)


def test_plan_expands_down_to_the_slowest_operator(lab):
    page = lab.open_notebook("plan.ipynb", [
        f"from e6magic.widgets import PlanView\nPlanView({json.dumps(PLAN)!r})",
    ])
    Lab.run_cell(page, 0)
    plan = page.locator(".e6-plan")
    plan.wait_for(state="visible", timeout=60000)
    summary = page.locator(".e6-plan-summary").inner_text()
    assert "parse 4.0 ms" in summary and "queue 6.0 ms" in summary and "execution 110.0 ms" in summary
    assert page.locator(".e6-slowest").count() == 0  # deeper than the levels shown at first
    for _ in range(5):  # open the collapsed nodes along the highlighted path
        closed = page.locator(".e6-hot > .e6-plan-row > .e6-toggle[aria-expanded='false']")
        if page.locator(".e6-slowest").count() or not closed.count():
            break
        closed.first.click()
    slowest = page.locator(".e6-slowest")
    assert slowest.get_attribute("data-name") == "TableScan orders"
    assert "60.0 ms" in slowest.locator(".e6-plan-row").inner_text()
    assert "60.0%" in slowest.locator(".e6-plan-pct").first.inner_text()
    slowest.locator(".e6-toggle").first.click()
    page.locator(".e6-slowest .e6-plan-details").wait_for()
    assert "predicate: o_total > 10" in page.locator(".e6-slowest .e6-plan-details").inner_text()
    shot(page, "plan.png", plan)
