"""The grid's mechanics where test_browser.py does not look: Notebook 7 and JupyterLab in the dark theme, 800 px wide.

One ``jupyter notebook`` server for the module (it serves Notebook 7 and, under /lab, JupyterLab) and one page per
UI; each page runs one windowed 100,000-row result and one single-page result, then checks what a user does with
them: Enter in the page box, column widths that hold across pages, keyboard sort with aria-sort, copy a row and a
cell, a chosen page size in one scroll area, the note that other pages re-run on the engine, no pager for one page,
the tooltip and expander of cut text, and text that stays readable on the dark background.
"""
from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from lab import Lab, notebook7_for, wait_cancelled_on_engine
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

IMG = (Path(__file__).resolve().parents[2] / "docs" / "img" if os.environ.get("E6MAGIC_SCREENSHOTS") == "1"
       else Path(tempfile.gettempdir()) / "e6magic-screenshots")
# more than 1 MB, so with grid_keep_mb = 1 every other page and every sort is a query on the engine; the label
# grows from 'r' to 'r' + 59 x's every 1,500 rows, so later pages hold wider text than the first
BIG = ("SELECT i AS id, 'r' || repeat('x', ((i % 1500) // 25)::INTEGER) AS label, i * 1000 AS n "
       "FROM range(100000) t(i)")
SMALL = "SELECT i AS k, repeat('long text ', 20) AS t FROM range(5) t(i)"
SETUP = "%load_ext e6magic\n%config E6Magic.display_limit = 20\n%config E6Magic.grid_keep_mb = 1"
# the contrast a reader needs for small text (WCAG AA is 4.5; 3 is the floor for muted and large text)
MIN_CONTRAST = 3.0
CONTRAST_JS = """el => {
  const parse = s => { const v = (s.match(/[\\d.]+/g) || []).map(Number); return v.length === 3 ? [...v, 1] : v; };
  const lum = v => { const f = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
                     return 0.2126 * f(v[0]) + 0.7152 * f(v[1]) + 0.0722 * f(v[2]); };
  let bg = [255, 255, 255, 1];
  for (let e = el; e; e = e.parentElement) {
    const v = parse(getComputedStyle(e).backgroundColor);
    if (v.length === 4 && v[3] >= 0.5) { bg = v; break; }
  }
  const fg = lum(parse(getComputedStyle(el).color)), back = lum(bg);
  return {contrast: (Math.max(fg, back) + 0.05) / (Math.min(fg, back) + 0.05), background: back};
}"""


@pytest.fixture(scope="module")
def server(engine, tmp_path_factory) -> Iterator[Lab]:
    with notebook7_for(engine, tmp_path_factory.mktemp("profiles"), "themes@example.com") as started:
        yield started


def header_widths(grid) -> list[float]:
    return grid.locator("thead tr:first-child th").evaluate_all(
        "ths => ths.map(th => Math.round(th.getBoundingClientRect().width))")


def cells(grid, row: str) -> list[str]:
    return grid.locator(f"tbody tr:{row} td").all_inner_texts()


def assert_readable(locator, dark: bool) -> None:
    seen = locator.evaluate(CONTRAST_JS)
    assert seen["contrast"] >= MIN_CONTRAST, (locator, seen)
    assert (seen["background"] < 0.2) if dark else (seen["background"] > 0.6), ("follows the theme", locator, seen)


@pytest.mark.parametrize("ui", ["notebook", "lab"])
def test_grid_mechanics_in_the_dark_at_800_px(server, ui):
    page = server.open_notebook(f"dark-{ui}.ipynb", [SETUP, f"%%e6sql\n{BIG}", f"%%e6sql\n{SMALL}"], ui=ui)
    page.set_viewport_size({"width": 800, "height": 800})
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    Lab.set_theme(page, dark=True)
    for i in range(3):
        Lab.run_cell(page, i)
        Lab.wait_cell_done(page, i)
    big = Lab.cell(page, 1).locator(".e6-grid")
    info = big.locator(".e6-grid-info")
    expect(info).to_contain_text("rows 1–20 of 100,000 rows · 3 columns", timeout=60000)
    expect(info).to_contain_text("other pages and sorts read from the engine")  # the re-run note
    widths = header_widths(big)

    box = big.locator(".e6-page-input")
    box.fill("7")
    box.press("Enter")
    expect(info).to_contain_text("rows 121–140 of")
    big.locator(".e6-page-last").click()  # wider labels than the first page's, cut at its width
    expect(info).to_contain_text("rows 99,981–100,000 of")
    later = header_widths(big)
    assert later[2] == widths[2] and all(b >= a for a, b in zip(widths, later)), (widths, later)

    header = big.locator("th[data-column='n']")
    expect(header).to_have_attribute("aria-sort", "none")
    header.focus()
    page.keyboard.press("Enter")
    expect(big.locator("th[data-column='n']")).to_have_attribute("aria-sort", "ascending")
    page.keyboard.press("Enter")
    expect(big.locator("th[data-column='n']")).to_have_attribute("aria-sort", "descending")
    expect(box).to_have_value("1")
    assert cells(big, "first-child")[1:4:2] == ["99,999", "99,999,000"]

    big.locator("tbody tr:first-child td.e6-rownum").focus()  # the rows' one Tab stop: Enter copies the row
    page.keyboard.press("Enter")
    expect(big.locator("tbody tr:first-child td.e6-rownum")).to_have_text("copied")
    label = "r" + "x" * ((99999 % 1500) // 25)
    assert page.evaluate("navigator.clipboard.readText()") == f"99999\t{label}\t99999000\n"
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Control+c")
    assert page.evaluate("navigator.clipboard.readText()") == "99999000"  # the focused cell alone

    IMG.mkdir(parents=True, exist_ok=True)
    big.screenshot(path=str(IMG / f"grid-dark-{ui}.png"))  # sorted by n, descending, from the keyboard

    big.locator(".e6-page-size").select_option("100")
    expect(info).to_contain_text("rows 1–100 of 100,000 rows")
    assert big.locator("tbody tr").count() == 100
    scroll = big.locator(".e6-grid-scroll")  # one scroll area: the page scrolls, the grid only sideways
    assert scroll.evaluate("s => s.scrollHeight <= s.clientHeight + 1 && getComputedStyle(s).overflowY !== 'auto'")
    for part in (big.locator("tbody tr:first-child td").nth(1), header, info, box, big.locator(".e6-page-size")):
        assert_readable(part, dark=True)

    small = Lab.cell(page, 2).locator(".e6-grid")
    expect(small.locator(".e6-grid-info")).to_contain_text("rows 1–5 of 5 rows · 2 columns")
    expect(small.locator(".e6-pager")).to_be_hidden()  # one page: no pager
    cut = small.locator("tbody tr:first-child td").nth(2)
    assert cut.get_attribute("title") == "long text " * 20  # the tooltip holds the whole text
    assert cut.evaluate("td => td.scrollWidth > td.clientWidth")
    cut.click()
    expect(cut).to_have_class(re.compile("e6-expanded"))
    assert cut.evaluate("td => td.scrollWidth <= td.clientWidth")
    assert_readable(cut, dark=True)
    cut.press("Enter")
    expect(cut).not_to_have_class(re.compile("e6-expanded"))


LONG_SQL = "SELECT count(*) FROM range(10000000000) t(i) WHERE i % 7 = 3"  # a minute of work: the stop ends it


@pytest.mark.parametrize("ui", ["notebook", "lab"])
def test_limit_count_error_and_stop_button_in_the_dark(server, engine, ui):
    cells = [SETUP, "%%e6sql --limit 100\nSELECT i FROM range(100000) t(i)",
             "%%e6sql\nSELECT 1 FROM range(3) WHERE select", f"%%e6sql\n{LONG_SQL}"]
    page = server.open_notebook(f"dark-lines-{ui}.ipynb", cells, ui=ui)
    page.set_viewport_size({"width": 800, "height": 800})
    Lab.set_theme(page, dark=True)
    for i in range(3):
        Lab.run_cell(page, i)
        Lab.wait_cell_done(page, i)
    status = Lab.cell(page, 1).locator(".e6-status")
    expect(status).to_contain_text("100 rows · 1 column")  # what --limit kept, not the batch it came in
    assert_readable(status, dark=True)

    text = Lab.cell_text(page, 2)
    assert text.count('syntax error at or near "select"') == 1 and text.count("query id") == 1
    lines = text.splitlines()
    where = next(line for line in lines if line.startswith("LINE 1:"))
    caret = lines[lines.index(where) + 1]
    assert caret.strip() == "^^^^^^" and caret.index("^") == where.index("select")
    assert Lab.cell(page, 2).locator(".e6-status").count() == 0
    assert_readable(Lab.cell(page, 2).locator(".jp-OutputArea-output pre").last, dark=True)
    IMG.mkdir(parents=True, exist_ok=True)
    Lab.cell(page, 2).screenshot(path=str(IMG / f"error-dark-{ui}.png"))

    Lab.run_cell(page, 3)
    running = Lab.cell(page, 3).locator(".e6-status")
    expect(running).to_contain_text("running", timeout=30000)
    qid = running.get_attribute("data-query-id")
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:interrupt-kernel')")  # the stop button
    Lab.wait_cell_done(page, 3, timeout=30)
    expect(running).to_have_attribute("data-state", "cancelled")
    shown = [line for line in Lab.cell_text(page, 3).splitlines() if line.strip()]
    assert len(shown) == 1 and re.fullmatch(r"cancelled after [\d.]+ m?s · query \S+ copy id", shown[0]), shown
    assert_readable(running, dark=True)
    wait_cancelled_on_engine(engine, qid)
