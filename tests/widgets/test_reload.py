"""A saved notebook reopened after its kernel is gone still shows every %%e6sql result, in JupyterLab 4 and Notebook 7.

The run: execute the cells, save, shut the kernel down (the widget models die with it), open the saved
file in a new page at 800 px, and read what a user sees: the summary line, the first page as a table, the
plan's headline, and no "Error displaying widget: model not found". nbconvert's HTML of the same file
must hold the table too. One ``jupyter notebook`` server serves both UIs.
"""
from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbconvert import HTMLExporter
from playwright.sync_api import expect

from lab import Lab, kernel_env, running_lab

pytestmark = [pytest.mark.browser, pytest.mark.slow]

IMG = (Path(__file__).resolve().parents[2] / "docs" / "img" if os.environ.get("E6MAGIC_SCREENSHOTS") == "1"
       else Path(tempfile.gettempdir()) / "e6magic-screenshots")
CELLS = ["%load_ext e6magic\n%config E6Magic.display_limit = 20",
         "%%e6sql\nSELECT i AS id, 'row ' || i AS label FROM range(100) t(i)",
         "%%e6sql --explain\nSELECT i % 10 AS g, count(*) AS n FROM range(300000) t(i) GROUP BY g",
         "%%e6sql --limit 100\nSELECT i FROM range(100000) t(i)",
         "%%e6sql\nSELECT 1 AS one;\nSELECT i, i * 2 AS twice FROM range(5) t(i)"]
# the status lines of cells 1, 3 and 4 (without their times and query ids)
LINES = {1: ["100 rows · 2 columns"], 3: ["100 rows · 1 column"], 4: ["1 row · 1 column", "5 rows · 2 columns"]}
DEAD = ("model not found", "Error displaying widget", "Loading widget")


@pytest.fixture(scope="module")
def server(engine, tmp_path_factory) -> Iterator[Lab]:
    env = kernel_env(engine, tmp_path_factory.mktemp("profiles"), "reload@example.com")
    with running_lab(env, app="notebook") as started:
        yield started


def run_all(page, n: int) -> None:
    for i in range(n):
        Lab.run_cell(page, i)
        Lab.wait_cell_done(page, i)


def assert_status_lines(page) -> None:
    for cell, want in LINES.items():
        Lab.cell(page, cell).scroll_into_view_if_needed()  # JupyterLab 4 leaves cells out of view undrawn
        lines = Lab.cell(page, cell).locator(".e6-status")
        expect(lines).to_have_count(len(want))
        got = [re.sub(r" · \d[\d.]* m?s · query \S+ copy id$", "", t) for t in lines.all_inner_texts()]
        assert got == want, got
        assert all(re.search(r" · \d[\d.]* m?s · query [0-9a-f]{4}…[0-9a-f]{3} copy id$", t)
                   for t in lines.all_inner_texts())


def assert_no_dead_widget(page) -> None:
    for i in range(len(CELLS)):
        Lab.cell(page, i).scroll_into_view_if_needed()  # a cell out of view is not drawn: its text is empty
        text = Lab.cell_text(page, i)  # what shows: hidden elements are left out
        assert not [d for d in DEAD if d in text], text


@pytest.mark.parametrize(("ui", "theme"), [("lab", "light"), ("notebook", "dark"), ("lab", "dark")])
def test_a_reopened_notebook_without_its_kernel_shows_status_table_and_plan(server, ui, theme):
    name = f"reload-{ui}-{theme}.ipynb"
    page = server.open_notebook(name, CELLS, ui=ui)
    run_all(page, len(CELLS))
    # live: the widget grid shows, its static twin is hidden, the status line is its final line
    expect(Lab.cell(page, 1).locator(".e6-widget.e6-grid tbody tr")).to_have_count(20)
    assert not page.locator(".e6-twin").first.is_visible()
    expect(page.locator(".e6-status[data-state='finished']")).to_have_count(5)
    assert_status_lines(page)
    expect(page.locator(".e6-cancel")).to_have_count(0)  # Cancel only while a query runs
    Lab.save_and_shut_down(page)
    page.close()

    page = server.reopen(name, ui=ui, viewport={"width": 800, "height": 900}, color_scheme=theme)
    Lab.set_theme(page, theme == "dark")
    grid = Lab.cell(page, 1)
    table = grid.locator(".e6-twin .e6-grid-static table")
    expect(table).to_be_visible(timeout=30000)
    expect(table.locator("tbody tr")).to_have_count(20)
    assert table.locator("tbody tr").first.locator("td").all_inner_texts() == ["0", "row 0"]
    assert table.locator("thead th").all_inner_texts()[0].startswith("id")
    assert_status_lines(page)
    expect(Lab.cell(page, 2).locator(".e6-plan-static")).to_contain_text("plan: ")
    assert_no_dead_widget(page)
    page.wait_for_timeout(3000)  # "Loading widget..." turns into "model not found" after a while: neither shows
    assert_no_dead_widget(page)
    # the dead widget outputs take no room either (an empty box would still show as a gap)
    dead_boxes = page.locator(".jp-OutputArea-output.jupyter-widgets:visible")
    assert dead_boxes.count() == 0, dead_boxes.all_inner_texts()
    IMG.mkdir(parents=True, exist_ok=True)
    Lab.cell(page, 3).screenshot(path=str(IMG / f"reload-limit-{ui}-{theme}.png"))  # --limit 100: "100 rows"
    Lab.cell(page, 1).scroll_into_view_if_needed()
    page.evaluate("() => document.querySelectorAll('.jp-Notebook .jp-Cell')[1].scrollIntoView({block: 'start'})")
    page.screenshot(path=str(IMG / f"reload-{ui}-{theme}.png"))  # the summary line and the first page's table

    # a notebook from someone else is untrusted: JupyterLab sanitizes its HTML outputs
    nb = nbformat.read(server.root / name, as_version=4)
    nb.metadata["e6-test"] = "edited elsewhere"
    nbformat.write(nb, server.root / f"untrusted-{name}")
    other = server.reopen(f"untrusted-{name}", ui=ui, viewport={"width": 800, "height": 900})
    expect(Lab.cell(other, 1).locator(".e6-grid-static tbody tr")).to_have_count(20, timeout=30000)
    other.wait_for_timeout(3000)
    assert_no_dead_widget(other)

    html, _ = HTMLExporter().from_filename(str(server.root / name))
    assert "<td>row 0</td>" in html and "<td>row 19</td>" in html and "100 rows · 2 columns" in html
    assert "plan: " in html
